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
    case companions
    case terms
    case arrive
    case done

    /// The steps "Step 2 of 4" counts: those with a form.
    static let numbered: [CheckinStep] = [.confirm, .details, .companions, .terms, .arrive]
    var number: Int { Self.numbered.firstIndex(of: self).map { $0 + 1 } ?? 0 }
    private var index: Int { Self.allCases.firstIndex(of: self)! }
    var previous: CheckinStep? { index > 0 ? Self.allCases[index - 1] : nil }
    var next: CheckinStep? { index + 1 < Self.allCases.count ? Self.allCases[index + 1] : nil }

    /// The earliest step before this one that `progress` has not done, if any: a page
    /// (or a form sent) before its time leads there. Not for arrive, whose page lists
    /// everything missing, each with its link.
    func missingBefore(_ progress: Checkins.Progress) -> CheckinStep? {
        guard self != .arrive else { return nil }
        if number > CheckinStep.confirm.number && progress.confirmedAt == nil { return .confirm }
        if number > CheckinStep.details.number && progress.primary == nil { return .details }
        return nil
    }
}

/// Serves the steps after the welcome page: confirm the booking, the primary guest's
/// registration details (checked against the site's registration profile), companions,
/// terms, arrive and done. Each step is one page, reached only in order.
struct CheckinController: Sendable {
    let access: CheckinAccess
    let checkins: Checkins
    let formToken: FormToken
    let fields: RegistrationForm
    /// `[arrivals] terms_version`: signed with the text.
    let termsVersion: String
    /// Arriving from the guest LAN lets the device on (nil: `wifi_at_arrival = false`).
    let wifi: ArrivalWiFi?
    var pages: GuestPages { access.pages }

    func addRoutes(to group: RouterGroup<GuestContext>) {
        let blocking = group.group(execution: .offloaded)
        blocking.get("/arrive/{token}/confirm") { request, context in try visit(request, context, .confirm) { try showConfirm($0) } }
        blocking.post("/arrive/{token}/confirm") { request, context in try visit(request, context, .confirm, confirm) }
        blocking.get("/arrive/{token}/details") { request, context in try visit(request, context, .details) { try showDetails($0) } }
        blocking.post("/arrive/{token}/details") { request, context in try visit(request, context, .details) { try saveDetails($0) } }
        addCompanionRoutes(to: group)
        blocking.get("/arrive/{token}/terms") { request, context in try visit(request, context, .terms, showTerms) }
        blocking.post("/arrive/{token}/terms") { request, context in try visit(request, context, .terms, sign) }
        blocking.get("/arrive/{token}/arrive") { request, context in try visit(request, context, .arrive) { try showArrive($0) } }
        blocking.post("/arrive/{token}/arrive") { request, context in try visit(request, context, .arrive, arrive) }
        blocking.get("/arrive/{token}/done") { request, context in try visit(request, context, .done) { try showDone($0) } }
        blocking.post("/arrive/{token}/wifi") { request, context in try visit(request, context, .done, connectWiFi) }
    }

    /// One guest's request on one step of one reservation.
    struct Visit {
        let request: HTTPRequest
        let language: String
        /// The language without the guest's choice: their browser's, else the reservation's, else
        /// the site's. Links carry `?lang=` only when the page's language differs from it.
        let implicitLanguage: String
        let token: String
        let stored: StoredReservation
        let step: CheckinStep
        let progress: Checkins.Progress
        var reservation: Reservation { stored.reservation }
        /// Checked in, here or at the desk: the steps are over.
        var arrived: Bool { reservation.status == .inHouse || progress.arrivedAt != nil }
        var purpose: String { "checkin:\(reservation.id)" }
    }

    func visit(_ request: HTTPRequest, _ context: GuestContext, _ step: CheckinStep,
               _ handler: (Visit) throws -> HTTPResponse) throws -> HTTPResponse {
        switch try access.open(request, context) {
        case .failure(let refusal): return refusal.response
        case .success(let opened):
            let (language, implicit) = access.language(for: opened.stored.reservation, context)
            let visit = Visit(request: request, language: language, implicitLanguage: implicit, token: opened.token,
                              stored: opened.stored, step: step, progress: try checkins.progress(reservationID: opened.stored.reservation.id))
            // After arrival nothing is changed from here (the signature in force stays the one signed).
            if visit.arrived && step != .done { return redirect(visit, to: .done) }
            if let missing = step.missingBefore(visit.progress) { return redirect(visit, to: missing) }
            return try handler(visit)
        }
    }

    func link(_ visit: Visit, _ step: CheckinStep) -> String { link(visit, page: step.rawValue) }

    func link(_ visit: Visit, page: String) -> String {
        CheckinAccess.path(token: visit.token, page: page, language: visit.language, implicit: visit.implicitLanguage)
    }

    /// Renders a step's page, with the footer's links to it in the other languages.
    /// `path`: the page's own address when the request's is a form's (`…/invite` has no GET).
    func render<Page: PageModel>(_ page: Page, _ visit: Visit, status: Int = 200, path: String? = nil) -> HTTPResponse {
        .html(pages.render(page, language: visit.language, path: path ?? visit.request.path), status: status)
    }

