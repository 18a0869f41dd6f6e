import Logging
import Synchronization

/// What MHD's callbacks reach through their closure pointer: the responder, the worker
/// pool, the deadlines, and the count of offloaded requests a stop waits for.
final class ServerContext: Sendable {
    let responder: any HTTPResponder
    let workers: WorkerPool
    let maxBodyBytes: Int
    let deadlines: RequestDeadlines
    let logger: Logger
    let libraryErrors: LibraryErrorLog
    /// Suspended connections; offloaded requests whose answer is not out yet (suspended,
    /// or resumed and still being answered); whether the server is stopping (then work runs inline).
    private let suspension = Mutex((count: 0, unanswered: 0, stopping: false))

    init(responder: any HTTPResponder, workers: WorkerPool, maxBodyBytes: Int, deadlines: RequestDeadlines, logger: Logger) {
        self.responder = responder
        self.workers = workers
        self.maxBodyBytes = maxBodyBytes
        self.deadlines = deadlines
        self.logger = logger
        self.libraryErrors = LibraryErrorLog(logger: logger)
    }

    var suspendedCount: Int { suspension.withLock { $0.count } }
    var unansweredCount: Int { suspension.withLock { $0.unanswered } }

    func beginStopping() { suspension.withLock { $0.stopping = true } }

    /// Counts a suspension in, unless the server is stopping.
    func mayOffload() -> Bool {
        suspension.withLock { state in
            guard !state.stopping else { return false }
            state.count += 1
            state.unanswered += 1
            return true
        }
    }

    func resumed() { suspension.withLock { $0.count -= 1 } }

    /// An offloaded request's answer went out, or its connection closed.
    func answered() { suspension.withLock { $0.unanswered -= 1 } }
}
