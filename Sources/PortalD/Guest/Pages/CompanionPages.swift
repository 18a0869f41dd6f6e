import Mustache

/// The companions step: a row a place, each filled in, invited, claimed or empty.
struct CompanionsPage: PageModel {
    static let template = "arrive_companions"
    let nav: StepNav
    let csrf: String
    let intro: String
    let rows: [CompanionRow]
    let next: String
    var error: String?

    func child(named name: String) -> Any? {
        switch name {
        case "error": error
        case "nav": nav
        case "csrf": csrf
        case "intro": intro
        case "rows": rows
        case "next": next
        default: nil
        }
    }
}

struct CompanionRow: MustacheParent {
    let label: String
    let state: String
    /// The primary guest fills the place in.
    let detailsLink: String
    /// POST: a new invite link (an earlier one stops working).
    let inviteAction: String
    /// POST: ends the place's invite; nil when there is none.
    let revokeAction: String?

    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "state": state
        case "detailsLink": detailsLink
        case "inviteAction": inviteAction
        case "revokeAction": revokeAction
        default: nil
        }
    }
}

/// A new invite: the link, shown this once, and its QR code.
struct InvitePage: PageModel {
    static let template = "arrive_invite"
    let heading: String
    let url: String
    /// Inline SVG made by `QRCode` (numbers and an escaped label only).
    let qr: String
    let back: String

    func child(named name: String) -> Any? {
        switch name {
        case "heading": heading
        case "url": url
        case "qr": qr
        case "back": back
        default: nil
        }
    }
}

/// What a companion sees on opening their invite: who invites them to what, and one button.
struct ClaimPage: PageModel {
    static let template = "claim"
    let heading: String
    let dates: String
    let csrf: String
    let action: String
    var error: String?

    func child(named name: String) -> Any? {
        switch name {
        case "heading": heading
        case "dates": dates
        case "csrf": csrf
        case "action": action
        case "error": error
        default: nil
        }
    }
}
