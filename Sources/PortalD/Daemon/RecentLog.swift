import Foundation
import Logging
import Synchronization

/// The last warnings and errors the daemon logged, for `portald status`: what IT reads
/// first when a guest calls the front desk, without opening the journal. `JournalLogHandler`
/// records them here as it writes them (scrubbed), keeping the newest `capacity` in memory.
public final class RecentLog: Sendable {
    public struct Entry: Sendable, Codable, Equatable {
        public var at: Date
        public var level: String
        public var message: String
        public var metadata: [String: String]
    }

    /// The daemon's, filled by the handler `Serve` installs.
    public static let shared = RecentLog()

    let capacity: Int
    private let entries = Mutex<[Entry]>([])

    public init(capacity: Int = 20) {
        self.capacity = capacity
    }

    func record(_ entry: Entry) {
        entries.withLock { entries in
            entries.append(entry)
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
    }

    /// Oldest first.
    public var latest: [Entry] { entries.withLock { $0 } }
}
