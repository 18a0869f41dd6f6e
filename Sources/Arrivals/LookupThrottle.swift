import Foundation
import Synchronization

/// Names tried against one booking reference (OWASP's account lockout, per booking):
/// every try counts until one succeeds; after `free` of them each further try waits
/// twice as long as the last (1 s, 2 s, 4 s … up to `longestWait`), and at most
/// `perHour` count an hour. Keyed by the reference as typed (`ReservationLookup.key`),
/// whether or not a booking has it, so being locked out says nothing about whether a
/// reference exists; and from however many addresses. Kept in memory: a restart
/// forgets it, which an attacker cannot cause.
public final class LookupThrottle: Sendable {
    public let free: Int
    public let perHour: Int
    public let longestWait: TimeInterval
    public let capacity: Int
    private let tries = Mutex<[String: [Date]]>([:])

    public init(free: Int = 5, perHour: Int = 100, longestWait: TimeInterval = 15 * 60, capacity: Int = 50_000) {
        self.free = free
        self.perHour = perHour
        self.longestWait = longestWait
        self.capacity = capacity
    }

    /// Counts a try of `key` and returns nil, or returns when it may be tried again
    /// (counting nothing). One step, so concurrent tries cannot all slip through a
    /// wait that just ended.
    public func begin(_ key: String, at date: Date) -> Date? {
        tries.withLock { tries in
            let recent = (tries[key] ?? []).filter { date.timeIntervalSince($0) < 3600 }
            if let until = Self.lockedUntil(recent, free: free, perHour: perHour, longestWait: longestWait), until > date {
                tries[key] = recent
                return until
            }
            if tries[key] == nil, tries.count >= capacity {
                // Full: forget the keys not tried within the hour, then the ones tried longest ago.
                tries = tries.filter { date.timeIntervalSince($0.value.last ?? .distantPast) < 3600 }
                if tries.count >= capacity {
                    for old in tries.sorted(by: { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }).prefix(capacity / 10) {
                        tries.removeValue(forKey: old.key)
                    }
                }
            }
            tries[key] = recent + [date]
            return nil
        }
    }

    /// The right name: earlier tries no longer count against the reference.
    public func succeeded(_ key: String) {
        _ = tries.withLock { $0.removeValue(forKey: key) }
    }

    static func lockedUntil(_ recent: [Date], free: Int, perHour: Int, longestWait: TimeInterval) -> Date? {
        guard let last = recent.last, recent.count >= free else { return nil }
        if recent.count >= perHour { return recent[recent.count - perHour].addingTimeInterval(3600) }
        return last.addingTimeInterval(min(longestWait, pow(2, Double(recent.count - free))))
    }
}
