import Foundation

/// A guest's signature under the hotel's terms: their typed name, when and from
/// where, and which text exactly (its version and the SHA-256 of what was shown).
/// Marketing consent is its own choice, never implied by signing (GDPR art. 7).
public struct TermsSignature: Sendable, Equatable {
    public var name: String
    public var signedAt: Date
    public var clientAddress: String
    public var userAgent: String
    /// The language the text was shown in.
    public var language: String
    public var termsVersion: String
    /// Lower-case hex.
    public var termsSHA256: String
    public var marketing: Bool

    public init(name: String, signedAt: Date, clientAddress: String, userAgent: String, language: String, termsVersion: String,
                termsSHA256: String, marketing: Bool) {
        self.name = name
        self.signedAt = signedAt
        self.clientAddress = clientAddress
        self.userAgent = userAgent
        self.language = language
        self.termsVersion = termsVersion
        self.termsSHA256 = termsSHA256
        self.marketing = marketing
    }

    /// Whether `typed` names the guest: every word of their first name and surname in it,
    /// without regard to case, accents, order or further names ("muller anna" and "Anna
    /// Maria Müller" name Anna Müller; "Anna" alone does not).
    public static func names(_ typed: String, guest: GuestDetails) -> Bool {
        // Control and direction-override characters have no place in a signature.
        guard !typed.unicodeScalars.contains(where: { [.control, .format].contains($0.properties.generalCategory) }) else { return false }
        let words = Set(ReservationLookup.words(typed))
        let first = ReservationLookup.words(guest[.firstName] ?? "")
        let last = ReservationLookup.words(guest[.lastName] ?? "")
        return !first.isEmpty && !last.isEmpty && words.isSuperset(of: first + last)
    }
}
