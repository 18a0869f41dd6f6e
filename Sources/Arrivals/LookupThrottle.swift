import Foundation
import Synchronization

/// Wrong names tried against one reservation's reference (OWASP's account lockout,
/// per reservation): after `free` failures each further try waits twice as long as the
/// last (1 s, 2 s, 4 s … up to `longestWait`), and at most `perHour` failures an hour
/// count at all. Someone who knows a booking code cannot run through a list of
/// surnames, from however many addresses. Kept in memory: a restart forgets it, which
/// an attacker cannot cause.
public final class LookupThrottle: Sendable {
    public let free: Int
    public let perHour: Int
    public let longestWait: TimeInterval
    private let failures = Mutex<[String: [Date]]>([:])

    public init(free: Int = 5, perHour: Int = 100, longestWait: TimeInterval = 15 * 60) {
        self.free = free
        self.perHour = perHour
        self.longestWait = longestWait
    }

    /// When reservation `id` may be tried again; nil: now.
    public func lockedUntil(_ id: String, at date: Date) -> Date? {
        failures.withLock { failures in
            let recent = (failures[id] ?? []).filter { date.timeIntervalSince($0) < 3600 }
            failures[id] = recent.isEmpty ? nil : recent
            guard let last = recent.last, recent.count >= free else { return nil }
            if recent.count >= perHour { return recent[recent.count - perHour].addingTimeInterval(3600) }
            let wait = min(longestWait, pow(2, Double(recent.count - free)))
            let until = last.addingTimeInterval(wait)
            return until > date ? until : nil
        }
    }

    public func failed(_ id: String, at date: Date) {
        failures.withLock { failures in
            failures[id, default: []].append(date)
            // Bounded: a flood of distinct references cannot grow this without end.
            if failures.count > 100_000 { failures = failures.filter { date.timeIntervalSince($0.value.last ?? .distantPast) < 3600 } }
        }
    }

    /// The right name: earlier wrong tries no longer count against the reservation.
    public func succeeded(_ id: String) {
        _ = failures.withLock { $0.removeValue(forKey: id) }
    }
}
