/// The registration form a country's law asks hotels to keep (`[arrivals] registration`):
/// which fields a guest is shown, in order, and when each is required. Requirements
/// depend on the guest (a citizen, a child, the primary guest), so they are asked of
/// a guest's details, never fixed per field.
///
/// - `es`: RD 933/2021 (SES.HOSPEDAJES): everyone; a document for adults, the support
///   number of a Spanish DNI/NIE card, the second surname of Spanish citizens, a minor's
///   relationship, a phone or an email.
/// - `it`: Alloggiati Web: place of birth for all; a document for the primary guest.
/// - `de`: Meldeschein (BMG § 29–30): since 2025 not needed for German citizens.
/// - `pt`: boletim de alojamento (Lei 23/2007 art. 16, sent through SIBA): foreign guests only.
/// - `fr`: fiche individuelle de police (CESEDA R814-2): foreign guests from 15, with a
///   mobile phone and an email.
/// - `basic`: names and contact, nothing a law asks.
public struct RegistrationProfile: Sendable {
    public let name: String
    /// What the form shows, in order.
    public let fields: [RegistrationField]
    let rules: [RegistrationField: Condition]
    /// Groups of which at least one must be given (Spain: a phone or an email).
    let oneOf: [[RegistrationField]]
    /// Whether every companion registers too (Spain, Italy, Portugal, France), or only the
    /// primary guest (Germany's Meldeschein counts companions; `basic` asks nothing of them).
    public var registersEveryone = false

    /// When a field is required (the page explains it next to the field).
    public enum Condition: Sendable, Equatable {
        case always
        /// Unless the guest is a citizen of this country (whose own law exempts them).
        case foreigners(String)
        /// Foreigners of at least this age.
        case foreignersFrom(String, age: Int)
        /// From this age (a child has no document).
        case from(age: Int)
        /// Below this age.
        case below(age: Int)
        /// For citizens of this country only.
        case citizens(String)
        /// From this age, for these document types issued by this country (Spain's DNI and NIE cards).
        case document([String], issuedBy: String, fromAge: Int)
        case primaryGuest

        /// The fields this condition reads.
        var dependsOn: Set<RegistrationField> {
            switch self {
            case .always, .primaryGuest: []
            case .foreigners, .citizens: [.nationality]
            case .foreignersFrom: [.nationality, .dateOfBirth]
            case .from, .below: [.dateOfBirth]
            case .document: [.documentType, .documentIssuingCountry, .dateOfBirth]
            }
        }
    }

    /// When `field` is required; nil when it is optional or not asked.
    public func condition(of field: RegistrationField) -> Condition? { rules[field] }

    public enum Requirement: String, Sendable, CaseIterable {
        case required, optional, hidden
    }

    /// Whether `field` is asked of this guest. `primary`: the guest the booking is in the
    /// name of; `on`: the arrival day, for ages.
    public func requirement(of field: RegistrationField, for guest: GuestDetails, primary: Bool, on date: LocalDate) -> Requirement {
        guard fields.contains(field) else { return .hidden }
        guard let rule = rules[field] else { return .optional }
        let age = guest.age(on: date)
        let required: Bool = switch rule {
        case .always: true
        case .foreigners(let country): guest.nationality != country
        case .foreignersFrom(let country, let from): guest.nationality != country && (age ?? from) >= from
        case .from(let from): (age ?? from) >= from
        case .below(let below): age.map { $0 < below } ?? false
        case .citizens(let country): guest.nationality == country
        case .document(let types, let country, let from):
            (age ?? from) >= from && guest[.documentType].map(types.contains) == true && guest[.documentIssuingCountry] == country
        case .primaryGuest: primary
        }
        return required ? .required : .optional
    }

    /// The fields required of this guest that have no value, in form order; and each
    /// `oneOf` group with none given, as its first field.
    public func missing(in guest: GuestDetails, primary: Bool, on date: LocalDate) -> [RegistrationField] {
        var missing = fields.filter { guest[$0] == nil && requirement(of: $0, for: guest, primary: primary, on: date) == .required }
        for group in oneOf where group.allSatisfy({ guest[$0] == nil && fields.contains($0) }) {
            if let first = group.first, !missing.contains(first) { missing.append(first) }
        }
        return missing
    }

    /// Whether a field belongs to a "give at least one" group (the page says so).
    public func isOneOf(_ field: RegistrationField) -> Bool { oneOf.contains { $0.contains(field) } }

    /// The "give at least one" group `field` belongs to; empty when none.
    public func group(of field: RegistrationField) -> [RegistrationField] { oneOf.first { $0.contains(field) } ?? [] }

