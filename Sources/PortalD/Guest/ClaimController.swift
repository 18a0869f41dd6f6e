import Arrivals
import Crypto
import Foundation
import HTTPServer

/// `/claim/{token}`: a companion's own way into check-in, on their own phone. An invite
/// token shows whose booking it is and one button; claiming it (once: a second claim,
/// or a revoked invite, finds nothing) leads to the companion's own link, where they
/// give their details against the same registration profile.
struct ClaimController: Sendable {
    let access: CheckinAccess
    let checkins: Checkins
    let formToken: FormToken
    let fields: RegistrationForm
    var pages: GuestPages { access.pages }

    func addRoutes(to group: RouterGroup<GuestContext>) {
        let blocking = group.group(execution: .offloaded)
        blocking.get("/claim/{token}") { request, context in try open(request, context, post: false) }
        blocking.post("/claim/{token}") { request, context in try open(request, context, post: true) }
        blocking.get("/claim/{token}/done") { request, context in try done(request, context) }
    }

    struct Opened {
        let token: String
        let kind: Checkins.CompanionToken
        let reservation: Reservation
        let place: Int
        /// Bound to the token too: the invite's form is not the companion's, nor an earlier holder's.
        var purpose: String { "claim:\(reservation.id):\(place):" + Array(CheckinLink.hash(token).prefix(8)).hexString }
    }

    /// The token's place, while its reservation can be checked in to; else the neutral page, counted as a wrong guess.
    func resolve(_ request: HTTPRequest, _ context: GuestContext) throws -> Result<Opened, CheckinAccess.Refusal> {
        if let refusal = access.throttle.refusal(request.clientAddress) { throw refusal }
        let token = try context.parameters.require("token")
        if token.count <= 64, let kind = try checkins.companionToken(token) {
            let (id, place) = switch kind {
            case .invite(let id, let place), .taken(let id, let place), .companion(let id, let place): (id, place)
            }
            // A place beyond the booking's (it shrank since the invite) is no place.
            if let stored = try access.reservations.get(id: id), access.reservations.isOpenable(stored),
               place <= Checkins.companionPlaces(stored.reservation) {
                return .success(Opened(token: token, kind: kind, reservation: stored.reservation, place: place))
            }
        }
        access.throttle.failed(request.clientAddress, reason: "unknown companion link")
        return .failure(CheckinAccess.Refusal(response: invalidLink(language: context.language)))
    }

    /// One page for a companion link that opens nothing (404). It does not point to "find my
    /// booking": an invite's holder is not meant to open the primary guest's check-in.
    func invalidLink(language: String) -> HTTPResponse {
        let catalog = pages.catalog(language)
        return message(catalog.text("claim.invalid.heading"), catalog.text("claim.invalid.message"), language: language, status: 404)
    }

