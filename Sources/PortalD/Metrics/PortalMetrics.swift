import Firewall
import Foundation
import HTTPServer
import Outbox
import Prometheus

/// What portald counts while it runs, served at `/metrics` on the admin listener in
/// Prometheus' text format 0.0.4. Counters and histograms are updated where things
/// happen (a login, an attempt, an apply); they start at zero with the process, which
/// Prometheus reads as a counter reset. What the store holds (sessions, the outbox's
/// backlog, reservations) is read at each scrape instead: `MetricsScrape`.
///
/// Labels are bounded sets only: a route's pattern, never its path; an endpoint's id,
/// a method, a status. No MAC, address or token is ever a label.
public final class PortalMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let capturedRedirects: Counter
    private let capturedRequests: Counter

    public init() {
        capturedRedirects = registry.counter("portald_captured_redirects_total", help: Help.captured)
        capturedRequests = registry.counter("portald_http_requests_total",
                                                [("listener", "portal"), ("route", Self.capturedRoute), ("status", "302")], help: Help.requests)
        registry.gauge("portald_build_info", [("version", Daemon.version), ("swift", Self.swiftVersion)], help: Help.build).set(to: 1)
        // The series a dashboard plots from the first scrape on, at zero.
        for method in Session.Method.allCases {
            for result in [LoginResult.started, .error] { _ = logins(method, result) }
        }
        for operation in FirewallOperation.allCases {
            _ = applyFailures(operation)
            _ = applyDuration(operation)
        }
        for kind in RepairKind.allCases { _ = repairs(kind) }
    }

    static let capturedRoute = "(captured)"

    static var swiftVersion: String {
        #if compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #else
        "6"
        #endif
    }

    /// The exposition, for the `/metrics` route (after `MetricsScrape` set the gauges).
    func exposition() -> [UInt8] { registry.emitToBuffer() }

    // MARK: Guests

    /// A request the portal answered from its first line: a captured page load.
    func captured(status: Int) {
        capturedRedirects.increment()
        if status == 302 {
            capturedRequests.increment()
        } else {
            registry.counter("portald_http_requests_total",
                                 [("listener", "portal"), ("route", Self.capturedRoute), ("status", String(status))], help: Help.requests).increment()
        }
    }

    enum LoginResult: String, CaseIterable {
        /// A new session (or one that replaced the device's last).
        case started
        /// The same login again: the running session kept.
        case kept
        case blocked
        /// The reservation's devices are all online.
        case deviceLimit = "device_limit"
        /// The guest's form was stale or the terms were not accepted.
        case refused
        /// The store or the firewall failed.
        case error
    }

    func login(_ method: Session.Method, _ result: LoginResult) { logins(method, result).increment() }

    private func logins(_ method: Session.Method, _ result: LoginResult) -> Counter {
        registry.counter("portald_logins_total", [("method", method.rawValue), ("result", result.rawValue)], help: Help.logins)
    }

    // MARK: HTTP

    /// What a listener's router reports each answer to.
    func requests(listener: String) -> any RequestObserver { ListenerObserver(metrics: self, listener: listener) }

    private struct ListenerObserver: RequestObserver {
        let metrics: PortalMetrics
        let listener: String

        func observe(_ observation: RequestObservation) {
            let registry = metrics.registry
            registry.counter("portald_http_requests_total",
                                 [("listener", listener), ("route", observation.route), ("status", String(observation.status))],
                                 help: Help.requests).increment()
            registry.histogram("portald_http_request_duration_seconds",
                                           [("listener", listener), ("route", observation.route)],
                                           buckets: Buckets.request, help: Help.requestDuration).record(observation.duration)
        }
    }

    // MARK: Firewall

    enum FirewallOperation: String, CaseIterable {
        /// Elements added or removed: a login, a logout, an expiry, an address bound.
        case update
        /// The whole table, at start or when it went missing.
        case install
        /// The kernel read back and repaired.
        case reconcile
    }

    func firewallApplied(_ operation: FirewallOperation, duration: Duration, failed: Bool) {
        applyDuration(operation).record(duration)
        if failed { applyFailures(operation).increment() }
    }

    private func applyDuration(_ operation: FirewallOperation) -> DurationHistogram {
        registry.histogram("portald_firewall_apply_duration_seconds", [("operation", operation.rawValue)],
                                       buckets: Buckets.firewall, help: Help.applyDuration)
    }

    private func applyFailures(_ operation: FirewallOperation) -> Counter {
        registry.counter("portald_firewall_apply_failures_total", [("operation", operation.rawValue)], help: Help.applyFailures)
    }

    enum RepairKind: String, CaseIterable {
        case reinstalled, added, removed
        case rulesRestored = "rules_restored"
        case tierAdded = "tier_added"
        case tierRemoved = "tier_removed"
        case gardenRestored = "garden_restored"
    }

    /// What a reconciliation changed: elements by count, the rest once each.
    func repaired(_ repair: Repair) {
        if repair.reinstalled { repairs(.reinstalled).increment() } else { repairs(.added).increment(by: Int64(repair.added.count)) }
        repairs(.removed).increment(by: Int64(repair.removed.count))
        if repair.rulesRestored { repairs(.rulesRestored).increment() }
        repairs(.tierAdded).increment(by: Int64(repair.extras.tierAdded.count))
        repairs(.tierRemoved).increment(by: Int64(repair.extras.tierRemoved.count))
        if repair.extras.gardenRestored { repairs(.gardenRestored).increment() }
    }

    private func repairs(_ kind: RepairKind) -> Counter {
        registry.counter("portald_firewall_repairs_total", [("kind", kind.rawValue)], help: Help.repairs)
    }

    enum Help {
        static let captured = "Requests for other hosts answered with the way to the portal."
        static let build = "Always 1; the labels say which portald runs."
        static let logins = "Logins by method and result."
        static let requests = "HTTP requests answered, by listener, route pattern and status."
        static let requestDuration = "Time from routing a request to its response, by listener and route pattern."
        static let applyDuration = "Time to apply a change to the nftables table, by operation."
        static let applyFailures = "Changes the kernel refused, by operation (the reconciler then repairs)."
        static let repairs = "What reconciliations put back: elements added or removed, or the table, rules, tiers or garden restored."
        static let attempts = "Webhook HTTP attempts, by endpoint and outcome."
        static let deliveryDuration = "Webhook attempt latency, by endpoint."
        static let settled = "Deliveries that reached delivered or dead, by endpoint."
    }

    enum Buckets {
        static let request: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                          .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                          .seconds(1), .seconds(2), .seconds(5)]
        static let firewall: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                           .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                           .milliseconds(500), .seconds(1), .seconds(2)]
        static let delivery: [Duration] = [.milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                           .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30)]
    }
}

