import Foundation

/// The data of `wifi.session.started` and `wifi.session.ended`: the session's
/// fields, and for an ended one why, when, how long and how many bytes each way
/// (null each way when the last counters could not be read).
struct SessionEventData: Encodable {
    let session: Session

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", mac, ipv4, ipv6, method, tier, subject, startedAt = "started_at", expiresAt = "expires_at"
        case reason, endedAt = "ended_at", durationSeconds = "duration_seconds", bytesUp = "bytes_up", bytesDown = "bytes_down"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(session.id, forKey: .sessionID)
        try container.encode(session.mac.description, forKey: .mac)
        try container.encode(session.ipv4?.description, forKey: .ipv4)
        try container.encode(session.device.ipv6.map(\.description), forKey: .ipv6)  // those bound so far (the address watcher adds more)
        try container.encode(session.method.rawValue, forKey: .method)
        try container.encode(session.tier, forKey: .tier)  // null without one
        try container.encode(session.subject, forKey: .subject)  // null when nobody in particular
        try container.encode(session.startedAt, forKey: .startedAt)
        guard let endedAt = session.endedAt else {
            return try container.encode(session.expiresAt, forKey: .expiresAt)
        }
        try container.encode(session.endReason?.rawValue, forKey: .reason)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(max(0, Int(endedAt.timeIntervalSince(session.startedAt).rounded())), forKey: .durationSeconds)
        if session.trafficUnknown {
            try container.encodeNil(forKey: .bytesUp)
            try container.encodeNil(forKey: .bytesDown)
        } else {
            try container.encode(session.bytesUp, forKey: .bytesUp)
            try container.encode(session.bytesDown, forKey: .bytesDown)
        }
    }
}
