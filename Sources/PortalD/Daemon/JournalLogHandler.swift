import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// The daemon's log: one line an event, in logfmt (`level=warning msg="…" endpoint=cloud
/// attempt=2`), so `journalctl -u portald` can be searched and filtered by key. Under
/// systemd (stderr is the journal, `JOURNAL_STREAM`) each line starts with its syslog
/// priority (`<4>`), so `journalctl -p warning` works; on a terminal, with its time.
/// Everything passes `LogPrivacy` first; warnings and worse are also kept for
/// `portald status` (`RecentLog`).
public struct JournalLogHandler: LogHandler {
    /// The level every handler reads, so a reload changes it at once.
    public final class Settings: Sendable {
        private let current: Mutex<Logger.Level>
        public init(level: Logger.Level) { current = Mutex(level) }
        public var level: Logger.Level {
            get { current.withLock { $0 } }
            set { current.withLock { $0 = newValue } }
        }
    }

    let label: String
    let settings: Settings
    let privacy: LogPrivacy
    let recent: RecentLog?
    let journal: Bool
    let output: @Sendable (String) -> Void
    public var metadata: Logger.Metadata = [:]

    /// The shared setting's: a reload changes it for every logger. Setting it on one logger
    /// does nothing, so no part of the code can change another's level by accident.
    public var logLevel: Logger.Level {
        get { settings.level }
        set {}  // swiftlint:disable:this unused_setter_value
    }

    public init(label: String, settings: Settings, privacy: LogPrivacy, recent: RecentLog? = nil, journal: Bool = JournalLogHandler.stderrIsJournal,
                output: @escaping @Sendable (String) -> Void = JournalLogHandler.writeToStandardError) {
        self.label = label
        self.settings = settings
        self.privacy = privacy
        self.recent = recent
        self.journal = journal
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level
        var all = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        if let error = event.error, all["error"] == nil { all["error"] = "\(error)" }
        let text = privacy.scrub(event.message.description)
        let fields = all.map { (key: $0.key, value: privacy.scrub($0.value.description)) }.sorted { $0.key < $1.key }
        var out = journal ? "<\(Self.priority(level))>" : "ts=\(Self.timestamp(Date())) "
        out += "level=\(level.rawValue) msg=\(Self.value(text))"
        if label != "portald" { out += " logger=\(Self.value(label))" }
        for field in fields { out += " \(Self.key(field.key))=\(Self.value(field.value))" }
        output(out + "\n")
        if level >= .warning {
            recent?.record(RecentLog.Entry(at: Date(), level: level.rawValue, message: text,
                                           metadata: Dictionary(uniqueKeysWithValues: fields.map { ($0.key, $0.value) })))
        }
    }

    /// sd-daemon(3)'s priorities.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// A logfmt value: bare when it can be, else quoted, with quotes, backslashes and
    /// control characters escaped, so an event is always one line.
    static func value(_ text: String) -> String {
        let bare = !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7F }
        if bare { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Keys are code's own names; anything else is made safe rather than trusted.
    static func key(_ text: String) -> String {
        let safe = String(text.unicodeScalars.map { scalar in
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "." ? Character(scalar) : "_"
        })
        return safe.isEmpty ? "_" : safe
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// Whether stderr is the journal's stream: `JOURNAL_STREAM` names its device and inode
    /// (a child that inherited the variable but not the stream is not fooled).
    public static let stderrIsJournal: Bool = {
        guard let stream = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        var status = stat()
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]), fstat(2, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }()

    private static let standardError = Mutex(FileHandle.standardError)

    /// One write a line, under a lock: lines from two threads never interleave.
    public static let writeToStandardError: @Sendable (String) -> Void = { line in
        // A full disk or a journal gone away loses the line, never the daemon.
        standardError.withLock { try? $0.write(contentsOf: Data(line.utf8)) }
    }
}
