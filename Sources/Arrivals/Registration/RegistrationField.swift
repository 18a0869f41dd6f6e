/// What a registration form can ask of a guest. The raw values are the names in
/// forms, config (`[arrivals.fields]`), events and exports.
public enum RegistrationField: String, Sendable, CaseIterable, Codable {
    case firstName = "first_name"
    case lastName = "last_name"
    /// Spain: Spanish citizens have two surnames.
    case secondSurname = "second_surname"
    case sex
    case dateOfBirth = "date_of_birth"
    /// Italy, Portugal, France: a town (and country) of birth.
    case placeOfBirth = "place_of_birth"
    case nationality
    case documentType = "document_type"
    case documentNumber = "document_number"
    /// Spain: the number of the DNI/NIE card itself (not the person's number).
    case documentSupportNumber = "document_support_number"
    case documentIssuingCountry = "document_issuing_country"
    /// Street and number.
    case address
    case city
    case postalCode = "postal_code"
    /// The country of residence.
    case country
    case email
    case phone
    /// Spain: a minor's relationship to the adult they travel with.
    case relationship

    /// How a value is written and checked.
    public enum Kind: Sendable, Equatable {
        case name, text, date, country, email, phone, code
        case choice([String])
    }

    public var kind: Kind {
        switch self {
        case .firstName, .lastName, .secondSurname: .name
        case .placeOfBirth, .address, .city: .text
        case .dateOfBirth: .date
        case .nationality, .documentIssuingCountry, .country: .country
        case .email: .email
        case .phone: .phone
        case .documentNumber, .documentSupportNumber, .postalCode: .code
        case .sex: .choice(Self.sexes)
        case .documentType: .choice(Self.documentTypes)
        case .relationship: .choice(Self.relationships)
        }
    }

    /// The longest value kept, in characters.
    public var maxLength: Int {
        switch kind {
        case .name, .text: 100
        case .email: 254
        case .phone: 32
        case .code: 30
        case .date: 10
        case .country: 2
        case .choice: 20
        }
    }

    public static let sexes = ["female", "male", "other"]
    public static let documentTypes = ["passport", "national_id", "residence_permit", "driving_licence", "other"]
    public static let relationships = ["parent", "guardian", "grandparent", "sibling", "other_relative", "other"]
}
