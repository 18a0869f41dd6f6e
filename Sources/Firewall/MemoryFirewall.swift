import Synchronization

/// `backend = "none"`: no packet filtering, the authorized set kept in memory.
/// For running the portal on a laptop or behind another captive system, and for tests.
public final class MemoryFirewall: Firewall {
    private struct State {
        var installed = false
        var devices: [MACAddress: AuthorizedDevice] = [:]
        var traffic: [IPv4Address: TrafficCounters] = [:]
    }
    private let memory = Mutex(State())

    public init() {}

    public var devices: [AuthorizedDevice] { memory.withLock { Array($0.devices.values) } }
    public var isInstalled: Bool { memory.withLock { $0.installed } }

    public func install(devices: [AuthorizedDevice]) throws {
        memory.withLock { state in
            state.installed = true
            state.devices = Dictionary(devices.map { ($0.mac, $0) }, uniquingKeysWith: { $1 })
            state.traffic = Dictionary(devices.map { ($0.ipv4, .zero) }, uniquingKeysWith: { $1 })
        }
    }

    public func update(removing: [DeviceKey], adding: [AuthorizedDevice]) throws {
        memory.withLock { state in
            for key in removing where state.devices[key.mac]?.ipv4 == key.ipv4 {
                state.devices[key.mac] = nil
            }
            for key in removing { state.traffic[key.ipv4] = nil }
            for device in adding {
                state.devices[device.mac] = device
                state.traffic[device.ipv4] = .zero
            }
        }
    }

    public func restore(_ devices: [AuthorizedDevice]) throws {
        memory.withLock { state in
            for device in devices {
                if state.devices[device.mac]?.ipv4 != device.ipv4 { state.devices[device.mac] = device }
                if state.traffic[device.ipv4] == nil { state.traffic[device.ipv4] = .zero }
            }
        }
    }

    public func state() throws -> FirewallState? {
        memory.withLock { state in
            guard state.installed else { return nil }
            return FirewallState(authorized: Set(state.devices.values.map(\.key)), counted: Set(state.traffic.keys))
        }
    }

    public func teardown() throws {
        memory.withLock { $0 = State() }
    }

    public func counters() throws -> [IPv4Address: TrafficCounters] {
        memory.withLock { $0.traffic }
    }

    public func counters(for ipv4: IPv4Address) throws -> TrafficCounters? {
        memory.withLock { $0.traffic[ipv4] }
    }

    /// Lets tests stand in for someone editing the kernel behind portald's back.
    public func tamper(remove: [MACAddress] = [], add: [AuthorizedDevice] = []) {
        memory.withLock { state in
            for mac in remove { state.devices[mac] = nil }
            for device in add { state.devices[device.mac] = device }
        }
    }

    /// Lets tests stand in for traffic the kernel would have counted.
    public func addTraffic(_ ipv4: IPv4Address, up: UInt64, down: UInt64) {
        memory.withLock { state in
            guard var counters = state.traffic[ipv4] else { return }
            counters.bytesUp += up
            counters.bytesDown += down
            state.traffic[ipv4] = counters
        }
    }
}
