import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One `portald serve` per store: an exclusive `flock` on `portald.lock` in the state
/// directory (beside the database), taken before the store or the firewall is
/// touched. A second instance would otherwise replace the running one's table and,
/// failing to bind, tear it down. The kernel releases the lock when the process
/// ends, however it ends, so a crash never leaves a stale lock behind.
final class InstanceLock: Sendable {
    let path: String
    private let descriptor: Int32

    init(directory: String) throws {
        path = URL(fileURLWithPath: directory).appendingPathComponent("portald.lock").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        // Made by root (`portald restore` before the first start): the lock must stay portald's to take.
        var directoryOwner = stat()
        if geteuid() == 0, stat(directory, &directoryOwner) == 0 { _ = fchown(fd, directoryOwner.st_uid, directoryOwner.st_gid) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            close(fd)
            guard reason == EWOULDBLOCK else { throw CLIError("cannot lock \(path): \(String(cString: strerror(reason)))") }
            let pid = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            throw CLIError("another portald (pid \(pid.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown")) is running with this store (\(path)); it was left untouched")
        }
        // The holder's pid, for the message above and for people.
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data("\(getpid())\n".utf8))
        descriptor = fd
    }

    deinit { close(descriptor) }
}
