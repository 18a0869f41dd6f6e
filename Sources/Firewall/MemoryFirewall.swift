import Synchronization

/// `backend = "none"`: no packet filtering, the authorized set kept in memory.
/// For running the portal on a laptop or behind another captive system, and for tests.
public final class MemoryFirewall: Firewall {
    private struct State {
        var installed = false
        var devices: [DeviceKey: AuthorizedDevice] = [:]
        var traffic: [IPAddress: TrafficCounters] = [:]
        var rules = DeviceRules.none
        var kernelRules = DeviceRules.none
        var garden: [IPAddress: Duration] = [:]
    }
    private let memory = Mutex(State())

    public init() {}

    /// The authorized elements, in key order.
    public var devices: [AuthorizedDevice] { memory.withLock { $0.devices.sorted { $0.key < $1.key }.map(\.value) } }
    public var isInstalled: Bool { memory.withLock { $0.installed } }

    public func install(devices: [AuthorizedDevice]) throws {
        memory.withLock { state in
            state.installed = true
            state.kernelRules = state.rules
            state.devices = Dictionary(devices.map { ($0.key, $0) }, uniquingKeysWith: { $1 })
            state.traffic = Dictionary(devices.map { ($0.address, .zero) }, uniquingKeysWith: { $1 })
        }
    }

    public func update(removing: [DeviceKey], adding: [AuthorizedDevice]) throws {
        memory.withLock { state in
            for key in removing {
                state.devices[key] = nil
                state.traffic[key.address] = nil
            }
            for device in adding {
                state.devices[device.key] = device
                state.traffic[device.address] = .zero
            }
        }
    }

    public func restore(_ devices: [AuthorizedDevice]) throws {
        memory.withLock { state in
            for device in devices {
                if state.devices[device.key] == nil { state.devices[device.key] = device }
                if state.traffic[device.address] == nil { state.traffic[device.address] = .zero }
            }
        }
    }

    public func state() throws -> FirewallState? {
        memory.withLock { state in
            guard state.installed else { return nil }
            return FirewallState(authorized: Set(state.devices.keys), counted: Set(state.traffic.keys), rules: state.kernelRules)
        }
    }

    public func teardown() throws {
        memory.withLock { $0 = State(rules: $0.rules) }
    }

    public func setDeviceRules(_ rules: DeviceRules) throws {
        memory.withLock { state in
            state.rules = rules
            if state.installed { state.kernelRules = rules }
        }
    }

    public var deviceRules: DeviceRules { memory.withLock { $0.rules } }

    public func addGardenAddresses(_ addresses: [(address: IPAddress, timeout: Duration)]) throws {
        memory.withLock { state in
            for entry in addresses { state.garden[entry.address] = entry.timeout }
        }
    }

    /// The walled garden's resolved addresses, with the timeout each was last given.
    public var gardenAddresses: [IPAddress: Duration] { memory.withLock { $0.garden } }

    public func inventory() throws -> [(set: String, elements: Int)]? {
        memory.withLock { state in
            guard state.installed else { return nil }
            let ipv4 = state.devices.keys.filter { $0.ipv4 != nil }.count, counted4 = state.traffic.keys.filter { $0.ipv4 != nil }.count
            return [("authorized", ipv4), ("acct_up", counted4), ("acct_down", counted4),
                    ("authorized6", state.devices.count - ipv4), ("acct_up6", state.traffic.count - counted4), ("acct_down6", state.traffic.count - counted4),
                    ("trusted", state.kernelRules.trusted.count), ("blocked", state.kernelRules.blocked.count)]
        }
    }

    /// What the trusted and blocked sets hold.
    public var installedRules: DeviceRules { memory.withLock { $0.kernelRules } }

    public func counters() throws -> [IPAddress: TrafficCounters] {
        memory.withLock { $0.traffic }
    }

    public func counters(for address: IPAddress) throws -> TrafficCounters? {
        memory.withLock { $0.traffic[address] }
    }

    /// Lets tests stand in for someone editing the kernel behind portald's back.
    public func tamper(remove: [MACAddress] = [], add: [AuthorizedDevice] = [], rules: DeviceRules? = nil) {
        memory.withLock { state in
            if let rules { state.kernelRules = rules }
            for key in state.devices.keys where remove.contains(key.mac) { state.devices[key] = nil }
            for device in add { state.devices[device.key] = device }
        }
    }

    /// Lets tests stand in for traffic the kernel would have counted.
    public func addTraffic(_ ipv4: IPv4Address, up: UInt64, down: UInt64) {
        addTraffic(.v4(ipv4), up: up, down: down)
    }

    public func addTraffic(_ address: IPAddress, up: UInt64, down: UInt64) {
        memory.withLock { state in
            guard var counters = state.traffic[address] else { return }
            counters.bytesUp += up
            counters.bytesDown += down
            state.traffic[address] = counters
        }
    }
}
