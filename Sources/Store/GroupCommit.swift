import Foundation
import GRDB
import Synchronization

/// Group commit: writes that arrive while another is committing wait for it and then
/// commit together, in one transaction and one fsync, each in its own savepoint (one
/// that fails is rolled back alone and its caller gets its error). With
/// `synchronous = full` a commit costs an fsync; shared, a burst of writes (a PMS
/// importing reservations over several connections) is not bounded by one fsync each.
/// A lone write waits for nothing: it leads at once.
final class GroupCommit: Sendable {
    private final class Job: @unchecked Sendable {  // fields written before `ready` is signalled, read after
        let work: (Database) throws -> Void
        var error: (any Error)?
        var done = false
        var leads = false
        let ready = DispatchSemaphore(value: 0)
        init(_ work: @escaping (Database) throws -> Void) { self.work = work }
    }

    private struct State {
        var queue: [Job] = []
        var leading = false
    }
    private let state = Mutex(State())
    private let pool: DatabasePool

    init(pool: DatabasePool) { self.pool = pool }

    /// Runs `work` in a write transaction shared with writes that queued meanwhile;
    /// returns once that transaction has committed (or throws `work`'s or the commit's error).
    func write<T>(_ work: @escaping (Database) throws -> T) throws -> T {
        var result: T?
        let job = Job { db in result = try work(db) }
        let leads = state.withLock { state -> Bool in
            state.queue.append(job)
            if state.leading { return false }
            state.leading = true
            return true
        }
        if !leads {
            job.ready.wait()  // done, or handed the lead
        }
        if !job.done { lead() }
        if let error = job.error { throw error }
        return result!
    }

    /// Commits everything queued, batch after batch, until the queue is empty; the lead
    /// passes to a waiting job so no caller leads for long under steady load.
    private func lead() {
        let batch = state.withLock { state -> [Job] in
            defer { state.queue.removeAll() }
            return state.queue
        }
        do {
            try pool.write { db in
                for job in batch {
                    do {
                        try db.inSavepoint {
                            try job.work(db)
                            return .commit
                        }
                    } catch {
                        job.error = error
                    }
                }
            }
        } catch {
            for job in batch where job.error == nil { job.error = error }
        }
        let next = state.withLock { state -> Job? in
            guard let next = state.queue.first else {
                state.leading = false
                return nil
            }
            return next
        }
        for job in batch {
            job.done = true
            job.ready.signal()
        }
        if let next { next.ready.signal() }  // not done: it wakes to lead the next batch
    }
}
