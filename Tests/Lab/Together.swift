import Foundation
import Synchronization

/// Runs `body` on `count` threads held at a barrier and let go at once (a dispatch pool
/// would run about one per core, too few to race), and returns what each returned.
public func together<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let results = Mutex<[T]>([])
    let start = DispatchSemaphore(value: 0), finished = DispatchGroup()
    for index in 0..<count {
        finished.enter()
        Thread {
            start.wait()
            let result = body(index)
            results.withLock { $0.append(result) }
            finished.leave()
        }.start()
    }
    for _ in 0..<count { start.signal() }
    finished.wait()
    return results.withLock { $0 }
}
