import Arrivals
import Foundation
import HTTPServer

/// The pages of online check-in, in order: each is `/arrive/{token}/<step>`, a page
/// with one form. Every step's answer is saved before the next page, so "Back" (a
/// link, not the browser's history) and coming back later find it filled in.
enum CheckinStep: String, CaseIterable, Sendable {
    case welcome = ""
    case confirm
    case details

    /// "Step 2 of 3" counts the steps after the welcome page.
    var number: Int { Self.allCases.firstIndex(of: self)! }
    var previous: CheckinStep? { number > 0 ? Self.allCases[number - 1] : nil }
    var next: CheckinStep? { number + 1 < Self.allCases.count ? Self.allCases[number + 1] : nil }
}

/// Serves the steps after the welcome page: confirm the booking, then the primary
/// guest's registration details, checked against the site's registration profile.
struct CheckinController: Sendable {
    let access: CheckinAccess
    let checkins: Checkins
    let formToken: FormToken
    let fields: RegistrationForm
    var pages: GuestPages { access.pages }

    func addRoutes(to group: RouterGroup<GuestContext>) {
        let blocking = group.group(execution: .offloaded)
        blocking.get("/arrive/{token}/confirm") { request, context in try visit(request, context, .confirm, showConfirm) }
        blocking.post("/arrive/{token}/confirm") { request, context in try visit(request, context, .confirm, confirm) }
        blocking.get("/arrive/{token}/details") { request, context in try visit(request, context, .details, showDetails) }
        blocking.post("/arrive/{token}/details") { request, context in try visit(request, context, .details, saveDetails) }
    }

    /// One guest's request on one step of one reservation.
    struct Visit {
        let request: HTTPRequest
        let language: String
        let token: String
        let stored: StoredReservation
        let step: CheckinStep
        var reservation: Reservation { stored.reservation }
        var purpose: String { "checkin:\(reservation.id)" }
    }

    func visit(_ request: HTTPRequest, _ context: GuestContext, _ step: CheckinStep,
               _ handler: (Visit) throws -> HTTPResponse) throws -> HTTPResponse {
        switch try access.open(request, context) {
        case .failure(let refusal): return refusal.response
        case .success(let opened):
            return try handler(Visit(request: request, language: context.language, token: opened.token, stored: opened.stored, step: step))
        }
    }

    func link(_ visit: Visit, _ step: CheckinStep) -> String {
        pages.link("/arrive/\(visit.token)" + (step.rawValue.isEmpty ? "" : "/" + step.rawValue), language: visit.language)
    }

    /// A 303 to `step`: a form's answer is never a page (reloading would post it again).
    func redirect(_ visit: Visit, to step: CheckinStep) -> HTTPResponse {
        HTTPResponse(status: 303, headers: HTTPHeaders([("Location", link(visit, step)), ("Cache-Control", "no-store")]))
    }

    func nav(_ visit: Visit) -> StepNav {
        let catalog = pages.catalog(visit.language)
        return StepNav(position: catalog.text("arrive.steps.position", ["step": String(visit.step.number), "count": String(CheckinStep.allCases.count - 1)]),
                       back: visit.step.previous.map { link(visit, $0) }, backText: catalog.text("arrive.steps.back"))
    }

    func csrf(_ visit: Visit) -> String {
        formToken.issue(purpose: visit.purpose, client: visit.request.clientAddress, at: checkins.now())
    }

    /// The form's fields when its token is good; nil when it expired or was made for
    /// another reservation or device (the page is shown again, nothing is saved).
    func submitted(_ visit: Visit) throws -> FormData? {
        guard let form = visit.request.form else {
            throw HTTPError(415, code: "unsupported_form", message: "send the form (application/x-www-form-urlencoded)")
        }
        guard let token = form["csrf"], formToken.verify(token, purpose: visit.purpose, client: visit.request.clientAddress, at: checkins.now()) else {
            return nil
        }
        return form
    }

    // MARK: Confirm

    func showConfirm(_ visit: Visit) throws -> HTTPResponse {
        let catalog = pages.catalog(visit.language)
        let reservation = visit.reservation
        let page = ConfirmPage(nav: nav(visit), csrf: csrf(visit), action: link(visit, .confirm),
                               booking: reservation.reference, dates: pages.stay(reservation, language: visit.language),
                               room: reservation.room,
                               guests: catalog.text("arrive.welcome.guests", count: reservation.adults + reservation.children),
                               names: reservation.guests.map { "\($0.firstName) \($0.lastName)" })
        return .html(pages.render(page, language: visit.language))
    }

    func confirm(_ visit: Visit) throws -> HTTPResponse {
        // An expired form shows the page again: confirming has nothing to lose.
        guard try submitted(visit) != nil else { return try showConfirm(visit) }
        try checkins.confirm(reservationID: visit.reservation.id)
        return redirect(visit, to: .details)
    }

    // MARK: Details

    func showDetails(_ visit: Visit) throws -> HTTPResponse {
        let progress = try checkins.progress(reservationID: visit.reservation.id)
        guard progress.confirmedAt != nil else { return redirect(visit, to: .confirm) }
        let details = progress.primary ?? fields.prefill(from: visit.reservation.primaryGuest)
        return detailsPage(visit, details: details, problems: [:])
    }

    func saveDetails(_ visit: Visit) throws -> HTTPResponse {
        let catalog = pages.catalog(visit.language)
        guard let form = try submitted(visit) else {
            // What they typed comes back with a fresh form token: nothing is lost.
            let result = check(visit, visit.request.form ?? FormData([]))
            return detailsPage(visit, details: result.details, problems: [:], error: catalog.text("arrive.form.expired"), status: 403)
        }
        let result = check(visit, form)
        guard result.isValid else {
            return detailsPage(visit, details: result.details, problems: result.problems,
                               error: catalog.text("arrive.details.problems", count: result.problems.count), status: 422)
        }
        try checkins.save(result.details, position: 0, of: visit.reservation)
        return redirect(visit, to: visit.step.next ?? .welcome)
    }

    func check(_ visit: Visit, _ form: FormData) -> DetailsCheck.Result {
        let values = Dictionary(form.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        return DetailsCheck.check(values, profile: checkins.profile, primary: true, today: checkins.today, arrival: visit.reservation.arrival)
    }

    func detailsPage(_ visit: Visit, details: GuestDetails, problems: [RegistrationField: DetailsCheck.Problem],
                     error: String? = nil, status: Int = 200) -> HTTPResponse {
        let catalog = pages.catalog(visit.language)
        let page = DetailsPage(nav: nav(visit), csrf: csrf(visit), action: link(visit, .details),
                               heading: catalog.text("arrive.details.heading"),
                               fields: fields.views(details: details, problems: problems, primary: true, arrival: visit.reservation.arrival,
                                                    language: visit.language),
                               error: error)
        return .html(pages.render(page, language: visit.language), status: status)
    }
}
