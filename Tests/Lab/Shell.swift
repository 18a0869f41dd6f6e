import Foundation

/// What a finished command printed and how it ended.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public struct LabError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs programs for the tests: synchronously, output captured.
public enum Shell {
    /// Runs `arguments` (the first is looked up in PATH) and waits for it; `input` is its stdin.
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String]? = nil, input: String? = nil, check: Bool = true) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        // Files, not pipes: a chatty child can never block on a full pipe.
        let out = try TemporaryFile(), err = try TemporaryFile()
        process.standardOutput = out.handle
        process.standardError = err.handle
        var stdin: TemporaryFile?
        if let input {
            let file = try TemporaryFile()
            try Data(input.utf8).write(to: file.url)
            process.standardInput = try FileHandle(forReadingFrom: file.url)
            stdin = file
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        defer { withExtendedLifetime(stdin) {} }
        try process.run()
        process.waitUntilExit()
        let result = CommandResult(status: process.terminationStatus, stdout: out.contents(), stderr: err.contents())
        if check && result.status != 0 {
            throw LabError("\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)\(result.stdout)")
        }
        return result
    }
}

/// A scratch file that removes itself.
final class TemporaryFile {
    let url: URL
    let handle: FileHandle

    init() throws {
        url = Scratch.directory.appendingPathComponent("lab-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
    }

    func contents() -> String {
        (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(at: url)
    }
}
