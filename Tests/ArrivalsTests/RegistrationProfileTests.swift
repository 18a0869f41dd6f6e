@testable import Arrivals
import Testing

/// Each country's registration form asks what its law asks, of whom it asks it.
@Suite("registration profiles")
struct RegistrationProfileTests {
    let arrival = LocalDate("2026-12-01")!
    let today = LocalDate("2026-11-24")!

    func profile(_ name: String) throws -> RegistrationProfile { try #require(RegistrationProfile.named(name)) }

    func missing(_ profile: RegistrationProfile, _ values: [RegistrationField: String], primary: Bool = true) -> Set<RegistrationField> {
        Set(profile.missing(in: GuestDetails(values), primary: primary, on: arrival))
    }

    @Test("every profile asks for names, and every field it requires is one it shows")
    func namesEverywhere() throws {
        #expect(RegistrationProfile.names == ["basic", "es", "it", "de", "pt", "fr"])
        for profile in RegistrationProfile.all {
            #expect(profile.fields.prefix(2) == [.firstName, .lastName], "\(profile.name)")
            #expect(profile.rules.keys.allSatisfy(profile.fields.contains), "\(profile.name)")
            #expect(missing(profile, [:]).isSuperset(of: [.firstName, .lastName]), "\(profile.name)")
        }
    }

    @Test("Spain: everyone registers; a document for adults; the support number of a Spanish ID card; second surname for Spaniards; a minor's relationship; a phone or an email")
    func spain() throws {
        let es = try profile("es")
        let adult: [RegistrationField: String] = [
            .firstName: "Ana", .lastName: "García", .sex: "female", .dateOfBirth: "1990-04-21", .nationality: "FR",
            .documentType: "passport", .documentNumber: "X1234567", .documentIssuingCountry: "FR",
            .address: "Rue 1", .city: "Lyon", .postalCode: "69001", .country: "FR", .email: "ana@example.com",
        ]
        #expect(missing(es, adult).isEmpty)
        var spaniard = adult
        spaniard[.nationality] = "ES"
        #expect(missing(es, spaniard) == [.secondSurname])
        spaniard[.documentType] = "national_id"
        spaniard[.secondSurname] = "López"
        #expect(missing(es, spaniard) == [], "an ID card issued abroad has no support number to give")
        spaniard[.documentIssuingCountry] = "ES"
        #expect(missing(es, spaniard) == [.documentSupportNumber], "a DNI has its support number")
        var french = adult
        french[.documentType] = "national_id"
        #expect(missing(es, french).isEmpty, "a French identity card: no support number")
        var child = adult
        child[.dateOfBirth] = "2016-05-01"  // 10 on arrival
        child[.documentType] = nil
        child[.documentNumber] = nil
        child[.documentIssuingCountry] = nil
        #expect(missing(es, child) == [.relationship], "no document for a minor; a relationship")
        child[.dateOfBirth] = "2010-01-01"  // 16
        #expect(missing(es, child) == [.relationship], "16: still a minor")
        var noContact = adult
        noContact[.email] = nil
        #expect(missing(es, noContact) == [.phone], "the phone-or-email group is reported once")
        noContact[.phone] = "+34 600 000 000"
        #expect(missing(es, noContact).isEmpty)
        #expect(es.requirement(of: .documentNumber, for: GuestDetails(child), primary: false, on: arrival) == .optional)
        #expect(es.requirement(of: .placeOfBirth, for: GuestDetails(adult), primary: true, on: arrival) == .hidden)
    }

    @Test("Italy: place of birth for everyone; a document for the primary guest only")
    func italy() throws {
        let it = try profile("it")
        let guest: [RegistrationField: String] = [.firstName: "Luca", .lastName: "Rossi", .sex: "male", .dateOfBirth: "1985-01-02",
                                                 .placeOfBirth: "Roma", .nationality: "IT"]
        #expect(missing(it, guest, primary: false).isEmpty)
        #expect(missing(it, guest, primary: true) == [.documentType, .documentNumber, .documentIssuingCountry])
    }

    @Test("Germany: since 2025 German citizens give only their name; foreigners fill in the Meldeschein")
    func germany() throws {
        let de = try profile("de")
        #expect(missing(de, [.firstName: "Anna", .lastName: "Müller", .nationality: "DE"]).isEmpty)
        #expect(missing(de, [.firstName: "John", .lastName: "Doe", .nationality: "US"])
            == [.dateOfBirth, .address, .city, .postalCode, .country, .documentType, .documentNumber])
    }

