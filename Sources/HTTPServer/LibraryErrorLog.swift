import Foundation
import Logging
import Synchronization

/// libmicrohttpd's own messages, coalesced: most are about clients (a refused connection,
/// a malformed request), and one client over its limit makes thousands a second, which
/// would crowd out the daemon's other lines. The first of each kind is logged; repeats
/// are counted into one line per kind every 10 s.
final class LibraryErrorLog: Sendable {
    private let logger: Logger
    private struct Kind { var lastLogged: ContinuousClock.Instant; var repeats: Int }
    private let kinds = Mutex<[String: Kind]>([:])

    init(logger: Logger) { self.logger = logger }

    func report(_ message: String, now: ContinuousClock.Instant = .now) {
        // Messages of one kind share their start; the rest is a count, an errno, a path.
        let kind = String(message.prefix(32))
        let repeated: Int? = kinds.withLock { kinds in
            guard var known = kinds[kind] else {
                if kinds.count > 256 { kinds.removeAll() }
                kinds[kind] = Kind(lastLogged: now, repeats: 0)
                return 0
            }
            known.repeats += 1
            defer { kinds[kind] = known }
            guard now - known.lastLogged >= .seconds(10) else { return nil }
            let count = known.repeats
            known.repeats = 0
            known.lastLogged = now
            return count
        }
        guard let repeated else { return }
        // "Server reached connection limit" is also what MHD says to one address over its own limit.
        let text = message.hasPrefix("Server reached connection limit")
            ? "connection refused: the server's or this address's connection limit is reached" : message
        logger.warning("libmicrohttpd: \(text)", metadata: repeated > 0 ? ["repeats_in_last_10s": "\(repeated)"] : [:])
    }
}
