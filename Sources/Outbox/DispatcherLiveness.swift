import Foundation
import Synchronization

/// When each endpoint's delivery loop last came round, for the health check.
///
/// A loop comes round at least every 2 s when idle (its longest pause) and after
/// every delivery, which curl ends by the delivery timeout (twice, with a fallback URL). A loop that has not come
/// round for longer than that plus an allowance is stuck, and so is the dispatcher.
public final class DispatcherLiveness: Sendable {
    private let beats = Mutex<[String: ContinuousClock.Instant]>([:])
    private let created = ContinuousClock.now

    public init() {}

    func beat(_ endpoint: String) {
        let now = ContinuousClock.now
        beats.withLock { $0[endpoint] = now }
    }

    /// The endpoints among `expected` whose loop has not come round within `allowance`
    /// (counted from the dispatcher's creation for a loop that never did).
    public func stalled(expected: [String], allowance: Duration, now: ContinuousClock.Instant = .now) -> [String] {
        let beats = beats.withLock { $0 }
        return expected.filter { now - (beats[$0] ?? created) > allowance }
    }
}
