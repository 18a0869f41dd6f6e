import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// A total time limit for receiving each request (its line, headers and body).
///
/// libmicrohttpd's own timeout counts idle time only, so a client that sends one header
/// line every few seconds holds its connection for ever; a few thousand such clients
/// fill every slot and nobody else is answered. Here each connection's clock starts
/// when it is accepted (and again when a response is done, for the next request on a
/// keep-alive connection); it stops while the request is being handled, so a slow
/// handler or a suspended connection is never cut. A sweeper thread shuts down the
/// sockets of requests past their deadline, and MHD then closes them as it does any
/// connection its peer dropped.
///
/// The descriptor is shut down under the same lock that `closed` takes, and MHD calls
/// `closed` before it closes a socket, so a descriptor reused by a later connection is
/// never touched.
final class RequestDeadlines: Sendable {
    private struct Tracked {
        let descriptor: Int32
        var deadline: ContinuousClock.Instant?
    }

    let limit: Duration
    private let connections = Mutex<[UInt: Tracked]>([:])
    private let stopped = Atomic<Bool>(false)
    private let events = Atomic<Int>(0)
    private let logger: Logger
    private let label: String

    init(limit: Duration, label: String, logger: Logger) {
        self.limit = limit
        self.label = label
        self.logger = logger
    }

    /// Connections opened and closed and responses sent in full so far: it moves while
    /// MHD's threads do their work, however busy they are, and stops when they hang.
    var activity: Int { events.load(ordering: .relaxed) }

    /// A connection was accepted: its first request must arrive within the limit.
    func opened(_ connection: UInt, descriptor: Int32) {
        events.add(1, ordering: .relaxed)
        let deadline = ContinuousClock.now + limit
        connections.withLock { $0[connection] = Tracked(descriptor: descriptor, deadline: deadline) }
    }

    /// The request is complete and being answered: no deadline while it is.
    func handling(_ connection: UInt) {
        connections.withLock { $0[connection]?.deadline = nil }
    }

    /// A response is done (`answered`: sent in full): the next request on this connection
    /// has the limit again.
    func awaitingNext(_ connection: UInt, answered: Bool = true) {
        if answered { events.add(1, ordering: .relaxed) }
        let deadline = ContinuousClock.now + limit
        connections.withLock { $0[connection]?.deadline = deadline }
    }

    /// Cuts the connection at the next sweep (after an answer was written to it directly).
    func cutSoon(_ connection: UInt) {
        let deadline = ContinuousClock.now
        connections.withLock { $0[connection]?.deadline = deadline }
    }

    /// MHD is about to close the socket.
    func closed(_ connection: UInt) {
        events.add(1, ordering: .relaxed)
        _ = connections.withLock { $0.removeValue(forKey: connection) }
    }


    /// Shuts down every connection past its deadline; returns how many.
    @discardableResult
    func sweep(now: ContinuousClock.Instant = .now) -> Int {
        connections.withLock { connections in
            var cut = 0
            for (connection, tracked) in connections {
                guard let deadline = tracked.deadline, deadline <= now else { continue }
                // Once: MHD closes it on its next turn, and `closed` removes it.
                connections[connection]?.deadline = nil
                shutdown(tracked.descriptor, Int32(SHUT_RDWR))
                cut += 1
            }
            return cut
        }
    }

    /// Sweeps four times a second until `stop`; logs what it cut at most every 10 s,
    /// so a flood does not flood the journal too.
    func startSweeping() {
        let thread = Thread { [self] in
            var unreported = 0
            var reported = ContinuousClock.now - .seconds(60)
            while !stopped.load(ordering: .relaxed) {
                usleep(250_000)
                unreported += sweep()
                if unreported > 0, ContinuousClock.now - reported >= .seconds(10) {
                    logger.notice("closed connections whose request took longer than the limit to arrive",
                                  metadata: ["listener": "\(label)", "connections": "\(unreported)", "limit": "\(limit)"])
                    unreported = 0
                    reported = .now
                }
            }
        }
        thread.name = "portald.deadlines"
        thread.start()
    }

    func stop() { stopped.store(true, ordering: .relaxed) }
}
