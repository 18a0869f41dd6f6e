import Arrivals
import Foundation
import HTTPServer

/// What a check-in page's token opens: a check-in link, or the pass "find my booking"
/// hands out; either only while the reservation can be checked in to. Every page of
/// the flow asks here first, and every wrong token counts against its address.
struct CheckinAccess: Sendable {
    let reservations: Reservations
    let pass: CheckinPass
    /// Wrong tokens and failed lookups per address (its own count: the admin API's is not the guests').
    let throttle: AuthFailureThrottle
    let pages: GuestPages

    /// The reservation a token opens, or nil.
    func reservation(forToken token: String) throws -> StoredReservation? {
        guard token.count <= 300 else { return nil }
        if CheckinPass.isPass(token) {
            guard let id = pass.claimedID(token, at: reservations.now()), let (stored, linkHash) = try reservations.openable(id: id),
                  pass.verify(token, linkHash: linkHash) else { return nil }
            return stored
        }
        return try reservations.reservation(forLinkToken: token).flatMap { reservations.isOpenable($0) ? $0 : nil }
    }

    /// The reservation of the request's `{token}`, or the neutral page: unknown, rotated and
    /// expired links all get the same one, and count as a wrong guess.
    func open(_ request: HTTPRequest, _ context: GuestContext) throws -> Result<(token: String, stored: StoredReservation), Refusal> {
        if let refusal = throttle.refusal(request.clientAddress) { throw refusal }
        let token = try context.parameters.require("token")
        guard let stored = try reservation(forToken: token) else {
            // The address and nothing of the token: a link in a log is a way in.
            throttle.failed(request.clientAddress, reason: "unknown check-in link")
            return .failure(Refusal(response: invalidLink(language: context.language)))
        }
        return .success((token, stored))
    }

    /// The language of a reservation's pages, and the one its links need not name: the guest's
    /// choice, else their browser's (of the languages there are), else the reservation's
    /// (a German booking opens in German), else the site's.
    func language(for reservation: Reservation, _ context: GuestContext) -> (language: String, implicit: String) {
        let booked = reservation.language.map { String($0.prefix { $0 != "-" }).lowercased() }.flatMap { pages.catalogs[$0] == nil ? nil : $0 }
        let implicit = context.acceptedLanguage ?? booked ?? pages.defaultLanguage
        return (context.chosenLanguage ?? implicit, implicit)
    }

    /// `/arrive/<token>[/<page>]`, naming `?lang=` only when the page would not pick the
    /// language by itself (`implicit`): a guest's choice then survives every redirect.
    static func path(token: String, page: String = "", language: String, implicit: String) -> String {
        "/arrive/\(token)" + (page.isEmpty ? "" : "/" + page) + (language == implicit ? "" : "?lang=" + language)
    }

    /// The one page for a link that opens nothing, whatever the reason (404).
    func invalidLink(language: String) -> HTTPResponse {
        let catalog = pages.catalog(language)
        return .html(pages.render(MessagePage(heading: catalog.text("arrive.invalid.heading"), message: catalog.text("arrive.invalid.message"),
                                              link: pages.link("/arrive", language: language), linkText: catalog.text("arrive.find.submit")),
                                  language: language), status: 404)
    }

    struct Refusal: Error {
        let response: HTTPResponse
    }
}
