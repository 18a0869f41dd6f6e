import Outbox

/// One guest's registration details as they filled them in: the fields their form
/// asked for, each a trimmed string (dates `YYYY-MM-DD`, countries ISO 3166 codes,
/// choices their code). What the profile did not ask for is absent.
public struct GuestDetails: Sendable, Equatable {
    public private(set) var values: [RegistrationField: String]

    public init(_ values: [RegistrationField: String] = [:]) {
        self.values = [:]
        for (field, value) in values { self[field] = value }
    }

    /// Empty text is no value.
    public subscript(field: RegistrationField) -> String? {
        get { values[field] }
        set { values[field] = newValue.flatMap { $0.isEmpty ? nil : $0 } }
    }

    public var nationality: String? { self[.nationality] }
    public var dateOfBirth: LocalDate? { self[.dateOfBirth].flatMap(LocalDate.init) }

    /// Age in whole years on `date`; nil without a valid date of birth.
    public func age(on date: LocalDate) -> Int? {
        guard let born = dateOfBirth else { return nil }
        return date.year - born.year - ((date.month, date.day) < (born.month, born.day) ? 1 : 0)
    }

    /// "Anna Müller": for pages and the terms a guest signs.
    public var fullName: String {
        [self[.firstName], self[.lastName], self[.secondSurname]].compactMap { $0 }.joined(separator: " ")
    }
}

extension GuestDetails {
    /// `{"first_name": "Anna", …}`: stored, sent in events and exported.
    public var json: [String: String] {
        Dictionary(uniqueKeysWithValues: values.map { ($0.key.rawValue, $0.value) })
    }

    /// `json` as a JSON object: the stored column, the events' `details`, the export.
    public var jsonValue: JSONValue { .object(json.mapValues(JSONValue.string)) }

    /// Reads what `json` wrote; names it does not know (a field a later version dropped) are skipped.
    public init(json: [String: String]) {
        self.init(Dictionary(uniqueKeysWithValues: json.compactMap { key, value in RegistrationField(rawValue: key).map { ($0, value) } }))
    }
}
