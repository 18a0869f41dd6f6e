import Foundation
import Synchronization

/// A fixed set of threads for work that blocks: SQLite writes, netlink round trips.
///
/// Neither libmicrohttpd's threads (each serves many connections) nor Swift's
/// cooperative pool (one thread per core, two here) may block on such work; this
/// pool exists so that neither has to. Work runs first in, first out.
public final class WorkerPool: Sendable {
    private let queue = Mutex<[@Sendable () -> Void]>([])
    private let available = DispatchSemaphore(value: 0)
    public let threads: Int

    /// The pool the daemon's listeners and services share.
    public static let shared = WorkerPool(threads: 4, name: "portald.worker")

    public init(threads: Int, name: String) {
        self.threads = max(1, threads)
        for index in 0..<self.threads {
            let thread = Thread { [self] in
                while true {
                    available.wait()
                    let work = queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                    work?()
                }
            }
            thread.name = "\(name).\(index)"
            thread.start()
        }
    }

    public func submit(_ work: @escaping @Sendable () -> Void) {
        queue.withLock { $0.append(work) }
        available.signal()
    }

    /// Runs blocking `work` on the pool and resumes the caller with its result, so
    /// an async caller (a service, the daemon's start) never blocks a cooperative thread.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try work() }) }
        }
    }
}
