import Arrivals
import Foundation
import HTTPServer
import Logging
import Synchronization

/// Online check-in's way in: `/arrive/{token}` opens a reservation by its check-in link
/// (or by the pass "find my booking" hands out), and `/arrive` finds a booking by its
/// reference and a surname. Every way of guessing is throttled: wrong tokens and wrong
/// lookups per address, wrong surnames per reservation. An unknown, rotated or expired
/// link gets one neutral page, whichever it was.
struct ArrivalsController: Sendable {
    let access: CheckinAccess
    let formToken: FormToken
    let lookups: LookupThrottle
    let siteName: String
    let logger: Logger

    func addRoutes(to group: RouterGroup<GuestContext>) {
        let blocking = group.group(execution: .offloaded)
        blocking.get("/arrive") { request, context in find(request, context, page: findPage(request)) }
        blocking.post("/arrive") { request, context in try lookUp(request, context) }
        blocking.get("/arrive/{token}") { request, context in try open(request, context) }
    }

    var reservations: Reservations { access.reservations }
    var pages: GuestPages { access.pages }
    var throttle: AuthFailureThrottle { access.throttle }

    func findPage(_ request: HTTPRequest) -> FindBookingPage {
        FindBookingPage(csrf: formToken.issue(purpose: "arrive-find", client: request.clientAddress, at: reservations.now()))
    }

    func find(_ request: HTTPRequest, _ context: GuestContext, page: FindBookingPage, status: Int = 200) -> HTTPResponse {
        .html(pages.render(page, language: context.language, path: "/arrive"), status: status)
    }

    func open(_ request: HTTPRequest, _ context: GuestContext) throws -> HTTPResponse {
        let (token, stored): (String, StoredReservation)
        switch try access.open(request, context) {
        case .success(let opened): (token, stored) = opened
        case .failure(let refusal): return refusal.response
        }
        let reservation = stored.reservation
        let (language, implicit) = access.language(for: reservation, context)
        func link(_ page: String) -> String { CheckinAccess.path(token: token, page: page, language: language, implicit: implicit) }
        if reservation.status == .inHouse {
            // Checked in already: the link now shows that (and, on the hotel's WiFi, the way online).
            return .redirect(to: link("done"), status: 303)
        }
        let catalog = pages.catalog(language)
        let page = WelcomePage(heading: catalog.text("arrive.welcome.heading", ["site": siteName]),
                               booking: catalog.text("arrive.welcome.booking", ["reference": reservation.reference]),
                               dates: pages.stay(reservation, language: language),
                               room: reservation.room.map { catalog.text("arrive.welcome.room", ["room": $0]) },
                               guests: catalog.text("arrive.welcome.guests", count: reservation.adults + reservation.children),
                               start: link(CheckinStep.confirm.rawValue))
        return .html(pages.render(page, language: language, path: request.path))
    }

