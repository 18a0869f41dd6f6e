import Firewall
import Foundation
import GRDB

/// A device's time online: from login until it expires or is ended.
public struct Session: SnakeCaseRecord, Equatable, PersistableRecord {
    public enum Method: String, Codable, Sendable {
        /// The guest accepted the terms on the splash page.
        case terms
        /// Staff authorized the device (`portald auth`, admin API).
        case admin
    }

    public enum EndReason: String, Codable, Sendable {
        case expired
        case deauthorized
        /// The device logged in again from another address.
        case replaced
    }

    public var id: String
    public var mac: String
    public var ipv4: String
    public var method: Method
    public var startedAt: Date
    public var expiresAt: Date
    public var endedAt: Date?
    public var endReason: EndReason?
    /// Bytes to and from the internet: totals once ended; while active, what tables
    /// replaced since login had counted (the live table holds the rest).
    public var bytesUp: Int64 = 0
    public var bytesDown: Int64 = 0

    public static let databaseTableName = "session"

    public var isActive: Bool { endedAt == nil }

    /// Adds bytes the kernel counted for this session's address.
    mutating func addTraffic(_ counted: TrafficCounters) {
        bytesUp += Int64(clamping: counted.bytesUp)
        bytesDown += Int64(clamping: counted.bytesDown)
    }

    public func secondsRemaining(at now: Date) -> Int {
        max(0, Int(expiresAt.timeIntervalSince(now).rounded(.down)))
    }
}

extension Session {
    /// Active sessions, oldest first.
    static func active() -> QueryInterfaceRequest<Session> {
        Session.filter(Column("ended_at") == nil).order(Column("started_at"), Column("id"))
    }
}
