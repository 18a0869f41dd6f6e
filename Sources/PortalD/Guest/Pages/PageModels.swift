import Mustache

/// The terms form. `url` is where the guest was going; `error` explains a refusal.
struct SplashPage: PageModel {
    static let template = "splash"
    let csrf: String
    let url: String
    var error: String?
    /// "Check in online" (find my booking), while some booking may arrive today.
    var checkin: String?
    /// Its invitation: with the stay's WiFi, or (`wifi_at_arrival = false`) without.
    var checkinHint: String?

    func child(named name: String) -> Any? {
        switch name {
        case "csrf": csrf
        case "url": url
        case "error": error
        case "checkin": checkin
        case "checkinHint": checkinHint
        default: nil
        }
    }
}

/// "You are online", until when, and the way on.
struct OnlinePage: PageModel {
    static let template = "online"
    let validUntil: String
    let timeLeft: String
    let url: String?
    let continueText: String?

    func child(named name: String) -> Any? {
        switch name {
        case "validUntil": validUntil
        case "timeLeft": timeLeft
        case "url": url
        case "continueText": continueText
        default: nil
        }
    }
}

/// A heading, a sentence and one link (none when there is nowhere to go): errors and notices.
struct MessagePage: PageModel {
    static let template = "message"
    let heading: String
    let message: String
    let link: String?
    let linkText: String?

    func child(named name: String) -> Any? {
        switch name {
        case "heading": heading
        case "message": message
        case "link": link
        case "linkText": linkText
        default: nil
        }
    }
}

/// "Find my booking": reference and surname, and the arrival date when several match.
struct FindBookingPage: PageModel {
    static let template = "arrive_find"
    let csrf: String
    var reference = ""
    var surname = ""
    var askArrival = false
    var error: String?

    func child(named name: String) -> Any? {
        switch name {
        case "csrf": csrf
        case "reference": reference
        case "surname": surname
        case "askArrival": askArrival
        case "error": error
        default: nil
        }
    }
}

/// "Find my booking" found several stays of one name on one day (a family's rooms):
/// the guest picks theirs. Each choice is a link with its own pass.
struct ChooseStayPage: PageModel {
    static let template = "arrive_choose"
    let choices: [StayChoice]

    func child(named name: String) -> Any? {
        switch name {
        case "choices": choices
        default: nil
        }
    }
}

struct StayChoice: MustacheParent, Sendable {
    let label: String
    let detail: String
    let link: String

    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "detail": detail
        case "link": link
        default: nil
        }
    }
}

/// The first step of online check-in: the hotel, the stay, the room when assigned.
struct WelcomePage: PageModel {
    static let template = "arrive_welcome"
    let heading: String
    let booking: String
    let dates: String
    let room: String?
    let guests: String
    /// The first step's address.
    let start: String

    func child(named name: String) -> Any? {
        switch name {
        case "heading": heading
        case "booking": booking
        case "dates": dates
        case "room": room
        case "guests": guests
        case "start": start
        default: nil
        }
    }
}
