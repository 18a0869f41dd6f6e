import Foundation

/// `wifi.session.started` data.
struct SessionStarted: Encodable {
    let session: Session
    enum CodingKeys: String, CodingKey { case sessionID = "session_id", mac, ipv4, method, startedAt = "started_at", expiresAt = "expires_at" }
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(session.id, forKey: .sessionID)
        try container.encode(session.mac, forKey: .mac)
        try container.encode(session.ipv4, forKey: .ipv4)
        try container.encode(session.method.rawValue, forKey: .method)
        try container.encode(session.startedAt, forKey: .startedAt)
        try container.encode(session.expiresAt, forKey: .expiresAt)
    }
}

/// `wifi.session.ended` data.
struct SessionEnded: Encodable {
    let session: Session
    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", mac, ipv4, method, reason, startedAt = "started_at", endedAt = "ended_at", durationSeconds = "duration_seconds"
    }
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(session.id, forKey: .sessionID)
        try container.encode(session.mac, forKey: .mac)
        try container.encode(session.ipv4, forKey: .ipv4)
        try container.encode(session.method.rawValue, forKey: .method)
        try container.encode(session.endReason?.rawValue, forKey: .reason)
        try container.encode(session.startedAt, forKey: .startedAt)
        try container.encode(session.endedAt, forKey: .endedAt)
        let ended = session.endedAt ?? session.startedAt
        try container.encode(max(0, Int(ended.timeIntervalSince(session.startedAt).rounded())), forKey: .durationSeconds)
    }
}
