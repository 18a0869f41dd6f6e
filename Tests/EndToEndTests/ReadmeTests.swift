import Foundation
import Testing
import Lab

/// Issue 7, item 10: a newcomer copies the README's commands for the CLI against the dev
/// instance. They are run here as written, against `config/dev.toml` as shipped (only
/// moved to a scratch directory and free ports, so a developer's own dev instance and
/// `var/` are left alone).
@Suite("README commands", .serialized)
struct ReadmeTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the README's CLI commands for the dev instance work as written")
    func devInstanceCommands() throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let commands = readme.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix(".build/debug/portald ") && $0.hasSuffix("--config config/dev.toml") }
        #expect(commands.count >= 2, "the README shows no CLI command with --config config/dev.toml")

        // config/dev.toml as shipped, in <scratch>/config/ so that its "../var/portald.db" lands in <scratch>/var/.
        let root = Scratch.directory.appendingPathComponent("readme-\(UUID().uuidString.prefix(8))")
        let configDirectory = root.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: configDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let portal = LoopbackPorts.next()
        let dev = try String(contentsOf: Self.repository.appendingPathComponent("config/dev.toml"), encoding: .utf8)
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(portal)")
            .replacingOccurrences(of: "127.0.0.1:8081", with: "127.0.0.1:\(portal + 1)")
        try dev.write(to: configDirectory.appendingPathComponent("dev.toml"), atomically: false, encoding: .utf8)

        let serve = try spawnProcess(["sh", "-c", "cd \"$0\" && exec \"$1\" serve --config config/dev.toml", root.path, Portald.binary],
                                     logTo: root.appendingPathComponent("serve.log").path)
        defer { serve.terminate(); serve.waitUntilExit() }
        try waitUntil("the dev instance answers") {
            guard serve.isRunning else { throw LabError("portald serve --config config/dev.toml exited \(serve.terminationStatus)") }
            return (try? Shell.run(["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:\(portal)/api/captive"], check: false).status) == 0
        }
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("var/portald.db").path))

        for command in commands {
            let arguments = command.split(separator: " ").map(String.init)
            let result = try Shell.run(["sh", "-c", "cd \"$0\" && exec \"$@\"", root.path, Portald.binary] + arguments.dropFirst(), check: false)
            #expect(result.status == 0, "\(command): exit \(result.status)\n\(result.stdout)\(result.stderr)")
        }
        // What the two commands did: the device is listed as online.
        let clients = try Shell.run(["sh", "-c", "cd \"$0\" && exec \"$1\" clients --json --config config/dev.toml", root.path, Portald.binary])
        #expect(clients.stdout.contains("02:00:00:00:00:10"))
    }
}