    @Test("Portugal and France: foreign guests only; in France not children under 15")
    func portugalAndFrance() throws {
        #expect(missing(try profile("pt"), [.firstName: "Rui", .lastName: "Sá", .nationality: "PT"]).isEmpty)
        #expect(missing(try profile("pt"), [.firstName: "Jo", .lastName: "Li", .nationality: "GB"]).contains(.placeOfBirth))
        let fr = try profile("fr")
        #expect(missing(fr, [.firstName: "Jean", .lastName: "Dupont", .nationality: "FR"]).isEmpty)
        #expect(missing(fr, [.firstName: "Jo", .lastName: "Li", .nationality: "GB", .dateOfBirth: "2015-01-01"]).isEmpty, "11 years old")
        #expect(missing(fr, [.firstName: "Jo", .lastName: "Li", .nationality: "GB", .dateOfBirth: "1980-01-01"])
            == [.placeOfBirth, .address, .city, .country, .email, .phone], "CESEDA R814-2: a mobile phone and an email too")
    }

    @Test("an operator can require, relax or hide fields, but not a guest's names")
    func overrides() throws {
        let changed = try profile("es").overridden([.phone: .required, .secondSurname: .hidden, .address: .optional, .placeOfBirth: .required])
        #expect(!changed.fields.contains(.secondSurname) && changed.fields.last == .placeOfBirth)
        #expect(changed.condition(of: .phone) == .always && changed.condition(of: .address) == nil)
        #expect(!changed.isOneOf(.email), "a required phone ends the phone-or-email group")
        #expect(try profile("es").overridden([.email: .hidden]).oneOf.isEmpty, "a group of one is no group")
        #expect(throws: RegistrationProfileError.self) { try profile("basic").overridden([.lastName: .optional]) }
        #expect(throws: RegistrationProfileError.self, "whom the Meldeschein is asked of depends on it") {
            try profile("de").overridden([.nationality: .hidden])
        }
        #expect(throws: RegistrationProfileError.self) { try profile("es").overridden([.dateOfBirth: .hidden]) }
        #expect(throws: Never.self, "no rule is left that reads it") {
            try profile("es").overridden([.dateOfBirth: .hidden, .documentType: .required, .documentNumber: .required,
                                          .documentSupportNumber: .optional, .documentIssuingCountry: .required, .relationship: .optional])
        }
        #expect(RegistrationProfile.named("xx") == nil)
    }

    @Test("values are checked by kind: dates, countries, emails, phones, choices, names; kept as typed so the form shows them again")
    func valuesChecked() throws {
        let form = ["first_name": "  Anna   Maria ", "last_name": "<script>", "date_of_birth": "2027-01-01", "nationality": "de",
                    "email": "anna@", "phone": "12", "sex": "unknown", "document_type": "passport", "document_number": "ab 12-3",
                    "place_of_birth": "x".padding(toLength: 101, withPad: "x", startingAt: 0), "country": "EU", "city": "\u{7}Bonn"]
        let result = DetailsCheck.check(form, profile: try profile("es").overridden([.placeOfBirth: .optional]), primary: true,
                                        today: today, arrival: arrival)
        #expect(result.details[.firstName] == "Anna Maria" && result.details[.nationality] == "DE" && result.details[.documentNumber] == "AB 12-3")
        #expect(result.details[.lastName] == "<script>", "kept (the page escapes it) but refused")
        let expected: [RegistrationField: DetailsCheck.Problem] = [
            .lastName: .invalid, .dateOfBirth: .inFuture, .email: .notAnEmail, .phone: .notAPhone, .sex: .notAChoice,
            .placeOfBirth: .tooLong, .country: .unknownCountry, .city: .invalid,
            .documentIssuingCountry: .missing, .address: .missing, .postalCode: .missing,
        ]
        #expect(result.problems == expected)
        #expect(DetailsCheck.check(["date_of_birth": "1900-01-01"], profile: try profile("basic").overridden([.dateOfBirth: .optional]),
                                   primary: true, today: today, arrival: arrival).problems[.dateOfBirth] == .tooOld)
        #expect(DetailsCheck.check(["first_name": "Zoë", "last_name": "O’Brien-Nguyễn"], profile: try profile("basic"), primary: true,
                                   today: today, arrival: arrival).isValid)
    }

    @Test("a guest's age counts on the arrival day; Countries holds the 249 ISO 3166 codes")
    func agesAndCountries() {
        let details = GuestDetails([.dateOfBirth: "2012-12-01"])
        #expect(details.age(on: LocalDate("2026-11-30")!) == 13 && details.age(on: LocalDate("2026-12-01")!) == 14)
        #expect(Countries.codes.count == 249 && Set(Countries.codes).count == 249 && Countries.isCode("DE") && !Countries.isCode("EU"))
        #expect(GuestDetails([.firstName: "A", .lastName: ""]).values == [.firstName: "A"], "empty text is no value")
    }
}
