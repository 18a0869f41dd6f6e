import Arrivals
import Foundation
import HTTPServer

/// The companions step: the primary guest fills a place in, or invites its companion
/// with a link and a QR code, and can end an invite.
extension CheckinController {
    func addCompanionRoutes(to group: RouterGroup<GuestContext>) {
        let blocking = group.group(execution: .offloaded)
        blocking.get("/arrive/{token}/companions") { request, context in try visit(request, context, .companions, showCompanions) }
        blocking.get("/arrive/{token}/companions/{place}") { request, context in
            try visit(request, context, .companions) { try showDetails($0, place: try place($0, context)) }
        }
        blocking.post("/arrive/{token}/companions/{place}") { request, context in
            try visit(request, context, .companions) { try saveDetails($0, place: try place($0, context)) }
        }
        blocking.post("/arrive/{token}/companions/{place}/invite") { request, context in
            try visit(request, context, .companions) { try invite($0, place: try place($0, context)) }
        }
        blocking.post("/arrive/{token}/companions/{place}/revoke") { request, context in
            try visit(request, context, .companions) { try revoke($0, place: try place($0, context)) }
        }
    }

    /// The `{place}` of the path: 1 … the reservation's companion places, else 404.
    func place(_ visit: Visit, _ context: GuestContext) throws -> Int {
        guard let place = Int(try context.parameters.require("place")), (1...max(1, Checkins.companionPlaces(visit.reservation))).contains(place),
              Checkins.companionPlaces(visit.reservation) > 0 else {
            throw HTTPError.notFound("this booking has no such companion")
        }
        return place
    }

    func showCompanions(_ visit: Visit) throws -> HTTPResponse { try showCompanions(visit, error: nil) }

    func showCompanions(_ visit: Visit, error: String?, status: Int = 200) throws -> HTTPResponse {
        let places = Checkins.companionPlaces(visit.reservation)
        guard places > 0 else { return redirect(visit, to: .terms) }
        let catalog = pages.catalog(visit.language)
        let invitations = try checkins.invitations(reservationID: visit.reservation.id)
        let rows = (1...places).map { place in
            let invitation = invitations[place]
            let state: String = if let details = visit.progress.guests[place] {
                details.fullName + (invitation?.claimedAt != nil ? " · " + catalog.text("arrive.companions.by_themselves") : "")
            } else if let invitation {
                catalog.text(invitation.claimedAt == nil ? "arrive.companions.invited" : "arrive.companions.claimed")
            } else {
                catalog.text("arrive.companions.empty")
            }
            return CompanionRow(label: catalog.text("arrive.companions.place", ["place": String(place + 1)]), state: state,
                                detailsLink: link(visit, page: "companions/\(place)"), inviteAction: link(visit, page: "companions/\(place)/invite"),
                                revokeAction: invitation == nil ? nil : link(visit, page: "companions/\(place)/revoke"))
        }
        let intro = catalog.text(checkins.profile.registersEveryone ? "arrive.companions.intro_required" : "arrive.companions.intro", count: places)
        let page = CompanionsPage(nav: nav(visit), csrf: csrf(visit), intro: intro, rows: rows, next: link(visit, .terms), error: error)
        return render(page, visit, status: status, path: "/arrive/\(visit.token)/companions")
    }

    /// A new invite link for the place, shown this once with its QR code (portald keeps its hash only).
    func invite(_ visit: Visit, place: Int) throws -> HTTPResponse {
        guard try submitted(visit) != nil else { return try expired(visit) }
        let token = try checkins.invite(position: place, of: visit.reservation)
        let url = CheckinLink.url(base: access.reservations.linkBase, path: "claim", token: token).absoluteString
        let catalog = pages.catalog(visit.language)
        let label = catalog.text("arrive.invite.qr_label")
        let page = InvitePage(heading: catalog.text("arrive.invite.heading", ["place": String(place + 1)]), url: url,
                              qr: QRCode(url)?.svg(label: label) ?? "", back: link(visit, .companions))
        // A 200 to a POST (the link exists only in this answer): a reload asks before it sends again.
        return .html(pages.render(page, language: visit.language))  // no language links: the link exists in this answer only
    }

    func revoke(_ visit: Visit, place: Int) throws -> HTTPResponse {
        guard try submitted(visit) != nil else { return try expired(visit) }
        try checkins.revoke(position: place, reservationID: visit.reservation.id)
        return redirect(visit, to: .companions)
    }

    /// An expired form changed nothing: the page again, saying so.
    func expired(_ visit: Visit) throws -> HTTPResponse {
        try showCompanions(visit, error: pages.catalog(visit.language).text("arrive.form.expired"), status: 403)
    }
}