    /// "Find my booking": one match continues into the token flow (303 to a pass);
    /// several ask for the arrival date; none is one neutral answer.
    func lookUp(_ request: HTTPRequest, _ context: GuestContext) throws -> HTTPResponse {
        let catalog = pages.catalog(context.language)
        guard let form = request.form else {
            throw HTTPError(415, code: "unsupported_form", message: "send the form (application/x-www-form-urlencoded)")
        }
        var page = findPage(request)
        page.reference = String((form["reference"] ?? "").trimmingCharacters(in: .whitespaces).prefix(100))
        page.surname = String((form["surname"] ?? "").trimmingCharacters(in: .whitespaces).prefix(100))
        let now = reservations.now()
        guard let csrf = form["csrf"], formToken.verify(csrf, purpose: "arrive-find", client: request.clientAddress, at: now) else {
            page.error = catalog.text("arrive.find.expired")
            return find(request, context, page: page, status: 403)
        }
        // Per address, then per reference as typed (existing or not): refused before any lookup,
        // so neither the answer nor its timing says whether the reference exists.
        let wait = throttle.refusal(request.clientAddress)?.headers.first { $0.0 == "Retry-After" }?.1
            ?? lookups.begin(ReservationLookup.key(page.reference), at: now).map { String(max(1, Int($0.timeIntervalSince(now).rounded(.up)))) }
        if let wait {
            page.error = catalog.text("arrive.find.wait")
            var response = find(request, context, page: page, status: 429)
            response.headers.add("Retry-After", wait)
            return response
        }
        // Every answer from here takes at least `answerFloor`: how long the lookup took (no row,
        // one, several; a surname compared or not) does not tell whether a reference exists.
        let deadline = ContinuousClock.now + Self.answerFloor
        defer { Self.sleep(until: deadline) }
        let arrival = form["arrival"].flatMap { $0.isEmpty ? nil : LocalDate($0) }
        let result = try reservations.lookup(reference: page.reference, surname: page.surname, arrival: arrival)
        switch result.matches.count {
        case 1:
            lookups.succeeded(ReservationLookup.key(page.reference))
            var response = HTTPResponse.redirect(to: passLink(result.matches[0], context, at: now), status: 303)
            response.headers.add("Referrer-Policy", "no-referrer")
            return response
        case 0:
            throttle.failed(request.clientAddress, reason: "booking lookup without a match")
            page.askArrival = arrival != nil
            page.error = catalog.text("arrive.find.not_found")
            return find(request, context, page: page, status: 404)
        default:
            lookups.succeeded(ReservationLookup.key(page.reference))
            guard arrival != nil else {
                // Reference and surname are right: the date tells a group's stays apart.
                page.askArrival = true
                return find(request, context, page: page)
            }
            // Several stays of one name on one day (a family's rooms): the guest picks theirs.
            let choices = result.matches.map { match in
                let reservation = match.stored.reservation
                return StayChoice(label: reservation.room.map { catalog.text("arrive.welcome.room", ["room": $0]) } ?? catalog.text("arrive.choose.unassigned"),
                                  // Only the names the guest typed: their own family's, not a group's other guests.
                                  detail: ([catalog.text("arrive.welcome.guests", count: reservation.adults + reservation.children)]
                                      + reservation.guests.filter { ReservationLookup.key($0.lastName) == ReservationLookup.key(page.surname) }
                                          .map { "\($0.firstName) \($0.lastName)" }).joined(separator: " · "),
                                  link: passLink(match, context, at: now))
            }
            var response = HTTPResponse.html(pages.render(ChooseStayPage(choices: choices), language: context.language))
            response.headers.add("Referrer-Policy", "no-referrer")
            return response
        }
    }

    /// The pass into a found booking's check-in; the language the guest found it in goes
    /// along, unless the booking's pages would pick it anyway.
    func passLink(_ match: (stored: StoredReservation, linkHash: [UInt8]), _ context: GuestContext, at now: Date) -> String {
        let token = access.pass.issue(reservationID: match.stored.reservation.id, linkHash: match.linkHash, at: now)
        let (language, implicit) = access.language(for: match.stored.reservation, context)
        return CheckinAccess.path(token: token, language: language, implicit: implicit)
    }

    /// The least time a lookup's answer takes: above what a lookup costs (well under a
    /// millisecond), small enough that a worker waiting it out costs little (lookups are
    /// throttled per address and per reference before they get here).
    static let answerFloor = Duration.milliseconds(30)
    /// Answers waiting out the floor at once: the wait holds a thread of the worker pool
    /// that logins share, so a flood of lookups (beyond what the throttles let through
    /// from one address) is answered without it rather than starve them.
    static let waitingAtMost = 2
    private static let waiting = Atomic<Int>(0)

    static func sleep(until deadline: ContinuousClock.Instant) {
        let left = deadline - ContinuousClock.now
        guard left > .zero else { return }
        guard waiting.add(1, ordering: .relaxed).newValue <= waitingAtMost else {
            waiting.subtract(1, ordering: .relaxed)
            return
        }
        defer { waiting.subtract(1, ordering: .relaxed) }
        Thread.sleep(forTimeInterval: Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18)
    }
}
