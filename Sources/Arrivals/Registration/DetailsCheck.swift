/// Checks what a guest typed into a registration form, field by field: a value is
/// kept only in its proper shape, and each refusal says why (the page puts it in
/// the guest's language next to the field).
public enum DetailsCheck {
    public enum Problem: String, Sendable, Equatable {
        case missing, tooLong = "too_long", invalid, notADate = "not_a_date", inFuture = "in_future", tooOld = "too_old"
        case unknownCountry = "unknown_country", notAnEmail = "not_an_email", notAPhone = "not_a_phone", notAChoice = "not_a_choice"
        /// One of a "phone or email" group is needed.
        case oneOfMissing = "one_of_missing"
    }

    public struct Result: Sendable, Equatable {
        /// The values as given (trimmed), the wrong ones included, so the form shows them again.
        public var details: GuestDetails
        public var problems: [RegistrationField: Problem]
        public var isValid: Bool { problems.isEmpty }
    }

    /// Checks `form` (field name → typed text) against `profile` for one guest.
    /// `today`: dates of birth after it are refused; `arrival`: ages are counted then.
    public static func check(_ form: [String: String], profile: RegistrationProfile, primary: Bool,
                             today: LocalDate, arrival: LocalDate) -> Result {
        var details = GuestDetails()
        var problems: [RegistrationField: Problem] = [:]
        for field in profile.fields {
            let text = normalized(form[field.rawValue] ?? "", kind: field.kind)
            details[field] = text
            if !text.isEmpty, let problem = problem(with: text, field: field, today: today) { problems[field] = problem }
        }
        // What is required is judged on the good values only: a date of birth in the future
        // says nothing of the guest's age.
        var valid = details
        for field in problems.keys { valid[field] = nil }
        for field in profile.missing(in: valid, primary: primary, on: arrival) where problems[field] == nil {
            problems[field] = .missing
            // Every field of a "phone or email" group carries its reason, so each is marked.
            for member in profile.group(of: field) where valid[member] == nil && (problems[member] == nil || member == field) {
                problems[member] = .oneOfMissing
            }
        }
        return Result(details: details, problems: problems)
    }

    /// Trimmed, inner runs of white space made one space; codes and countries upper-cased.
    static func normalized(_ text: String, kind: RegistrationField.Kind) -> String {
        let words = text.split(whereSeparator: { $0.isWhitespace })
        switch kind {
        case .country: return words.joined().uppercased()
        case .code: return words.joined(separator: " ").uppercased()
        default: return words.joined(separator: " ")
        }
    }

    static func problem(with text: String, field: RegistrationField, today: LocalDate) -> Problem? {
        if text.count > field.maxLength { return .tooLong }
        // No control characters anywhere (they have no place in a registration and break exports).
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) {
            return .invalid
        }
        switch field.kind {
        case .name:
            // A letter at least; digits and most symbols are not a name.
            guard text.unicodeScalars.contains(where: \.properties.isAlphabetic),
                  text.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || $0.properties.generalCategory == .nonspacingMark
                      || $0.properties.generalCategory == .spacingMark || " '’-.".unicodeScalars.contains($0) }) else { return .invalid }
        case .text:
            guard text.unicodeScalars.contains(where: { $0.properties.isAlphabetic || $0.properties.numericType != nil }) else { return .invalid }
        case .date:
            guard let date = LocalDate(text) else { return .notADate }
            if date > today { return .inFuture }
            if today.year - date.year > 125 { return .tooOld }
        case .country:
            guard Countries.isCode(text) else { return .unknownCountry }
        case .email:
            guard TextShapes.isEmail(text) else { return .notAnEmail }
        case .phone:
            guard TextShapes.isPhone(text) else { return .notAPhone }
        case .code:
            guard text.utf8.count >= 2, text.utf8.allSatisfy({ TextShapes.isLetter($0) || TextShapes.isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "/") }) else {
                return .invalid
            }
        case .choice(let choices):
            guard choices.contains(text) else { return .notAChoice }
        }
        return nil
    }
}
