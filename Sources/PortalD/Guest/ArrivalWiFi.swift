import Arrivals
import Firewall
import Foundation
import HTTPServer
import Logging
import Outbox

/// WiFi for the stay: a guest who arrives online from a device on the guest LAN has
/// that device let on (session method `arrival`, subject the reservation) until
/// check-out time on the departure day plus `[arrivals] wifi_grace_minutes`, with at
/// most `wifi_devices_per_guest` devices a guest. The sessions follow their stay
/// (`followStays`): a longer stay extends them, a check-out or cancellation ends them.
struct ArrivalWiFi: Sendable {
    let sessions: SessionService
    /// Nil on `[arrivals] listen`: nothing there is on the guest LAN.
    let lan: GuestLAN?
    let timeZone: TimeZone
    let checkoutTime: TimeOfDay
    let graceMinutes: Int
    let devicesPerGuest: Int
    /// `[arrivals] wifi_tier`.
    /// `.none`: the session service's default tier (`[portal] tier`, as reloaded).
    let tier: String??
    let logger: Logger

    init(config: Config, sessions: SessionService, lan: GuestLAN?, logger: Logger) {
        self.sessions = sessions
        self.lan = lan
        timeZone = config.site.timeZone
        checkoutTime = config.arrivals.checkoutTime
        graceMinutes = config.arrivals.wifiGraceMinutes
        devicesPerGuest = config.arrivals.wifiDevicesPerGuest
        tier = config.arrivals.wifiTierFollowsPortal ? .none : .some(config.arrivals.wifiTier)
        self.logger = logger
    }

    /// The site's stay WiFi, or nil when `[arrivals] wifi_at_arrival = false`.
    static func forSite(_ config: Config, sessions: SessionService, lan: GuestLAN?, logger: Logger) -> ArrivalWiFi? {
        config.arrivals.wifiAtArrival ? ArrivalWiFi(config: config, sessions: sessions, lan: lan, logger: logger) : nil
    }

    /// What the done page tells the device that shows it.
    enum State: Equatable {
        /// Online for the stay (or longer, another way), until the session's end.
        case online(until: Date)
        /// On the guest LAN, not online for the stay: it may connect.
        case offered
        /// Not on the guest LAN (at home, through the reverse proxy): nothing to connect.
        case away
        /// On the LAN, but the stay's WiFi is over, or the reservation is no longer in house.
        case over
        /// On the LAN, and IT blocked the device (`portald block`).
        case blocked
    }

    enum Connection: Equatable {
        case online(until: Date)
        /// Not from the guest LAN, or the stay's WiFi is over.
        case notPossible
        /// The stay has its `limit` devices online already.
        case full(limit: Int)
    }

    /// When the stay's WiFi ends.
    func ends(_ reservation: Reservation) -> Date {
        reservation.departure.at(checkoutTime, in: timeZone).addingTimeInterval(TimeInterval(graceMinutes * 60))
    }

    /// How many devices the stay may have online.
    func deviceLimit(_ reservation: Reservation) -> Int { max(1, devicesPerGuest * max(1, reservation.adults + reservation.children)) }

    func state(of request: HTTPRequest, for reservation: Reservation) -> State {
        guard let device = lan?.device(at: request.clientAddress) else { return .away }
        if sessions.isBlocked(device.mac) { return .blocked }
        if let session = current(device), lastsTheStay(session, reservation) { return .online(until: session.expiresAt) }
        return canConnect(reservation) ? .offered : .over
    }

    /// A minute at least is left, and the guest is in house.
    func canConnect(_ reservation: Reservation) -> Bool {
        reservation.status == .inHouse && ends(reservation) > sessions.now().addingTimeInterval(60)
    }

    /// Lets the device behind `request` on until the stay's WiFi ends. A session the
    /// device has that lasts as long already (staff's, a longer stay's) is kept.
    func connect(_ request: HTTPRequest, for reservation: Reservation) throws -> Connection {
        guard let device = lan?.device(at: request.clientAddress), canConnect(reservation) else { return .notPossible }
        if let session = current(device), lastsTheStay(session, reservation) { return .online(until: session.expiresAt) }
        let session: Session
        do {
            session = try sessions.login(mac: device.mac, address: device.address, method: .arrival, subject: .reservation(reservation.id),
                                         until: ends(reservation), subjectLimit: deviceLimit(reservation), tier: tier)
        } catch let error as SessionError where error.kind == .blocked {
            logger.notice("a blocked device was not let on for its stay", metadata: ["reservation": "\(reservation.id)", "mac": "\(device.mac)"])
            return .notPossible
        } catch let error as SessionError where error.kind == .limitReached {
            logger.notice("a stay's devices are all online; refused another", metadata: ["reservation": "\(reservation.id)", "mac": "\(device.mac)"])
            return .full(limit: deviceLimit(reservation))
        } catch {
            logger.error("could not let a device on for its stay", metadata: ["reservation": "\(reservation.id)", "mac": "\(device.mac)",
                                                                                "error": "\(error)"])
            throw error
        }
        logger.info("device online for the stay", metadata: ["reservation": "\(reservation.id)", "mac": "\(device.mac)",
                                                             "until": "\(RFC3339.string(session.expiresAt))"])
        return .online(until: session.expiresAt)
    }

    /// The device's live session on this address, if any.
    private func current(_ device: DeviceKey) -> Session? {
        guard let session = try? sessions.activeSession(mac: device.mac), session.device.addresses.contains(device.address),
              session.expiresAt > sessions.now() else { return nil }
        return session
    }

    /// Whether `session` already covers the stay's WiFi (to within a minute).
    private func lastsTheStay(_ session: Session, _ reservation: Reservation) -> Bool {
        session.expiresAt >= ends(reservation).addingTimeInterval(-60)
    }

    /// Moves the stays' sessions with their reservations, as housekeeping runs it: a stay
    /// extended or shortened moves its sessions' end; a check-out ends them a grace period
    /// after it (never later than the stay's end); a cancellation, a no-show, a deleted or
    /// erased reservation ends them now. Returns how many sessions changed.
    func followStays(_ reservations: Reservations) throws -> Int {
        var changed = 0
        for session in try sessions.activeSessions() where session.method == .arrival {
            guard case .reservation(let id)? = session.subject, let address = session.device.addresses.first else { continue }
            let stored = try reservations.get(id: id)
            let now = sessions.now()
            var until: Date?
            switch stored?.reservation.status {
            case .inHouse?: until = stored.map { ends($0.reservation) }
            case .checkedOut?:
                // Only ever shorter: the guest has left.
                until = stored.map { min(ends($0.reservation), $0.updatedAt.addingTimeInterval(TimeInterval(graceMinutes * 60)), session.expiresAt) }
            default: until = nil
            }
            if let until, abs(until.timeIntervalSince(session.expiresAt)) < 60 { continue }
            if let until, until > now.addingTimeInterval(60), !sessions.isBlocked(session.mac) {
                try sessions.login(mac: session.mac, address: address, method: .arrival, subject: session.subject, until: until, tier: tier)
            } else {
                try sessions.deauthorize(mac: session.mac)
            }
            logger.info("a stay's WiFi follows its reservation", metadata: [
                "reservation": "\(id)", "mac": "\(session.mac)", "status": "\(stored?.reservation.status.rawValue ?? "gone")",
                "until": "\(until.map { RFC3339.string($0) } ?? "now")"])
            changed += 1
        }
        return changed
    }
}
