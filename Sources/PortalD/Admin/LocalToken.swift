import Crypto
import Foundation

/// The admin token of the local CLI: a file only the service user (and root) can
/// read, made on first start. `portald clients` and friends read it.
enum LocalToken {
    static func ensure(path: String) throws -> String {
        if let existing = try? read(path: path) { return existing }
        let token = "pdl_" + Crypto.randomBytes(32).base64URLString
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigError("cannot write the admin token file \(path)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw ConfigError("cannot write the admin token file \(path): \(String(cString: strerror(errno)))")
        }
        return token
    }

    static func read(path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path),
              let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw ConfigError("cannot read the admin token file \(path) (is portald running, and are you root or the portald user?)")
        }
        return token
    }
}
