import Foundation
import Lab
import GRDB
import Logging
import ServiceLifecycle
import Store
import Synchronization
import Testing
@testable import Outbox

/// A transport that answers from a script and records what it was sent.
final class FakeTransport: WebhookTransport {
    /// Per event id: the status to answer and how long to take.
    let script: @Sendable (String) -> (status: Int?, delay: Duration)
    let sent = Mutex<[String]>([])
    let closed = Mutex(false)

    init(_ script: @escaping @Sendable (String) -> (status: Int?, delay: Duration)) { self.script = script }

    func post(_ url: URL, body: Data, headers: [(String, String)], timeout: Duration) async -> HTTPOutcome {
        let id = headers.first { $0.0 == "webhook-id" }?.1 ?? ""
        sent.withLock { $0.append(id) }
        let (status, delay) = script(id)
        try? await Task.sleep(for: delay)
        return HTTPOutcome(statusCode: status, error: status == nil ? "connection refused" : nil)
    }

    func close() { closed.withLock { $0 = true } }
    var isClosed: Bool { closed.withLock { $0 } }
}

/// Passes posts to one URL to `inner`; answers 200 at once to the rest.
final class FilteringTransport: WebhookTransport {
    let inner: FakeTransport
    let url: String
    init(inner: FakeTransport, url: String) {
        self.inner = inner
        self.url = url
    }
    func post(_ url: URL, body: Data, headers: [(String, String)], timeout: Duration) async -> HTTPOutcome {
        guard url.absoluteString == self.url else { return HTTPOutcome(statusCode: 200, error: nil) }
        return await inner.post(url, body: body, headers: headers, timeout: timeout)
    }
    func close() {}
    var isClosed: Bool { false }
}

/// Answers 200 and keeps each body sent, per URL.
final class RecordingTransport: WebhookTransport {
    let bodies = Mutex<[String: [String]]>([:])
    func post(_ url: URL, body: Data, headers: [(String, String)], timeout: Duration) async -> HTTPOutcome {
        bodies.withLock { $0[url.absoluteString, default: []].append(String(decoding: body, as: UTF8.self)) }
        return HTTPOutcome(statusCode: 200, error: nil)
    }
    func close() {}
    var isClosed: Bool { false }
}

/// Keeps the endpoints the dispatcher said to forget.
final class ForgettingObserver: DeliveryObserver {
    let forgotten = Mutex<[String]>([])
    func attempted(endpoint: String, outcome: DeliveryOutcome, latency: Duration) {}
    func settled(endpoint: String, status: DeliveryStatus) {}
    func forget(endpoint: String) { forgotten.withLock { $0.append(endpoint) } }
}

