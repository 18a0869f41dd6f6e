import Firewall
import Foundation
import GRDB
import HTTPServer
import Logging
import Outbox
import Store

public struct SessionError: Error, CustomStringConvertible, Sendable, HTTPErrorConvertible {
    public enum Kind: Sendable { case notFound, firewall, store }
    public let kind: Kind
    public let description: String

    public var httpError: HTTPError {
        switch kind {
        case .notFound: .notFound(description)
        case .firewall: .serviceUnavailable("firewall_error", description)
        case .store: HTTPError(500, code: "store_error", message: description)
        }
    }
}

/// Sessions and the authorized set, kept in step: SQLite is the truth, the nft set
/// follows it. A login's row and its set element succeed or fail together.
public final class SessionService: Sendable {
    let store: Store
    let firewall: any Firewall
    let outbox: Outbox
    let sessionLength: Duration
    let logger: Logger
    let now: @Sendable () -> Date

    public init(store: Store, firewall: any Firewall, outbox: Outbox = Outbox(siteID: "", endpoints: []), sessionMinutes: Int,
                logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.firewall = firewall
        self.outbox = outbox
        self.sessionLength = .seconds(sessionMinutes * 60)
        self.logger = logger
        self.now = now
    }

    /// Starts (or keeps) the device's session. Logging in again the same way (same
    /// address, method and subject) keeps the running session; anything else replaces
    /// it, so a guest who finishes check-in after accepting the terms is bound to the
    /// reservation.
    @discardableResult
    public func login(mac: MACAddress, ipv4: IPv4Address, method: Session.Method, subject: SessionSubject? = nil,
                      minutes: Int? = nil) throws -> Session {
        let started = now()
        let length = minutes.map { Duration.seconds($0 * 60) } ?? sessionLength
        do {
            return try store.pool.write { db in
                if let current = try SessionRecords.active("mac = ?", [mac.description], in: db).first {
                    if current.ipv4 == ipv4 && current.method == method && current.subject == subject
                        && current.expiresAt > started && minutes == nil { return current }
                    try end(current, reason: current.expiresAt <= started ? .expired : .replaced, at: started,
                            traffic: traffic(of: current), in: db)
                    if current.ipv4 != ipv4, let old = current.ipv4 {
                        try firewall.deauthorize(mac: mac, ipv4: old)
                    }
                }
                let session = Session(id: UUID().uuidString.lowercased(), device: DeviceBinding(mac: mac, ipv4: ipv4), method: method,
                                      subject: subject, startedAt: started,
                                      expiresAt: started.addingTimeInterval(TimeInterval(length.components.seconds)))
                try SessionRecords.insert(session, in: db)
                try outbox.record("wifi.session.started", data: SessionEventData(session: session), at: started, in: db)
                // Inside the transaction: if the kernel refuses, the row is rolled back.
                try firewall.authorize(AuthorizedDevice(mac: mac, ipv4: ipv4, timeout: length))
                logger.info("session started", metadata: ["mac": "\(mac)", "ipv4": "\(ipv4)", "method": "\(method.rawValue)", "session": "\(session.id)"])
                return session
            }
        } catch let error as FirewallError {
            throw SessionError(kind: .firewall, description: "could not authorize \(mac): \(error.description)")
        }
    }

    /// Ends the device's active session and removes it from the set.
    @discardableResult
    public func deauthorize(mac: MACAddress, reason: Session.EndReason = .deauthorized) throws -> Session {
        let ended = now()
        do {
            return try store.pool.write { db in
                guard var session = try SessionRecords.active("mac = ?", [mac.description], in: db).first else {
                    throw SessionError(kind: .notFound, description: "no active session for \(mac)")
                }
                session = try end(session, reason: reason, at: ended, traffic: traffic(of: session), in: db)
                if let ipv4 = session.ipv4 { try firewall.deauthorize(mac: mac, ipv4: ipv4) }
                return session
            }
        } catch let error as FirewallError {
            throw SessionError(kind: .firewall, description: "could not deauthorize \(mac): \(error.description)")
        }
    }

    /// Ends the sessions whose time is up. The kernel drops their elements by
    /// itself; removing them here as well keeps the set exact if clocks disagree.
    @discardableResult
    public func expireDue() throws -> [Session] {
        let at = now()
        return try store.pool.write { db in
            let due = try SessionRecords.active("expires_at <= ?", [at], in: db)
            guard !due.isEmpty else { return [] }
            let traffic = (try? firewall.counters()) ?? [:]  // one dump for the whole batch
            let ended = try due.map { session in
                try end(session, reason: .expired, at: at, traffic: session.ipv4.flatMap { traffic[$0] }, in: db)
            }
            try firewall.deauthorize(ended.compactMap { session in session.ipv4.map { (session.mac, $0) } })
            return ended
        }
    }

    /// Installs the capture with every still-valid session already let through,
    /// in one transaction: a restart loses no authorized guest.
    public func restore() throws -> Int {
        try expireDue()
        let at = now()
        let sessions = try activeSessions()
        let devices = sessions.compactMap { session -> AuthorizedDevice? in
            guard let ipv4 = session.ipv4 else { return nil }
            return AuthorizedDevice(mac: session.mac, ipv4: ipv4, timeout: .seconds(max(1, session.secondsRemaining(at: at))))
        }
        try preservingTraffic { try firewall.install(devices: devices) }
        return devices.count
    }

    /// Runs `change`, which replaces or removes the table (and so its counters),
    /// after reading the counters, and adds them to the active sessions once it
    /// succeeded: bytes survive restarts and crashes, and are never counted twice.
    public func preservingTraffic(_ change: () throws -> Void) throws {
        let traffic = (try? firewall.counters()) ?? [:]
        try change()
        guard !traffic.isEmpty else { return }
        try store.pool.write { db in
            for var session in try SessionRecords.active(in: db) {
                guard let ipv4 = session.ipv4, let counted = traffic[ipv4] else { continue }
                session.addTraffic(counted)
                try SessionRecords.update(session, in: db)
            }
        }
    }

    public func activeSessions() throws -> [Session] {
        try store.pool.read { db in try SessionRecords.active(in: db) }
    }

    public func activeSession(mac: MACAddress) throws -> Session? {
        try store.pool.read { db in try SessionRecords.active("mac = ?", [mac.description], in: db).first }
    }

    public func session(id: String) throws -> Session? {
        try store.pool.read { db in try SessionRecords.one(id: id, in: db) }
    }

    /// One session's live counters: a lookup of its address, not a dump of every guest's.
    private func traffic(of session: Session) -> TrafficCounters? {
        session.ipv4.flatMap { try? firewall.counters(for: $0) }
    }

    /// Ends a session in `db`; `traffic` (its live counters) adds the last bytes.
    @discardableResult
    private func end(_ session: Session, reason: Session.EndReason, at: Date, traffic: TrafficCounters?, in db: Database) throws -> Session {
        var ended = session
        ended.endedAt = at
        ended.endReason = reason
        if let traffic { ended.addTraffic(traffic) }
        try SessionRecords.update(ended, in: db)
        try outbox.record("wifi.session.ended", data: SessionEventData(session: ended), at: at, in: db)
        logger.info("session ended", metadata: ["mac": "\(session.mac)", "reason": "\(reason.rawValue)", "session": "\(session.id)",
                                                "bytes_up": "\(ended.bytesUp)", "bytes_down": "\(ended.bytesDown)"])
        return ended
    }
}