    /// A 303 to `step`: a form's answer is never a page (reloading would post it again).
    func redirect(_ visit: Visit, to step: CheckinStep) -> HTTPResponse { redirect(visit, page: step.rawValue) }

    func redirect(_ visit: Visit, page: String) -> HTTPResponse { .redirect(to: link(visit, page: page), status: 303) }

    /// "Step 2 of 5" and Back, counting only this booking's steps: one without companion
    /// places has no companions step (its Back would bounce).
    func nav(_ visit: Visit) -> StepNav {
        let catalog = pages.catalog(visit.language)
        let steps = CheckinStep.numbered.filter { $0 != .companions || Checkins.companionPlaces(visit.reservation) > 0 }
        let number = (steps.firstIndex(of: visit.step) ?? 0) + 1
        var back = visit.step.previous
        if back == .companions && !steps.contains(.companions) { back = .details }
        return StepNav(position: catalog.text("arrive.steps.position", ["step": String(number), "count": String(steps.count)]),
                       back: back.map { link(visit, $0) }, backText: catalog.text("arrive.steps.back"))
    }

    func csrf(_ visit: Visit) -> String {
        formToken.issue(purpose: visit.purpose, client: visit.request.clientAddress, at: checkins.now())
    }

    /// The form's fields when its token is good; nil when it expired or was made for
    /// another reservation or device (the page is shown again, nothing is saved).
    func submitted(_ visit: Visit) throws -> FormData? {
        try formToken.form(of: visit.request, purpose: visit.purpose, at: checkins.now())
    }

    // MARK: Confirm

    func showConfirm(_ visit: Visit, error: String? = nil, status: Int = 200) throws -> HTTPResponse {
        let catalog = pages.catalog(visit.language)
        let reservation = visit.reservation
        let page = ConfirmPage(nav: nav(visit), csrf: csrf(visit), action: link(visit, .confirm),
                               booking: reservation.reference, dates: pages.stay(reservation, language: visit.language),
                               room: reservation.room,
                               guests: catalog.text("arrive.welcome.guests", count: reservation.adults + reservation.children),
                               names: reservation.guests.map { "\($0.firstName) \($0.lastName)" }, error: error)
        return render(page, visit, status: status)
    }

    func confirm(_ visit: Visit) throws -> HTTPResponse {
        // An expired form shows the page again: confirming has nothing to lose.
        guard try submitted(visit) != nil else {
            return try showConfirm(visit, error: pages.catalog(visit.language).text("arrive.form.expired"), status: 403)
        }
        try checkins.confirm(reservationID: visit.reservation.id)
        return redirect(visit, to: .details)
    }

    // MARK: Details

    /// `place` 0 is the primary guest's own form (the details step); 1… a companion's, filled in by the primary guest.
    func showDetails(_ visit: Visit, place: Int = 0) throws -> HTTPResponse {
        let details = visit.progress.guests[place] ?? (place == 0 ? fields.prefill(from: visit.reservation.primaryGuest) : GuestDetails())
        return detailsPage(visit, place: place, details: details, problems: [:])
    }

    func saveDetails(_ visit: Visit, place: Int = 0) throws -> HTTPResponse {
        let catalog = pages.catalog(visit.language)
        guard let form = try submitted(visit) else {
            // What they typed comes back with a fresh form token: nothing is lost.
            let result = fields.check(visit.request.form ?? FormData([]), primary: place == 0, today: checkins.today, arrival: visit.reservation.arrival)
            return detailsPage(visit, place: place, details: result.details, problems: [:], error: catalog.text("arrive.form.expired"), status: 403)
        }
        let result = fields.check(form, primary: place == 0, today: checkins.today, arrival: visit.reservation.arrival)
        guard result.isValid else {
            return detailsPage(visit, place: place, details: result.details, problems: result.problems,
                               error: catalog.text("arrive.details.problems", count: result.problems.count), status: 422)
        }
        try checkins.save(result.details, position: place, of: visit.reservation)
        return redirect(visit, to: place == 0 ? (visit.step.next ?? .welcome) : .companions)
    }

    func detailsPage(_ visit: Visit, place: Int, details: GuestDetails, problems: [RegistrationField: DetailsCheck.Problem],
                     error: String? = nil, status: Int = 200) -> HTTPResponse {
        let catalog = pages.catalog(visit.language)
        var nav = nav(visit)
        if place > 0 { nav = StepNav(position: nav.position, back: link(visit, .companions), backText: nav.backText) }
        let page = DetailsPage(nav: nav, csrf: csrf(visit), action: place == 0 ? link(visit, .details) : link(visit, page: "companions/\(place)"),
                               heading: place == 0 ? catalog.text("arrive.details.heading") : catalog.text("arrive.companions.heading_one", ["place": String(place + 1)]),
                               fields: fields.views(details: details, problems: problems, primary: place == 0, arrival: visit.reservation.arrival,
                                                    language: visit.language),
                               error: error)
        return render(page, visit, status: status)
    }
}