@Suite("dispatcher rules, with a fake transport")
struct DispatcherTests {
    func setUp(ordering: WebhookEndpoint.Ordering) throws -> (Store, Outbox, [String]) {
        let path = Scratch.directory.appendingPathComponent("outbox-\(UUID())/o.db").path
        let store = try Store(path: path, schemas: [OutboxSchema.self])
        let endpoint = WebhookEndpoint(id: "cloud", url: URL(string: "http://127.0.0.1:9/")!,
                                       secrets: [try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")], topics: ["*"], ordering: ordering)
        let outbox = Outbox(siteID: "h", endpoints: [endpoint])
        let ids = try store.pool.write { db in
            try (1...3).map { n in try outbox.record("test.event", data: ["n": n], at: Date(), in: db)! }
        }
        return (store, outbox, ids)
    }

    func statuses(_ store: Store) throws -> [String] {
        try store.pool.read { try String.fetchAll($0, sql: "SELECT status FROM delivery ORDER BY event_sequence") }
    }

    /// Runs the dispatcher until `done` holds (or 30 s pass: the whole suite runs in parallel
    /// on two cores), then shuts it down.
    /// Returns how long it took until `done` held.
    @discardableResult
    func run(_ dispatcher: Dispatcher, until done: @escaping @Sendable () throws -> Bool) async throws -> Duration {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            let started = ContinuousClock.now
            while try !done(), ContinuousClock.now < started + .seconds(30) { try await Task.sleep(for: .milliseconds(20)) }
            let elapsed = ContinuousClock.now - started
            group.cancelAll()
            return elapsed
        }
    }

    @Test("ordering none: a slow delivery holds back nothing")
    func unorderedDoesNotWait() async throws {
        let (store, outbox, ids) = try setUp(ordering: .none)
        let slow = ids[0]
        // The slow receiver takes far longer than the test may run: it can only pass if 2 and 3 do not wait for it.
        let transport = FakeTransport { id in (200, id == slow ? .seconds(60) : .zero) }
        let dispatcher = Dispatcher(store: store, outbox: outbox, settings: DeliverySettings(concurrency: 2), transport: transport,
                                    logger: Logger(label: "t"))
        try await run(dispatcher) { try statuses(store) == ["pending", "delivered", "delivered"] }
        // With a window of 2, event 3 went out as soon as event 2 settled, while event 1 still waited on its receiver.
        #expect(try statuses(store) == ["pending", "delivered", "delivered"], "events 2 and 3 waited for the slow event 1")
        #expect(transport.sent.withLock { Set($0) } == Set(ids))
    }

    @Test("each running delivery loop, ordered or not, keeps telling the health check it is alive")
    func loopsBeat() async throws {
        for ordering in [WebhookEndpoint.Ordering.none, .ordered] {
            let (store, outbox, _) = try setUp(ordering: ordering)
            let dispatcher = Dispatcher(store: store, outbox: outbox, settings: DeliverySettings(), transport: FakeTransport { _ in (200, .zero) },
                                        logger: Logger(label: "t"))
            let before = ContinuousClock.now
            // Not yet running: counted from creation, the loop is behind any instant after it.
            #expect(dispatcher.liveness.stalled(expected: ["cloud"], allowance: .zero, now: before + .milliseconds(1)) == ["cloud"])
            try await run(dispatcher) { try statuses(store) == ["delivered", "delivered", "delivered"] }
            // It came round after `before`, so at `before` it is not behind at all.
            #expect(dispatcher.liveness.stalled(expected: ["cloud"], allowance: .zero, now: before) == [], "\(ordering)")
        }
    }

    @Test("an endpoint made while the dispatcher runs gets its events at once, as CloudEvents if asked; a deleted one stops, and its metrics go")
    func endpointsChangeWhileRunning() async throws {
        let (store, outbox, _) = try setUp(ordering: .ordered)
        let transport = RecordingTransport()
        let observer = ForgettingObserver()
        let dispatcher = Dispatcher(store: store, outbox: outbox, settings: DeliverySettings(), transport: transport, logger: Logger(label: "t"),
                                    observer: observer)
        let managed = ManagedEndpoints(store: store, outbox: outbox)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            func waitFor(_ condition: @Sendable () -> Bool) async throws {
                let started = ContinuousClock.now
                while !condition(), ContinuousClock.now < started + .seconds(30) { try await Task.sleep(for: .milliseconds(20)) }
            }
            try await waitFor { transport.bodies.withLock { $0["http://127.0.0.1:9/"]?.count == 3 } }
            let (endpoint, _) = try managed.create(url: URL(string: "http://127.0.0.1:7/ce")!, topics: ["*"], status: .active,
                                                   contentType: .cloudEvents, apiVersion: "1", ordering: .none)
            _ = try await store.pool.write { db in try outbox.record("wifi.session.started", data: ["mac": "02:00:00:00:00:10"], at: Date(), in: db) }
            try await waitFor { transport.bodies.withLock { $0["http://127.0.0.1:7/ce"]?.count == 1 } }
            try managed.delete(id: endpoint.id)
            _ = try await store.pool.write { db in try outbox.record("wifi.session.ended", data: ["mac": "02:00:00:00:00:10"], at: Date(), in: db) }
            try await waitFor { transport.bodies.withLock { $0["http://127.0.0.1:9/"]?.count == 5 } }
            try await waitFor { observer.forgotten.withLock { $0.count } == 1 }
            // One made inactive (its loop ends, it stays in the registry), deleted later: forgotten then.
            let (idle, _) = try managed.create(url: URL(string: "http://127.0.0.1:7/idle")!, topics: ["*"], status: .active,
                                               contentType: .standard, apiVersion: "1", ordering: .ordered)
            _ = try await store.pool.write { db in try outbox.record("wifi.session.started", data: ["mac": "02:00:00:00:00:11"], at: Date(), in: db) }
            try await waitFor { transport.bodies.withLock { $0["http://127.0.0.1:7/idle"]?.count == 1 } }
            _ = try managed.update(id: idle.id, revision: nil, url: nil, topics: nil, status: .inactive)
            try await Task.sleep(for: .milliseconds(200))
            #expect(!observer.forgotten.withLock { $0 }.contains(idle.id), "an inactive endpoint is not forgotten while it exists")
            try managed.delete(id: idle.id)
            try await waitFor { observer.forgotten.withLock { $0.count } == 2 }
            group.cancelAll()
            #expect(observer.forgotten.withLock { $0 } == [endpoint.id, idle.id])
        }
        let cloudEvents = transport.bodies.withLock { $0["http://127.0.0.1:7/ce"] ?? [] }
        #expect(cloudEvents.count == 1, "the deleted endpoint got nothing more: \(cloudEvents)")
        let event = try #require(try JSONSerialization.jsonObject(with: Data((cloudEvents.first ?? "").utf8)) as? [String: Any])
        #expect(event["specversion"] as? String == "1.0" && event["type"] as? String == "wifi.session.started" && event["source"] as? String == "/portald/h")
        #expect((event["data"] as? [String: Any])?["mac"] as? String == "02:00:00:00:00:10" && event["datacontenttype"] as? String == "application/json")
    }

