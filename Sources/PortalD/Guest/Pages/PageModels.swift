import Mustache

/// The terms form. `url` is where the guest was going; `error` explains a refusal.
struct SplashPage: PageModel {
    static let template = "splash"
    let csrf: String
    let url: String
    var error: String?

    func child(named name: String) -> Any? {
        switch name {
        case "csrf": csrf
        case "url": url
        case "error": error
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

/// A heading, a sentence and one link: errors and notices.
struct MessagePage: PageModel {
    static let template = "message"
    let heading: String
    let message: String
    let link: String
    let linkText: String

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
