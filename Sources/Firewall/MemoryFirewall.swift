import Synchronization

/// `backend = "none"`: no packet filtering, the authorized set kept in memory.
/// For running the portal on a laptop or behind another captive system, and for tests.
public final class MemoryFirewall: Firewall {
    private struct State {
        var installed = false
        var devices: [MACAddress: AuthorizedDevice] = [:]
        var traffic: [IPv4Address: TrafficCounters] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    public var devices: [AuthorizedDevice] { state.withLock { Array($0.devices.values) } }
    public var isInstalled: Bool { state.withLock { $0.installed } }

    public func install(devices: [AuthorizedDevice]) throws {
        state.withLock { state in
            state.installed = true
            state.devices = Dictionary(devices.map { ($0.mac, $0) }, uniquingKeysWith: { $1 })
            state.traffic = Dictionary(devices.map { ($0.ipv4, .zero) }, uniquingKeysWith: { $1 })
        }
    }

    public func authorize(_ devices: [AuthorizedDevice]) throws {
        state.withLock { state in
            for device in devices {
                state.devices[device.mac] = device
                state.traffic[device.ipv4] = .zero
            }
        }
    }

    public func deauthorize(_ devices: [(mac: MACAddress, ipv4: IPv4Address)]) throws {
        state.withLock { state in
            for device in devices where state.devices[device.mac]?.ipv4 == device.ipv4 {
                state.devices[device.mac] = nil
                state.traffic[device.ipv4] = nil
            }
        }
    }

    public func teardown() throws {
        state.withLock { $0 = State() }
    }

    public func counters() throws -> [IPv4Address: TrafficCounters] {
        state.withLock { $0.traffic }
    }

    public func counters(for ipv4: IPv4Address) throws -> TrafficCounters? {
        state.withLock { $0.traffic[ipv4] }
    }

    /// Lets tests stand in for traffic the kernel would have counted.
    public func addTraffic(_ ipv4: IPv4Address, up: UInt64, down: UInt64) {
        state.withLock { state in
            guard var counters = state.traffic[ipv4] else { return }
            counters.bytesUp += up
            counters.bytesDown += down
            state.traffic[ipv4] = counters
        }
    }
}