    /// This profile with the operator's changes: `required` always, `optional` never
    /// required, `hidden` not asked. Names cannot be hidden or made optional.
    public func overridden(_ changes: [RegistrationField: Requirement]) throws -> RegistrationProfile {
        var fields = fields
        var rules = rules
        for (field, requirement) in changes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            if [.firstName, .lastName].contains(field) && requirement != .required {
                throw RegistrationProfileError("\(field.rawValue) is always required: a registration needs a name")
            }
            // Hiding what a rule asks about would quietly change whom the law's fields are asked of.
            if requirement == .hidden, let dependent = rules.first(where: { $0.key != field && $0.value.dependsOn.contains(field) && changes[$0.key] == nil }) {
                throw RegistrationProfileError("\(field.rawValue) cannot be hidden in the \"\(name)\" profile: whether \(dependent.key.rawValue) is required depends on it")
            }
            switch requirement {
            case .hidden:
                fields.removeAll { $0 == field }
                rules[field] = nil
            case .optional, .required:
                if !fields.contains(field) { fields.append(field) }
                rules[field] = requirement == .required ? .always : nil
            }
        }
        // A group is moot once one of it is always required, and no group with one left.
        let oneOf = oneOf.map { $0.filter(fields.contains) }.filter { group in group.count > 1 && !group.contains { rules[$0] == .always } }
        var changed = RegistrationProfile(name: name, fields: fields, rules: rules, oneOf: oneOf)
        changed.registersEveryone = registersEveryone
        return changed
    }

    public static func named(_ name: String) -> RegistrationProfile? { all.first { $0.name == name } }
    public static var names: [String] { all.map(\.name) }

    static let all: [RegistrationProfile] = [basic, spain.everyone, italy.everyone, germany, portugal.everyone, france.everyone]

    private var everyone: RegistrationProfile {
        var profile = self
        profile.registersEveryone = true
        return profile
    }

    static let basic = RegistrationProfile(
        name: "basic", fields: [.firstName, .lastName, .email, .phone, .nationality],
        rules: [.firstName: .always, .lastName: .always], oneOf: [])

    static let spain = RegistrationProfile(
        name: "es",
        fields: [.firstName, .lastName, .secondSurname, .sex, .dateOfBirth, .nationality, .documentType, .documentNumber,
                 .documentSupportNumber, .documentIssuingCountry, .address, .city, .postalCode, .country, .email, .phone, .relationship],
        rules: [.firstName: .always, .lastName: .always, .secondSurname: .citizens("ES"), .sex: .always, .dateOfBirth: .always,
                .nationality: .always, .documentType: .from(age: 18), .documentNumber: .from(age: 18),
                .documentSupportNumber: .document(["national_id", "residence_permit"], issuedBy: "ES", fromAge: 18),
                .documentIssuingCountry: .from(age: 18), .address: .always, .city: .always, .postalCode: .always, .country: .always,
                .relationship: .below(age: 18)],
        oneOf: [[.phone, .email]])

    static let italy = RegistrationProfile(
        name: "it",
        fields: [.firstName, .lastName, .sex, .dateOfBirth, .placeOfBirth, .nationality, .documentType, .documentNumber,
                 .documentIssuingCountry, .email, .phone],
        rules: [.firstName: .always, .lastName: .always, .sex: .always, .dateOfBirth: .always, .placeOfBirth: .always,
                .nationality: .always, .documentType: .primaryGuest, .documentNumber: .primaryGuest, .documentIssuingCountry: .primaryGuest],
        oneOf: [])

    static let germany = RegistrationProfile(
        name: "de",
        fields: [.firstName, .lastName, .dateOfBirth, .nationality, .address, .city, .postalCode, .country, .documentType,
                 .documentNumber, .email, .phone],
        rules: [.firstName: .always, .lastName: .always, .nationality: .always, .dateOfBirth: .foreigners("DE"),
                .address: .foreigners("DE"), .city: .foreigners("DE"), .postalCode: .foreigners("DE"), .country: .foreigners("DE"),
                .documentType: .foreigners("DE"), .documentNumber: .foreigners("DE")],
        oneOf: [])

    static let portugal = RegistrationProfile(
        name: "pt",
        fields: [.firstName, .lastName, .dateOfBirth, .placeOfBirth, .nationality, .country, .documentType, .documentNumber,
                 .documentIssuingCountry, .email, .phone],
        rules: [.firstName: .always, .lastName: .always, .nationality: .always, .dateOfBirth: .foreigners("PT"),
                .placeOfBirth: .foreigners("PT"), .country: .foreigners("PT"), .documentType: .foreigners("PT"),
                .documentNumber: .foreigners("PT"), .documentIssuingCountry: .foreigners("PT")],
        oneOf: [])

    static let france = RegistrationProfile(
        name: "fr",
        fields: [.firstName, .lastName, .dateOfBirth, .placeOfBirth, .nationality, .address, .city, .postalCode, .country,
                 .email, .phone],
        rules: [.firstName: .always, .lastName: .always, .nationality: .always, .dateOfBirth: .foreignersFrom("FR", age: 15),
                .placeOfBirth: .foreignersFrom("FR", age: 15), .address: .foreignersFrom("FR", age: 15),
                .city: .foreignersFrom("FR", age: 15), .country: .foreignersFrom("FR", age: 15),
                .email: .foreignersFrom("FR", age: 15), .phone: .foreignersFrom("FR", age: 15)],
        oneOf: [])
}

public struct RegistrationProfileError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