    @Test("an endpoint deleted mid-batch: no further post goes to it and its undelivered events stay dead")
    func deletedMidBatch() async throws {
        let (store, outbox, _) = try setUp(ordering: .ordered)
        let managed = ManagedEndpoints(store: store, outbox: outbox)
        let (endpoint, _) = try managed.create(url: URL(string: "http://127.0.0.1:7/gone")!, topics: ["*"], status: .active,
                                               contentType: .standard, apiVersion: "1", ordering: .ordered)
        try await store.pool.write { db in
            for n in 1...5 { _ = try outbox.record("test.event", data: ["n": n], at: Date(), in: db, onlyEndpoint: endpoint.id) }
        }
        let gate = DispatchSemaphore(value: 0)
        let posts = Mutex(0)
        let transport = FakeTransport { _ in
            // The first post to the doomed endpoint waits until it has been deleted.
            if posts.withLock({ $0 += 1; return $0 }) == 1 { gate.wait() }
            return (200, .zero)
        }
        let onlyGone = FilteringTransport(inner: transport, url: "http://127.0.0.1:7/gone")
        let dispatcher = Dispatcher(store: store, outbox: outbox, settings: DeliverySettings(), transport: onlyGone, logger: Logger(label: "t"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            let started = ContinuousClock.now
            while posts.withLock({ $0 }) == 0, ContinuousClock.now < started + .seconds(30) { try await Task.sleep(for: .milliseconds(10)) }
            try managed.delete(id: endpoint.id)
            gate.signal()
            try await Task.sleep(for: .milliseconds(300))
            group.cancelAll()
        }
        #expect(posts.withLock { $0 } == 1, "the rest of the batch went to a deleted endpoint")
        let rows = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT status FROM delivery WHERE endpoint_id = ? ORDER BY event_sequence", arguments: [endpoint.id])
        }
        #expect(rows == Array(repeating: "dead", count: 5), "the in-flight result did not overwrite the deletion: \(rows)")
    }

    @Test("ordered: a failing event holds back the later ones")
    func orderedWaits() async throws {
        let (store, outbox, ids) = try setUp(ordering: .ordered)
        let transport = FakeTransport { id in (id == ids[0] ? 500 : 200, .zero) }
        let dispatcher = Dispatcher(store: store, outbox: outbox, settings: DeliverySettings(), transport: transport, logger: Logger(label: "t"))
        // Keep the dispatcher running 300 ms after the first send: time enough to send 2 and 3 if it wrongly would.
        let firstSend = Mutex<ContinuousClock.Instant?>(nil)
        try await run(dispatcher) {
            guard transport.sent.withLock({ !$0.isEmpty }) else { return false }
            let since = firstSend.withLock { first in
                if first == nil { first = .now }
                return first!
            }
            return ContinuousClock.now - since >= .milliseconds(300)
        }
        #expect(transport.sent.withLock { $0 } == [ids[0]])
        #expect(try statuses(store) == ["pending", "pending", "pending"])
        let attempts = try await store.pool.read { try Int.fetchOne($0, sql: "SELECT attempts FROM delivery ORDER BY event_sequence LIMIT 1") }
        #expect(attempts == 1)
    }

    @Test("410 suspends the endpoint and keeps the event first in line")
    func goneSuspends() async throws {
        let (store, outbox, _) = try setUp(ordering: .ordered)
        let transport = FakeTransport { _ in (410, .zero) }
        let dispatcher = Dispatcher(store: store, outbox: outbox, settings: DeliverySettings(), transport: transport, logger: Logger(label: "t"))
        try await run(dispatcher) {
            try store.pool.read { try Bool.fetchOne($0, sql: "SELECT 1 FROM endpoint_state WHERE suspended_at IS NOT NULL") ?? false }
        }
        #expect(transport.sent.withLock { $0.count } == 1)
        #expect(try statuses(store) == ["pending", "pending", "pending"])
        let resumed = try await store.pool.write { try outbox.resume(endpoint: "cloud", in: $0) }
        #expect(resumed)
    }
}
