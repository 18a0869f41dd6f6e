import Mustache

/// Where a guest is in check-in ("Step 2 of 4") and the way back.
struct StepNav: MustacheParent {
    let position: String
    let back: String?
    let backText: String

    func child(named name: String) -> Any? {
        switch name {
        case "position": position
        case "back": back
        case "backText": backText
        default: nil
        }
    }
}

/// "Is this your booking?": what the hotel has, and one button.
struct ConfirmPage: PageModel {
    static let template = "arrive_confirm"
    let nav: StepNav
    let csrf: String
    let action: String
    let booking: String
    let dates: String
    let room: String?
    let guests: String
    let names: [String]
    var error: String?

    func child(named name: String) -> Any? {
        switch name {
        case "error": error
        case "nav": nav
        case "csrf": csrf
        case "action": action
        case "booking": booking
        case "dates": dates
        case "room": room
        case "guests": guests
        case "names": names
        default: nil
        }
    }
}

/// A registration form: the profile's fields for one guest, with their problems.
struct DetailsPage: PageModel {
    static let template = "arrive_details"
    /// Nil on a companion's own form (no steps there).
    let nav: StepNav?
    let csrf: String
    let action: String
    let heading: String
    let fields: [FieldView]
    /// The summary above the form when fields were refused.
    var error: String?

    func child(named name: String) -> Any? {
        switch name {
        case "nav": nav
        case "csrf": csrf
        case "action": action
        case "heading": heading
        case "fields": fields
        case "error": error
        default: nil
        }
    }
}

/// One form field. Names differ from the page's (`problem`, not `error`): Mustache
/// looks a missing name up in the enclosing page.
struct FieldView: MustacheParent {
    let fieldName: String
    let label: String
    /// "required" or "optional", as the guest reads it.
    let mark: String
    /// When it is required, if that depends ("Not needed for citizens of Germany").
    let note: String?
    let value: String
    let isRequired: Bool
    /// Required for this guest as the form stands (`aria-required`), even where the
    /// browser is not told to insist (it depends on other answers).
    var markedRequired = false
    let problem: String?
    let inputType: String
    let options: [OptionView]?
    let autocomplete: String?
    let maxLength: Int

    var describedBy: String? {
        let ids = [note.map { _ in "f-\(fieldName)-note" }, problem.map { _ in "f-\(fieldName)-problem" }].compactMap { $0 }
        return ids.isEmpty ? nil : ids.joined(separator: " ")
    }

    func child(named name: String) -> Any? {
        switch name {
        case "fieldName": fieldName
        case "label": label
        case "mark": mark
        case "note": note
        case "value": value
        case "isRequired": isRequired
        case "markedRequired": markedRequired
        case "problem": problem
        case "inputType": inputType
        case "isSelect": options != nil
        case "options": options
        case "autocomplete": autocomplete
        case "maxLength": maxLength
        case "describedBy": describedBy
        default: nil
        }
    }
}

struct OptionView: MustacheParent {
    let optionValue: String
    let optionLabel: String
    let selected: Bool

    func child(named name: String) -> Any? {
        switch name {
        case "optionValue": optionValue
        case "optionLabel": optionLabel
        case "selected": selected
        default: nil
        }
    }
}

/// The hotel's terms, the name the guest types under them, and the separate marketing choice.
struct TermsPage: PageModel {
    static let template = "arrive_terms"
    let nav: StepNav
    let csrf: String
    let action: String
    let termsText: String
    let termsVersion: String
    /// The SHA-256 of `termsText`, sent back with the signature: what was signed is what was shown.
    let termsHash: String
    var name = ""
    var marketing = false
    /// Why the typed name was refused.
    var nameProblem: String?
    var error: String?

    func child(named name: String) -> Any? {
        switch name {
        case "nav": nav
        case "csrf": csrf
        case "action": action
        case "termsText": termsText
        case "termsVersion": termsVersion
        case "termsHash": termsHash
        case "name": self.name
        case "marketing": marketing
        case "nameProblem": nameProblem
        case "error": error
        default: nil
        }
    }
}

/// The last look before arriving: the stay, what is still missing (each a link to its
/// step), and the button when nothing is.
struct ArrivePage: PageModel {
    static let template = "arrive_arrive"
    let nav: StepNav
    let csrf: String
    let action: String
    let booking: String
    let dates: String
    let guestName: String
    let missing: [MissingItem]
    /// Why arriving is not possible yet (too early), when it is not.
    let notice: String?
    var error: String?
    var canArrive: Bool { missing.isEmpty && notice == nil }

    func child(named name: String) -> Any? {
        switch name {
        case "nav": nav
        case "csrf": csrf
        case "action": action
        case "booking": booking
        case "dates": dates
        case "guestName": guestName
        case "missing": missing
        case "notice": notice
        case "error": error
        case "canArrive": canArrive
        case "hasMissing": !missing.isEmpty
        default: nil
        }
    }
}

/// One thing check-in still needs, and the step where it is given.
struct MissingItem: MustacheParent {
    let text: String
    let link: String

    func child(named name: String) -> Any? {
        switch name {
        case "text": text
        case "link": link
        default: nil
        }
    }
}

/// Checked in: when, the room, and what comes next.
struct DonePage: PageModel {
    static let template = "arrive_done"
    let heading: String
    let message: String
    let room: String?
    /// What the stay's WiFi is for this device (online until…, or how to get it).
    var wifi: String?
    /// Set when this device may connect: the form that does it.
    var wifiAction: String?
    var csrf: String?
    var error: String?

    func child(named name: String) -> Any? {
        switch name {
        case "heading": heading
        case "message": message
        case "room": room
        case "wifi": wifi
        case "wifiAction": wifiAction
        case "csrf": csrf
        case "error": error
        default: nil
        }
    }
}
