import Foundation
import Logging
import Synchronization

/// The last warnings and errors the daemon logged, for `portald status`: what IT reads
/// first when a guest calls the front desk, without opening the journal. A log handler
/// beside the journal's, keeping the newest `capacity` entries in memory.
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

    /// A handler that keeps warnings and worse (whatever the configured level lets through).
    public func handler(label: String) -> some LogHandler { Handler(log: self) }

    private struct Handler: LogHandler {
        let log: RecentLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String,
                 function: String, line: UInt) {
            let all = metadata.merging(extra ?? [:]) { $1 }
            log.record(Entry(at: Date(), level: level.rawValue, message: message.description, metadata: all.mapValues(\.description)))
        }
    }
}
