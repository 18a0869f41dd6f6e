import Arrivals
import Crypto
import Foundation
import HTTPServer

/// The last steps: sign the terms, arrive, and the page that says it is done.
extension CheckinController {
    // MARK: Terms

    /// The terms in the guest's language, exactly as shown, and their SHA-256 (hex).
    func terms(_ language: String) -> (text: String, hash: String) {
        let text = pages.catalog(language).text("arrive.terms.text", ["site": pages.siteName])
        return (text, Crypto.sha256(Array(text.utf8)).hexString)
    }

    func showTerms(_ visit: Visit) throws -> HTTPResponse {
        var page = termsPage(visit)
        page.name = visit.progress.terms?.name ?? ""
        page.marketing = visit.progress.terms?.marketing ?? false
        return render(page, visit)
    }

    func termsPage(_ visit: Visit) -> TermsPage {
        let (text, hash) = terms(visit.language)
        return TermsPage(nav: nav(visit), csrf: csrf(visit), action: link(visit, .terms), termsText: text, termsVersion: termsVersion, termsHash: hash)
    }

    func sign(_ visit: Visit) throws -> HTTPResponse {
        let catalog = pages.catalog(visit.language)
        let form = try submitted(visit)
        var page = termsPage(visit)
        let raw = visit.request.form
        page.name = (raw?["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).truncated(toUTF8: 200)
        page.marketing = raw?["marketing"] == "yes"
        guard let form else {
            page.error = catalog.text("arrive.form.expired")
            return render(page, visit, status: 403)
        }
        guard let guest = visit.progress.primary else { return redirect(visit, to: .details) }
        // The text changed since the page was shown (a new version): they read the new one first.
        guard form["terms_sha256"] == page.termsHash else {
            page.error = catalog.text("arrive.terms.changed")
            return render(page, visit, status: 409)
        }
        guard TermsSignature.names(page.name, guest: guest) else {
            page.nameProblem = catalog.text("arrive.terms.name_problem", ["name": "\(guest[.firstName] ?? "") \(guest[.lastName] ?? "")"])
            page.error = catalog.text("arrive.details.problems", count: 1)
            return render(page, visit, status: 422)
        }
        try checkins.sign(TermsSignature(name: page.name, signedAt: checkins.now(), clientAddress: visit.request.clientAddress,
                                         userAgent: (visit.request.headers["user-agent"] ?? "").truncated(toUTF8: 500), language: visit.language,
                                         termsVersion: termsVersion, termsSHA256: page.termsHash, marketing: page.marketing),
                          of: visit.reservation)
        return redirect(visit, to: .arrive)
    }

    // MARK: Arrive

    func showArrive(_ visit: Visit, error: String? = nil, status: Int = 200) throws -> HTTPResponse {
        let catalog = pages.catalog(visit.language)
        let progress = visit.progress
        let missing = checkins.missing(for: visit.reservation, in: progress)
        var items: [MissingItem] = []
        if missing.confirmation { items.append(MissingItem(text: catalog.text("arrive.missing.confirmation"), link: link(visit, .confirm))) }
        for field in missing.details {
            items.append(MissingItem(text: catalog.text("arrive.missing.field", ["field": catalog.text("field.\(field.rawValue)")]), link: link(visit, .details)))
        }
        for place in missing.companions {
            items.append(MissingItem(text: catalog.text("arrive.missing.companion", ["place": String(place + 1)]), link: link(visit, .companions)))
        }
        if missing.terms { items.append(MissingItem(text: catalog.text("arrive.missing.terms"), link: link(visit, .terms))) }
        let opens = checkins.arrivalOpens(visit.reservation)
        let notice = checkins.today < opens
            ? catalog.text("arrive.arrive.too_early", ["date": pages.date(opens, language: visit.language)]) : nil
        let page = ArrivePage(nav: nav(visit), csrf: csrf(visit), action: link(visit, .arrive), booking: visit.reservation.reference,
                              dates: pages.stay(visit.reservation, language: visit.language),
                              guestName: progress.primary?.fullName ?? "", missing: items, notice: notice, error: error)
        return render(page, visit, status: status)
    }

    func arrive(_ visit: Visit) throws -> HTTPResponse {
        let catalog = pages.catalog(visit.language)
        guard try submitted(visit) != nil else { return try showArrive(visit, error: catalog.text("arrive.form.expired"), status: 403) }
        do {
            // The form twice (a double tap) or on two phones: arriving is idempotent by itself.
            let arrival = try checkins.arrive(reservationID: visit.reservation.id, key: nil, via: "guest")
            var arrived = visit.reservation
            arrived.status = arrival.status
            // Best effort (a failure is logged): the arrival stands, and the done page offers the WiFi again.
            _ = try? wifi?.connect(visit.request, for: arrived)
            return redirect(visit, to: .done)
        } catch let refusal as Checkins.ArrivalRefusal {
            switch refusal {
            case .tooEarly: return try showArrive(visit, status: 409)
            case .incomplete: return try showArrive(visit, error: catalog.text("arrive.arrive.incomplete"), status: 422)
            case .notArrivable, .stayOver, .notFound: return try showArrive(visit, error: catalog.text("arrive.arrive.refused"), status: 409)
            }
        }
    }

    func showDone(_ visit: Visit, error: String? = nil, status: Int = 200) throws -> HTTPResponse {
        guard visit.arrived else { return redirect(visit, to: .arrive) }
        let catalog = pages.catalog(visit.language)
        var page = DonePage(heading: catalog.text("arrive.done.heading"),
                            message: catalog.text("arrive.done.message", ["site": pages.siteName]),
                            room: visit.reservation.room.map { catalog.text("arrive.welcome.room", ["room": $0]) }, error: error)
        switch wifi?.state(of: visit.request, for: visit.reservation) {
        case .online(let until):
            page.wifi = catalog.text("arrive.done.wifi.online", ["until": pages.dateTime(until, language: visit.language)])
        case .offered:
            page.wifi = catalog.text("arrive.done.wifi.offered")
            page.wifiAction = link(visit, page: "wifi")
            page.csrf = csrf(visit)
        case .away:
            if visit.reservation.status == .inHouse { page.wifi = catalog.text("arrive.done.wifi.away") }
        case .blocked:
            page.wifi = catalog.text("blocked.heading") + ". " + catalog.text("blocked.message")
        case .over, nil:
            break
        }
        return render(page, visit, status: status)
    }

    /// "Connect this device": the done page's button, for a device on the guest LAN
    /// that was not there when the guest arrived (checked in at home, a second phone).
    func connectWiFi(_ visit: Visit) throws -> HTTPResponse {
        guard visit.arrived else { return redirect(visit, to: .arrive) }
        guard let wifi else { return redirect(visit, to: .done) }
        let catalog = pages.catalog(visit.language)
        guard try submitted(visit) != nil else { return try showDone(visit, error: catalog.text("arrive.form.expired"), status: 403) }
        switch try? wifi.connect(visit.request, for: visit.reservation) {
        case .online?, .notPossible?:
            return redirect(visit, to: .done)
        case .full(let limit)?:
            return try showDone(visit, error: catalog.text("arrive.done.wifi.full", count: limit), status: 409)
        case nil:
            return try showDone(visit, error: catalog.text("arrive.done.wifi.failed"), status: 503)
        }
    }
}

extension String {
    /// At most `bytes` of UTF-8, cut between characters: what is kept of a field a client
    /// could make as long as it likes (a user agent in a legal record).
    func truncated(toUTF8 bytes: Int) -> String {
        guard utf8.count > bytes else { return self }
        var result = ""
        var count = 0
        for character in self {
            count += character.utf8.count
            if count > bytes { break }
            result.append(character)
        }
        return result
    }
}
