import Arrivals
import Firewall
import Foundation
import HTTPServer
import Logging
import Outbox

/// WiFi for the stay: a guest who arrives online from a device on the guest LAN has
/// that device let on (session method `arrival`, subject the reservation) until
/// check-out time on the departure day plus `[arrivals] wifi_grace_minutes`.
struct ArrivalWiFi: Sendable {
    let sessions: SessionService
    let lan: GuestLAN
    let timeZone: TimeZone
    let checkoutTime: TimeOfDay
    let graceMinutes: Int
    let logger: Logger

    /// What the done page tells the device that shows it.
    enum State: Equatable {
        /// Online for this stay, until the session's end.
        case online(until: Date)
        /// On the guest LAN, not (yet) online for this stay: it may connect.
        case offered
        /// Not on the guest LAN (at home, through the reverse proxy): nothing to connect.
        case away
        /// On the LAN, but the stay's WiFi is over, or the reservation is no longer in house.
        case over
    }

    /// When the stay's WiFi ends.
    func ends(_ reservation: Reservation) -> Date {
        reservation.departure.at(checkoutTime, in: timeZone).addingTimeInterval(TimeInterval(graceMinutes * 60))
    }

    func state(of request: HTTPRequest, for reservation: Reservation) -> State {
        guard let device = lan.device(at: request.clientAddress) else { return .away }
        if let session = try? sessions.activeSession(mac: device.mac), session.ipv4 == device.ipv4, session.method == .arrival,
           session.subject == .reservation(reservation.id), session.expiresAt > sessions.now() {
            return .online(until: session.expiresAt)
        }
        return canConnect(reservation) ? .offered : .over
    }

    /// A minute at least is left, and the guest is in house.
    func canConnect(_ reservation: Reservation) -> Bool {
        reservation.status == .inHouse && ends(reservation) > sessions.now().addingTimeInterval(60)
    }

    /// Lets the device behind `request` on until the stay's WiFi ends. Nil when the
    /// request is not from the guest LAN or the stay's WiFi is over.
    func connect(_ request: HTTPRequest, for reservation: Reservation) throws -> Session? {
        guard let device = lan.device(at: request.clientAddress), let ipv4 = device.ipv4, canConnect(reservation) else { return nil }
        let session: Session
        do {
            session = try sessions.login(mac: device.mac, ipv4: ipv4, method: .arrival, subject: .reservation(reservation.id),
                                         until: ends(reservation))
        } catch {
            logger.error("could not let a device on for its stay", metadata: ["reservation": "\(reservation.id)", "mac": "\(device.mac)",
                                                                                "error": "\(error)"])
            throw error
        }
        logger.info("device online for the stay", metadata: ["reservation": "\(reservation.id)", "mac": "\(device.mac)",
                                                             "until": "\(RFC3339.string(session.expiresAt))"])
        return session
    }
}
