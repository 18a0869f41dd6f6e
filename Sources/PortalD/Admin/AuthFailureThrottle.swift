import Firewall
import Foundation
import HTTPServer
import Logging
import Synchronization

/// Failed admin authentications per source address: after `limit` failures within
/// `window`, the address is answered 429 (token unchecked) until the window ends.
/// Guessing at 10 000 tokens a second becomes 10 a minute, and every failure is logged
/// (the ones refused while blocked are counted into one line per window instead).
///
/// An IPv6 address counts by its /64: one device may pick any address in its network's
/// /64 and would otherwise get a fresh allowance with each. At most `capacity` addresses
/// are tracked; when that many are in a window at once, further ones share one record,
/// so a flood of sources costs bounded memory (and throttles them together).
final class AuthFailureThrottle: Sendable {
    let limit: Int
    let window: Duration
    let capacity: Int
    private let logger: Logger
    private struct Record { var started: ContinuousClock.Instant; var failures: Int; var refused: Int }
    private let records = Mutex<[String: Record]>([:])
    /// The shared record of addresses beyond `capacity`.
    static let overflow = "(addresses beyond the tracked number)"

    /// What its log lines name ("admin API", "inbound").
    let label: String
    /// On the guest LAN: the device behind an address (its MAC), which failures count
    /// under instead of the address. Every guest's IPv6 addresses share the LAN's /64,
    /// and one device may use any number of them; its MAC is one. Nil (no neighbour
    /// entry) falls back to the address.
    let device: (@Sendable (String) -> String?)?

    init(limit: Int = 10, window: Duration = .seconds(60), capacity: Int = 10_000, label: String = "admin API",
         device: (@Sendable (String) -> String?)? = nil, logger: Logger) {
        self.label = label
        self.device = device
        self.limit = limit
        self.window = window
        self.capacity = capacity
        self.logger = logger
    }

    /// What an address is counted under: an IPv4 address itself, an IPv6 one by its /64
    /// (an IPv4-mapped one as the IPv4 address).
    static func key(for address: String) -> String {
        guard address.contains(":") else { return address }
        let text = address.split(separator: "%", maxSplits: 1).first.map(String.init)?.lowercased() ?? ""
        if text.hasPrefix("::ffff:"), text.contains(".") { return String(text.dropFirst(7)) }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return text }
        let head = halves[0].split(separator: ":").map(String.init)
        let tail = halves.count == 2 ? halves[1].split(separator: ":").map(String.init) : []
        let groups = head + Array(repeating: "0", count: halves.count == 2 ? max(0, 8 - head.count - tail.count) : 0) + tail
        guard groups.count >= 4 else { return text }
        return groups.prefix(4).map { UInt16($0, radix: 16).map { String($0, radix: 16) } ?? $0 }.joined(separator: ":") + "::/64"
    }

    private func countingKey(_ address: String) -> String {
        if let device, let mac = device(address) { return "device " + mac }
        return Self.key(for: address)
    }

    /// When expired records were last dropped to make room (at most once a second: it walks them all).
    private let lastPrune = Mutex<ContinuousClock.Instant?>(nil)

    /// The record `key` uses (callers hold the lock): its own while there is room.
    private func slot(_ key: String, in records: inout [String: Record], now: ContinuousClock.Instant) -> String {
        if records[key] != nil || records.count < capacity { return key }
        if lastPrune.withLock({ last in
            guard last.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
            last = now
            return true
        }) {
            records = records.filter { now < $0.value.started + window }
        }
        return records.count < capacity ? key : Self.overflow
    }

    /// The 429 for `address` while it must wait (`Retry-After` rounded up to whole
    /// seconds), or nil when it may try.
    func refusal(_ address: String) -> HTTPError? {
        guard let wait = retryAfter(address) else { return nil }
        let seconds = max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
        return HTTPError(429, code: "too_many_failures",
                         message: "too many failed authentications from this \(device == nil ? "address (for IPv6, its /64 network)" : "device"); try again in \(seconds) s",
                         headers: ["Retry-After": "\(seconds)"])
    }

    /// How long `address` must wait, or nil when it may try.
    func retryAfter(_ address: String, now: ContinuousClock.Instant = .now) -> Duration? {
        var refusedInEndedWindow = 0
        var address = countingKey(address)
        let wait: Duration? = records.withLock { records in
            address = slot(address, in: &records, now: now)
            guard var record = records[address] else { return nil }
            let ends = record.started + window
            if now >= ends {
                refusedInEndedWindow = record.refused
                records[address] = nil
                return nil
            }
            guard record.failures >= limit else { return nil }
            record.refused += 1
            records[address] = record
            return ends - now
        }
        // Logged outside the lock: a slow log sink must not hold up every admin request.
        if refusedInEndedWindow > 0 {
            logger.warning("\(label): refused further attempts from an address over the failure limit",
                           metadata: ["address": "\(address)", "refused": "\(refusedInEndedWindow)"])
        }
        return wait
    }

    /// Counts a failed authentication from `address` and logs it.
    func failed(_ address: String, reason: String, now: ContinuousClock.Instant = .now) {
        var key = countingKey(address)
        let failures = records.withLock { records in
            key = slot(key, in: &records, now: now)
            var record = records[key].flatMap { now < $0.started + window ? $0 : nil } ?? Record(started: now, failures: 0, refused: 0)
            record.failures += 1
            records[key] = record
            return record.failures
        }
        logger.warning("\(label): authentication failed", metadata: [
            "address": "\(address)", "counted_as": "\(key)", "reason": "\(reason)", "failures_in_window": "\(failures)"])
        if failures == limit {
            logger.error("\(label): \(limit) failed authentications from one address; refusing it with 429 for \(window)",
                         metadata: ["address": "\(key)"])
        }
    }
}