    func open(_ request: HTTPRequest, _ context: GuestContext, post: Bool) throws -> HTTPResponse {
        let opened: Opened
        switch try resolve(request, context) {
        case .success(let found): opened = found
        case .failure(let refusal): return refusal.response
        }
        let language = context.language
        let catalog = pages.catalog(language)
        let arrivedAt = try checkins.progress(reservationID: opened.reservation.id).arrivedAt
        if opened.reservation.status == .inHouse || arrivedAt != nil {
            return message(catalog.text("claim.closed.heading"), catalog.text("claim.closed.message"), language: language)
        }
        let csrf = formToken.issue(purpose: opened.purpose, client: request.clientAddress, at: checkins.now())
        let valid = post ? try formToken.form(of: request, purpose: opened.purpose, at: checkins.now()) : nil
        switch opened.kind {
        case .taken:
            return message(catalog.text("claim.taken.heading"), catalog.text("claim.taken.message"), language: language, status: 409)
        case .invite:
            var page = claimPage(opened, csrf: csrf, language: language)
            guard post else { return .html(pages.render(page, language: language)) }
            guard valid != nil else {
                page.error = catalog.text("arrive.form.expired")
                return .html(pages.render(page, language: language), status: 403)
            }
            guard let own = try checkins.claim(opened.token, of: opened.reservation) else {
                // Someone was faster (a second phone, a forwarded link), or it was revoked meanwhile.
                return message(catalog.text("claim.taken.heading"), catalog.text("claim.taken.message"), language: language, status: 409)
            }
            return redirect("/claim/\(own)", language: language)
        case .companion:
            let progress = try checkins.progress(reservationID: opened.reservation.id)
            guard post else {
                return details(opened, progress.guests[opened.place] ?? GuestDetails(), problems: [:], csrf: csrf, language: language)
            }
            let form = request.form ?? FormData([])
            let result = fields.check(form, primary: false, today: checkins.today, arrival: opened.reservation.arrival)
            guard valid != nil else {
                return details(opened, result.details, problems: [:], csrf: csrf, language: language, error: catalog.text("arrive.form.expired"), status: 403)
            }
            guard result.isValid else {
                return details(opened, result.details, problems: result.problems, csrf: csrf, language: language,
                               error: catalog.text("arrive.details.problems", count: result.problems.count), status: 422)
            }
            try checkins.save(result.details, position: opened.place, of: opened.reservation)
            return redirect("/claim/\(opened.token)/done", language: language)
        }
    }

    func done(_ request: HTTPRequest, _ context: GuestContext) throws -> HTTPResponse {
        let opened: Opened
        switch try resolve(request, context) {
        case .success(let found): opened = found
        case .failure(let refusal): return refusal.response
        }
        let catalog = pages.catalog(context.language)
        guard case .companion = opened.kind else { return redirect("/claim/\(opened.token)", language: context.language) }
        return .html(pages.render(MessagePage(heading: catalog.text("claim.done.heading"), message: catalog.text("claim.done.message"),
                                              link: pages.link("/claim/\(opened.token)", language: context.language),
                                              linkText: catalog.text("claim.done.edit")), language: context.language))
    }

    func claimPage(_ opened: Opened, csrf: String, language: String) -> ClaimPage {
        let catalog = pages.catalog(language)
        // The first name alone, and no booking reference: with reference and surname, "find my
        // booking" would open the primary guest's check-in to whoever the invite reaches.
        let inviter = opened.reservation.primaryGuest?.firstName ?? ""
        return ClaimPage(heading: catalog.text(inviter.isEmpty ? "claim.heading_anonymous" : "claim.heading", ["name": inviter, "site": pages.siteName]),
                         dates: pages.stay(opened.reservation, language: language), csrf: csrf,
                         action: pages.link("/claim/\(opened.token)", language: language))
    }

    func details(_ opened: Opened, _ details: GuestDetails, problems: [RegistrationField: DetailsCheck.Problem], csrf: String,
                 language: String, error: String? = nil, status: Int = 200) -> HTTPResponse {
        let catalog = pages.catalog(language)
        let page = DetailsPage(nav: nil, csrf: csrf, action: pages.link("/claim/\(opened.token)", language: language),
                               heading: catalog.text("claim.details.heading"),
                               fields: fields.views(details: details, problems: problems, primary: false, arrival: opened.reservation.arrival,
                                                    language: language),
                               error: error)
        return .html(pages.render(page, language: language), status: status)
    }

    func message(_ heading: String, _ text: String, language: String, status: Int = 200) -> HTTPResponse {
        .html(pages.render(MessagePage(heading: heading, message: text, link: pages.link("/", language: language),
                                       linkText: pages.catalog(language).text("link.login")), language: language), status: status)
    }

    func redirect(_ path: String, language: String) -> HTTPResponse {
        var response = HTTPResponse.redirect(to: pages.link(path, language: language), status: 303)
        response.headers.add("Referrer-Policy", "no-referrer")
        return response
    }
}
