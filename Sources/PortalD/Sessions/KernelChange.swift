import Dispatch
import Firewall
import Synchronization

/// A change to the authorized set, made on a thread of its own while the caller goes
/// on: a login's netlink transaction runs while its commit waits for the disk, and the
/// login answers once both are done. One thread, so changes reach the kernel in the
/// order they were started (the caller holds the session service's lock throughout).
final class KernelChange: Sendable {
    private static let queue = DispatchQueue(label: "portald.kernel-change")
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<Void, any Error>?>(nil)

    init(_ firewall: any Firewall, removing: [DeviceKey], adding: [AuthorizedDevice], metrics: PortalMetrics) {
        Self.queue.async { [self] in
            let started = ContinuousClock.now
            let outcome = Result { try firewall.update(removing: removing, adding: adding) }
            if case .failure = outcome {
                metrics.firewallApplied(.update, duration: .now - started, failed: true)
            } else {
                metrics.firewallApplied(.update, duration: .now - started, failed: false)
            }
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// Waits for the change; its outcome.
    func wait() -> Result<Void, any Error> {
        done.wait()
        done.signal()  // a second wait returns at once
        return result.withLock { $0! }
    }
}
