import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The admin token of the local CLI: a file only the service user (and root) can
/// read, made on first start. `portald clients` and friends read it.
enum LocalToken {
    static func ensure(path: String) throws -> String {
        if let existing = try? read(path: path) { return existing }
        let token = "pdl_" + Crypto.randomBytes(32).base64URLString
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid())")
        // Created 0600 (FileManager would create it open and chmod it after): the token is
        // never readable by others, not even for an instant.
        unlink(temporary.path)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ConfigError("cannot write the admin token file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        do {
            try FileHandle(fileDescriptor: fd, closeOnDealloc: false).write(contentsOf: Data((token + "\n").utf8))
        } catch {
            throw ConfigError("cannot write the admin token file \(path): \(error)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw ConfigError("cannot write the admin token file \(path): \(String(cString: strerror(errno)))")
        }
        return token
    }

    /// Whether `token` has the shape `ensure` makes: "pdl_" and 256 random bits in
    /// base64url. Only such a token passes a throttled address (`AdminCredential.unguessable`);
    /// one written by hand into the file is throttled like any other.
    static func isGenerated(_ token: String) -> Bool { isGenerated(Array(token.utf8), prefix: "pdl_") }

    /// Whether `token` is `prefix` and 256 bits in base64url (43 characters): the shape
    /// of every token portald makes (this file's, `APITokens`').
    static func isGenerated(_ token: [UInt8], prefix: String) -> Bool {
        let body = token.dropFirst(prefix.utf8.count)
        return token.starts(with: prefix.utf8) && body.count == 43
            && body.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    static func read(path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path),
              let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw ConfigError("cannot read the admin token file \(path) (is portald running, and are you root or the portald user?)")
        }
        return token
    }
}
