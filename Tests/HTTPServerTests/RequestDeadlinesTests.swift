import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Testing
@testable import HTTPServer

/// The request deadline's clock, with times given instead of waited for; each connection
/// is one end of a socket pair, so a cut is seen as the other end reading EOF.
@Suite("request deadlines")
struct RequestDeadlinesTests {
    /// A connected pair: (the server's end, the client's end), the client's non-blocking.
    func pair() throws -> (server: Int32, client: Int32) {
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else { throw HTTPServerError("socketpair failed") }
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        return (ends[0], ends[1])
    }

    /// Whether the server's end was shut down: the client reads EOF instead of "nothing yet".
    func wasCut(_ client: Int32) -> Bool {
        var byte: UInt8 = 0
        return recv(client, &byte, 1, 0) == 0
    }

    @Test("the clock runs from accept, stops while a request is handled, and restarts for the next one on the connection")
    func clock() throws {
        let deadlines = RequestDeadlines(limit: .seconds(10), label: "test", logger: Logger(label: "t"))
        let slow = try pair(), handled = try pair(), keptAlive = try pair()
        defer { for fd in [slow, handled, keptAlive].flatMap({ [$0.server, $0.client] }) { close(fd) } }
        let start = ContinuousClock.now
        deadlines.opened(1, descriptor: slow.server)
        deadlines.opened(2, descriptor: handled.server)
        deadlines.opened(3, descriptor: keptAlive.server)
        deadlines.handling(2)
        deadlines.handling(3)

        #expect(deadlines.sweep(now: start + .seconds(9)) == 0)
        #expect(!wasCut(slow.client))
        // Past the limit: only the connection still sending its request is cut, and once.
        #expect(deadlines.sweep(now: start + .seconds(11)) == 1)
        #expect(wasCut(slow.client))
        #expect(!wasCut(handled.client))
        #expect(deadlines.sweep(now: start + .seconds(12)) == 0)

        // A keep-alive connection whose answer is done waits for its next request under the
        // limit again: a client that trickles the next request in is cut too.
        let answered = ContinuousClock.now
        deadlines.awaitingNext(3)
        #expect(deadlines.sweep(now: answered + .seconds(9)) == 0)
        #expect(!wasCut(keptAlive.client))
        #expect(deadlines.sweep(now: answered + .seconds(11)) == 1)
        #expect(wasCut(keptAlive.client))
        #expect(!wasCut(handled.client), "a request being handled has no deadline however long it takes")

        // Closed connections are forgotten: their descriptor numbers may be reused.
        let activity = deadlines.activity
        deadlines.closed(1)
        deadlines.closed(3)
        #expect(deadlines.activity == activity + 2)
        #expect(deadlines.sweep(now: answered + .seconds(3600)) == 0)
    }

    @Test("an answer written directly cuts its connection at the next sweep")
    func cutSoon() throws {
        let deadlines = RequestDeadlines(limit: .seconds(10), label: "test", logger: Logger(label: "t"))
        let connection = try pair()
        defer { close(connection.server); close(connection.client) }
        deadlines.opened(1, descriptor: connection.server)
        deadlines.handling(1)
        deadlines.cutSoon(1)
        #expect(deadlines.sweep() == 1)
        #expect(wasCut(connection.client))
    }
}
