import Arrivals
import Foundation
import GRDB
import Outbox
import Prometheus
import Store
import Synchronization

/// A scrape of `/metrics`: the gauges of what the store holds and of the process are
/// read now, in one read transaction, then every metric is written out. Runs on the
/// worker pool (SQLite).
final class MetricsScrape: Sendable {
    let metrics: PortalMetrics
    let store: Store
    let outbox: Outbox
    let timeZone: TimeZone
    let now: @Sendable () -> Date
    private let sessions: GaugeFamily
    private let deliveries: GaugeFamily
    private let oldestPending: GaugeFamily
    private let reservations: GaugeFamily
    private let expectedToday: Gauge
    private let arrivedToday: Gauge
    private let process: ProcessGauges
    /// One scrape at a time: each sets the gauges, then writes them out.
    private let lock = Mutex(())

    init(metrics: PortalMetrics, store: Store, outbox: Outbox, timeZone: TimeZone, now: @escaping @Sendable () -> Date = Date.init) {
        self.metrics = metrics
        self.store = store
        self.outbox = outbox
        self.timeZone = timeZone
        self.now = now
        let registry = metrics.registry
        sessions = GaugeFamily(registry, "portald_sessions_active", labels: ["method", "tier"],
                               help: "Active sessions by login method and tier (\"none\": no tier).")
        deliveries = GaugeFamily(registry, "portald_outbox_deliveries", labels: ["endpoint", "status"],
                                 help: "Deliveries the outbox holds, by endpoint and status (settled ones are kept log_retention_days).")
        oldestPending = GaugeFamily(registry, "portald_outbox_oldest_pending_age_seconds", labels: ["endpoint"],
                                    help: "Age of the oldest event still waiting to reach the endpoint; 0 when none waits.")
        reservations = GaugeFamily(registry, "portald_reservations", labels: ["status"], help: "Reservations by status.")
        expectedToday = registry.gauge("portald_arrivals_expected_today",
                                           help: "Reservations arriving today (the site's day) that are not cancelled.")
        arrivedToday = registry.gauge("portald_arrivals_today", help: "Reservations moved to in-house today (the site's day).")
        process = ProcessGauges(registry)
    }

    /// The exposition, with every gauge read now.
    func scrape() throws -> [UInt8] {
        try lock.withLock { _ in
            let at = now()
            let (active, stats, figures) = try store.pool.read { db in
                let active = try SessionRecords.countsByMethodAndTier(in: db).map { ([$0.method, $0.tier], Double($0.count)) }
                return (active, try outbox.stats(in: db), try ArrivalsFigures.read(in: db, now: at, timeZone: timeZone))
            }
            var byMethod = Dictionary(uniqueKeysWithValues: Session.Method.allCases.map { ([$0.rawValue, "none"], 0.0) })
            for (labels, count) in active { byMethod[labels] = count }
            sessions.set(byMethod)
            var held: [[String]: Double] = [:]
            var ages: [[String]: Double] = [:]
            for endpoint in stats.endpoints {
                held[[endpoint.id, "pending"]] = Double(endpoint.pending)
                held[[endpoint.id, "delivered"]] = Double(endpoint.delivered)
                held[[endpoint.id, "dead"]] = Double(endpoint.dead)
                ages[[endpoint.id]] = endpoint.oldestPendingAt.map { max(0, at.timeIntervalSince($0)) } ?? 0
            }
            deliveries.set(held)
            oldestPending.set(ages)
            reservations.set(Dictionary(uniqueKeysWithValues: figures.reservationsByStatus.map { ([$0.key.rawValue], Double($0.value)) }))
            expectedToday.set(Double(figures.expectedToday))
            arrivedToday.set(Double(figures.arrivedToday))
            process.update()
            return metrics.exposition()
        }
    }
}

/// A labelled gauge set whole at each scrape: a label set no longer there (an endpoint
/// deleted, a tier no session is in) is dropped rather than left at its last value.
final class GaugeFamily: Sendable {
    let registry: PrometheusCollectorRegistry
    let name: String
    let labels: [String]
    let help: String
    private let gauges = Mutex<[[String]: Gauge]>([:])

    init(_ registry: PrometheusCollectorRegistry, _ name: String, labels: [String], help: String) {
        self.registry = registry
        self.name = name
        self.labels = labels
        self.help = help
    }

    func set(_ values: [[String]: Double]) {
        gauges.withLock { gauges in
            for (key, gauge) in gauges where values[key] == nil {
                registry.unregisterGauge(gauge)
                gauges[key] = nil
            }
            for (key, value) in values {
                let gauge = gauges[key] ?? registry.gauge(name, Array(zip(labels, key)), help: help)
                gauge.set(value)
                gauges[key] = gauge
            }
        }
    }
}

/// `process_*`, as the Prometheus client libraries name them.
final class ProcessGauges: Sendable {
    let resident, virtual, start, open, max: Gauge
    let cpu: Counter
    /// What `cpu` has been given so far: a counter only moves up, by the difference.
    private let cpuCounted = Mutex(0.0)

    init(_ registry: PrometheusCollectorRegistry) {
        resident = registry.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes.")
        virtual = registry.gauge("process_virtual_memory_bytes", help: "Virtual memory size in bytes.")
        start = registry.gauge("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.")
        open = registry.gauge("process_open_fds", help: "Number of open file descriptors.")
        max = registry.gauge("process_max_fds", help: "Maximum number of open file descriptors.")
        cpu = registry.counter("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.")
    }

    func update() {
        guard let figures = ProcessFigures.read() else { return }
        resident.set(figures.residentBytes)
        virtual.set(figures.virtualBytes)
        start.set(figures.startTime)
        open.set(figures.openDescriptors)
        max.set(figures.maxDescriptors)
        cpuCounted.withLock { counted in
            if figures.cpuSeconds > counted {
                cpu.increment(by: figures.cpuSeconds - counted)
                counted = figures.cpuSeconds
            }
        }
    }
}
