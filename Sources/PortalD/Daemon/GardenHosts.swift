import Dispatch
import Firewall
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps the walled garden's host names resolved, so the garden works without
/// dnsmasq's `nftset=`: at start, and again as each host's shortest TTL runs out
/// (at least every 30 s, at most every hour), its addresses go into the garden's
/// sets for their TTL plus a margin, so a late or failed refresh does not cut guests
/// off at once. A failure is logged and tried again a minute later.
/// It runs as a service of its own, its lookups on a thread of their own: a resolver that
/// does not answer (the WAN is down) holds up no housekeeping, watchdog ping or request.
final class GardenHosts: Service, Sendable {
    /// A reload replaces them; a host no longer listed keeps its addresses until their timeouts.
    private let names: Mutex<[String]>
    var hosts: [String] {
        get { names.withLock { $0 } }
    }

    func replace(hosts: [String]) {
        names.withLock { $0 = hosts }
    }
    private let firewall: any Firewall
    private let logger: Logger
    private let resolve: @Sendable (String) throws -> [(address: IPAddress, ttl: Int)]
    private let due = Mutex<[String: ContinuousClock.Instant]>([:])

    static let shortest = 30
    static let longest = 3600
    /// Seconds an address stays past its TTL.
    static let margin = 300
    static let retry = 60

    init(hosts: [String], firewall: any Firewall, logger: Logger,
         resolve: @escaping @Sendable (String) throws -> [(address: IPAddress, ttl: Int)] = HostResolver.resolve) {
        self.names = Mutex(hosts)
        self.firewall = firewall
        self.logger = logger
        self.resolve = resolve
    }

    private static let lookups = DispatchQueue(label: "portald.garden-hosts")

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while true {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    Self.lookups.async {
                        self.refresh()
                        done.resume()
                    }
                }
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    /// Resolves the hosts that are due and puts their addresses in; returns how many went in.
    @discardableResult
    func refresh(now: ContinuousClock.Instant = .now) -> Int {
        var added = 0
        for host in hosts where due.withLock({ $0[host].map { $0 <= now } ?? true }) {
            do {
                // One address once (an answer may repeat it), with its longest TTL.
                let answers = Dictionary(try resolve(host).map { ($0.address, $0.ttl) }, uniquingKeysWith: max).map { (address: $0.key, ttl: $0.value) }
                let ttl = min(max(answers.map(\.ttl).min() ?? Self.shortest, Self.shortest), Self.longest)
                try firewall.addGardenAddresses(answers.map { ($0.address, Duration.seconds(min(max($0.ttl, Self.shortest), Self.longest) + Self.margin)) })
                due.withLock { $0[host] = now + .seconds(ttl) }
                added += answers.count
                logger.debug("walled-garden host resolved", metadata: ["host": "\(host)", "addresses": "\(answers.map { "\($0.address)" })", "ttl": "\(ttl)"])
            } catch {
                logger.warning("resolving a walled-garden host failed; trying again in a minute", metadata: ["host": "\(host)", "error": "\(error)"])
                due.withLock { $0[host] = now + .seconds(Self.retry) }
            }
        }
        return added
    }
}
