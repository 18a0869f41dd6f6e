import Synchronization

/// `backend = "none"`: no packet filtering, the authorized set kept in memory.
/// For running the portal on a laptop or behind another captive system, and for tests.
public final class MemoryFirewall: Firewall {
    private let state = Mutex<(installed: Bool, devices: [MACAddress: AuthorizedDevice])>((false, [:]))

    public init() {}

    public var devices: [AuthorizedDevice] { state.withLock { Array($0.devices.values) } }
    public var isInstalled: Bool { state.withLock { $0.installed } }

    public func install(devices: [AuthorizedDevice]) throws {
        state.withLock { state in
            state.installed = true
            state.devices = Dictionary(devices.map { ($0.mac, $0) }, uniquingKeysWith: { $1 })
        }
    }

    public func authorize(_ devices: [AuthorizedDevice]) throws {
        state.withLock { state in
            for device in devices { state.devices[device.mac] = device }
        }
    }

    public func deauthorize(_ devices: [(mac: MACAddress, ipv4: IPv4Address)]) throws {
        state.withLock { state in
            for device in devices where state.devices[device.mac]?.ipv4 == device.ipv4 {
                state.devices[device.mac] = nil
            }
        }
    }

    public func teardown() throws {
        state.withLock { $0 = (false, [:]) }
    }
}