extension PortalMetrics: DeliveryObserver {
    public func attempted(endpoint: String, outcome: DeliveryOutcome, latency: Duration) {
        attempts(endpoint, outcome).increment()
        deliveryDuration(endpoint).record(latency)
    }

    public func settled(endpoint: String, status: DeliveryStatus) {
        settled(endpoint, status).increment()
    }

    /// A deleted endpoint's series go (else every endpoint ever made would stay until a restart).
    public func forget(endpoint: String) {
        for outcome in DeliveryOutcome.allCases { registry.unregisterCounter(attempts(endpoint, outcome)) }
        for status in DeliveryStatus.allCases { registry.unregisterCounter(settled(endpoint, status)) }
        registry.unregisterDurationHistogram(deliveryDuration(endpoint))
    }

    private func attempts(_ endpoint: String, _ outcome: DeliveryOutcome) -> Counter {
        registry.counter("portald_webhook_attempts_total", [("endpoint", endpoint), ("outcome", outcome.rawValue)], help: Help.attempts)
    }

    private func settled(_ endpoint: String, _ status: DeliveryStatus) -> Counter {
        registry.counter("portald_webhook_deliveries_settled_total", [("endpoint", endpoint), ("status", status.rawValue)], help: Help.settled)
    }

    private func deliveryDuration(_ endpoint: String) -> DurationHistogram {
        registry.histogram("portald_webhook_delivery_duration_seconds", [("endpoint", endpoint)], buckets: Buckets.delivery, help: Help.deliveryDuration)
    }
}

extension PrometheusCollectorRegistry {
    /// A metric's full name and help in the descriptor the registry takes.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    func counter(_ name: String, _ labels: [(String, String)] = [], help: String) -> Counter {
        labels.isEmpty ? makeCounter(descriptor: Self.descriptor(name, help)) : makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    func gauge(_ name: String, _ labels: [(String, String)] = [], help: String) -> Gauge {
        labels.isEmpty ? makeGauge(descriptor: Self.descriptor(name, help)) : makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    func histogram(_ name: String, _ labels: [(String, String)], buckets: [Duration], help: String) -> DurationHistogram {
        makeDurationHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: buckets)
    }
}
