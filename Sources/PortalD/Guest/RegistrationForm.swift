import Arrivals
import HTTPServer

/// The site's registration profile as form fields in a guest's language: labels,
/// "required" or "optional" for this guest, why when it depends, the choices of a
/// list, and each refused value's reason.
struct RegistrationForm: Sendable {
    let profile: RegistrationProfile
    let pages: GuestPages

    /// A sent form checked against the profile, for the primary guest or a companion.
    func check(_ form: FormData, primary: Bool, today: LocalDate, arrival: LocalDate) -> DetailsCheck.Result {
        let values = Dictionary(form.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        return DetailsCheck.check(values, profile: profile, primary: primary, today: today, arrival: arrival)
    }

    /// What the booking already says of the guest, to start the form with.
    func prefill(from guest: Reservation.Guest?) -> GuestDetails {
        guard let guest else { return GuestDetails() }
        var details = GuestDetails()
        for (field, value) in [(RegistrationField.firstName, guest.firstName), (.lastName, guest.lastName), (.email, guest.email), (.phone, guest.phone)]
        where profile.fields.contains(field) {
            details[field] = value
        }
        return details
    }

    func views(details: GuestDetails, problems: [RegistrationField: DetailsCheck.Problem], primary: Bool, arrival: LocalDate,
               language: String) -> [FieldView] {
        let catalog = pages.catalog(language)
        return profile.fields.map { field in
            let requirement = profile.requirement(of: field, for: details, primary: primary, on: arrival)
            let value = details[field] ?? ""
            return FieldView(
                fieldName: field.rawValue, label: catalog.text("field.\(field.rawValue)"),
                mark: catalog.text(profile.isOneOf(field) ? "field.mark.one_of" : requirement == .required ? "field.mark.required" : "field.mark.optional"),
                note: note(for: field, language: language), value: value,
                isRequired: profile.condition(of: field) == .always,
                markedRequired: requirement == .required && profile.condition(of: field) != .always,
                problem: problems[field].map { catalog.text("problem.\($0.rawValue)", ["max": String(field.maxLength)]) },
                inputType: Self.inputType(field.kind), options: options(field, selected: value, language: language),
                autocomplete: Self.autocomplete[field], maxLength: field.maxLength)
        }
    }

    /// When a field's requirement depends on the guest, the sentence that says how.
    func note(for field: RegistrationField, language: String) -> String? {
        let catalog = pages.catalog(language)
        if profile.isOneOf(field) { return catalog.text("field.note.one_of") }
        func country(_ code: String) -> String { pages.countries.name(code, language: language) }
        return switch profile.condition(of: field) {
        case nil, .always?: nil
        case .foreigners(let code)?: catalog.text("field.note.foreigners", ["country": country(code)])
        case .foreignersFrom(let code, let age)?: catalog.text("field.note.foreigners_from", ["country": country(code), "age": String(age)])
        case .from(let age)?: catalog.text("field.note.from_age", ["age": String(age)])
        case .below(let age)?: catalog.text("field.note.below_age", ["age": String(age)])
        case .citizens(let code)?: catalog.text("field.note.citizens", ["country": country(code)])
        case .document(_, let code, let age)?: catalog.text("field.note.document", ["age": String(age), "country": country(code)])
        case .primaryGuest?: catalog.text("field.note.primary")
        }
    }

    func options(_ field: RegistrationField, selected: String, language: String) -> [OptionView]? {
        switch field.kind {
        case .country:
            return pages.countries.list(language).map { OptionView(optionValue: $0.code, optionLabel: $0.name, selected: $0.code == selected) }
        case .choice(let choices):
            let catalog = pages.catalog(language)
            return choices.map { OptionView(optionValue: $0, optionLabel: catalog.text("option.\(field.rawValue).\($0)"), selected: $0 == selected) }
        default:
            return nil
        }
    }

    static func inputType(_ kind: RegistrationField.Kind) -> String {
        switch kind {
        case .date: "date"
        case .email: "email"
        case .phone: "tel"
        default: "text"
        }
    }

    /// The browser's autofill names (HTML's autocomplete tokens); documents are never filled in from memory.
    static let autocomplete: [RegistrationField: String] = [
        .firstName: "given-name", .lastName: "family-name", .sex: "sex", .dateOfBirth: "bday", .address: "street-address",
        .city: "address-level2", .postalCode: "postal-code", .country: "country", .email: "email", .phone: "tel",
        .documentNumber: "off", .documentSupportNumber: "off",
    ]
}
