import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real `portald serve` process for end-to-end tests, in a namespace of the lab.
public final class Portald: @unchecked Sendable {
    /// Where it runs: the lab's gateway, or (nil) this host's loopback with `backend = "none"`.
    public let lab: NetworkLab?
    public let directory: URL
    public let configPath: String
    public let logPath: String
    public private(set) var portalURL: String
    public private(set) var adminPort: UInt16
    public private(set) var process: Process?

    /// The built `portald` binary: `$PORTALD_BIN`, or beside the test bundle.
    public static var binary: String {
        if let path = ProcessInfo.processInfo.environment["PORTALD_BIN"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("portald").path
    }

    /// Writes a config for the lab's gateway; `portal` is added to `[portal]`, `firewall`
    /// to `[firewall]`, `extra` is appended (more TOML sections).
    public convenience init(lab: NetworkLab, sessionMinutes: Int = 1440, portal: String = "", firewall: String = "", extra: String = "") throws {
        try self.init(lab: lab, portal: "\(NetworkLab.gatewayLANIPv4):8080", adminPort: 8081, firewall: """
            lan_interface = "\(NetworkLab.lanInterface)"
            \(portal)

            [firewall]
            backend = "nftables"
            table = "portald"
            \(firewall)
            """, sessionMinutes: sessionMinutes, extra: extra)
    }

    /// portald on this host's loopback, firewall backend "none": for what needs no capture (webhooks).
    /// `site` is appended to the `[site]` table (`time_zone = …`), `extra` to the file.
    /// `site` and `admin`: more lines for those sections; `extra`: more sections.
    public static func loopback(sessionMinutes: Int = 1440, site: String = "", admin: String = "", extra: String = "") throws -> Portald {
        let portal = LoopbackPorts.next()
        return try Portald(lab: nil, portal: "127.0.0.1:\(portal)", adminPort: portal + 1, firewall: """

            [firewall]
            backend = "none"
            """, sessionMinutes: sessionMinutes, site: site, admin: admin, extra: extra)
    }

    private init(lab: NetworkLab?, portal: String, adminPort: UInt16, firewall: String, sessionMinutes: Int,
                 site: String = "", admin: String = "", extra: String) throws {
        self.lab = lab
        self.adminPort = adminPort
        portalURL = "http://\(portal)/"
        directory = Scratch.directory.appendingPathComponent("portald-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configPath = directory.appendingPathComponent("portald.toml").path
        logPath = directory.appendingPathComponent("portald.log").path
        let config = """
        [site]
        id = "lab-hotel"
        name = "Lab Hotel"
        \(site)

        [portal]
        listen = "\(portal)"
        public_url = "\(portalURL)"
        session_minutes = \(sessionMinutes)
        \(firewall)

        [store]
        path = "\(directory.appendingPathComponent("portald.db").path)"

        [admin]
        listen = "127.0.0.1:\(adminPort)"
        \(admin)

        [log]
        level = "debug"
        \(extra)
        """
        try config.write(toFile: configPath, atomically: false, encoding: .utf8)
    }

    public var databasePath: String { directory.appendingPathComponent("portald.db").path }

    /// Starts the daemon in the gateway and waits until its portal answers.
    /// `umask` (octal text) runs it under that umask instead of the test's.
    public func start(environment: [String: String] = [:], umask: String? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw LabError("no portald binary at \(Self.binary); run `swift build` first or set PORTALD_BIN")
        }
        var command = [Self.binary, "serve", "--config", configPath]
        if let umask { command = ["sh", "-c", "umask \(umask) && exec \"$0\" \"$@\""] + command }
        let process: Process
        if let lab {
            process = try lab.spawn(in: lab.gateway, command, environment: environment, logTo: logPath)
        } else {
            process = try spawnProcess(command, environment: environment, logTo: logPath)
        }
        self.process = process
        try waitUntil("portald answers on \(portalURL)") {
            if !process.isRunning, lab == nil, log.contains("in use"), movedPorts < 5 {
                // Another program holds a port: take the next pair and try again, rather than fail by chance.
                try moveToNextPorts()
                try start(environment: environment, umask: umask)
                return true
            }
            guard process.isRunning else { throw LabError("portald exited \(process.terminationStatus):\n\(log)") }
            return (try? run(["curl", "-s", "-o", "/dev/null", "--max-time", "1", "\(portalURL)api/captive"], check: false).status) == 0
        }
    }

    private var movedPorts = 0

    private func moveToNextPorts() throws {
        movedPorts += 1
        let portal = LoopbackPorts.next()
        let oldPortal = portalURL, oldAdmin = adminPort
        portalURL = "http://127.0.0.1:\(portal)/"
        adminPort = portal + 1
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
            .replacingOccurrences(of: oldPortal.dropFirst("http://".count).dropLast(), with: "127.0.0.1:\(portal)")
            .replacingOccurrences(of: "127.0.0.1:\(oldAdmin)", with: "127.0.0.1:\(adminPort)")
        try config.write(toFile: configPath, atomically: false, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// SIGTERM, then waits for a clean exit (the daemon removes its table).
    public func stop() throws {
        guard let process, process.isRunning else { return }
        process.terminate()
        try waitUntil("portald exits") { !process.isRunning }
        self.process = nil
    }

    /// SIGKILL: a crash, leaving the table and the database as they were.
    public func kill() throws {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        try waitUntil("portald dies") { !process.isRunning }
        self.process = nil
    }

    /// Runs a portald CLI verb in the gateway against this daemon's config.
    @discardableResult
    public func cli(_ arguments: [String], check: Bool = true) throws -> CommandResult {
        try run([Self.binary] + arguments + ["--config", configPath], check: check)
    }

    /// Runs a command where portald runs (the gateway namespace, or this host).
    @discardableResult
    public func run(_ arguments: [String], check: Bool = true) throws -> CommandResult {
        if let lab { return try lab.gateway.exec(arguments, check: check) }
        return try Shell.run(arguments, check: check)
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if let process, process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Port pairs (portal, admin) for loopback instances: handed out in order, so two
/// tests of one run never pick the same pair (random picks clashed about one run in
/// four), from a block chosen by the process id, below Linux's ephemeral range
/// (32768–60999) where outgoing connections take their ports.
public enum LoopbackPorts {
    private static let counter = Mutex(UInt16(20000 + (getpid() % 100) * 120))

    public static func next() -> UInt16 {
        counter.withLock { next in
            defer { next = next >= 31_998 ? 20000 : next + 2 }
            return next
        }
    }
}

/// A guest's browser, reduced to what the tests need: curl in the guest namespace.
public struct Guest {
    public let lab: NetworkLab

    public init(lab: NetworkLab) { self.lab = lab }

    /// The login form's token in a splash page.
    public static func formToken(in html: String) throws -> String {
        guard let range = html.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression) else {
            throw LabError("no csrf field in the splash page:\n\(html)")
        }
        return String(html[range].split(separator: "\"")[3])
    }

    /// Status, headers (lower-cased names) and body of one request; no redirects followed.
    public func get(_ url: String, host: String? = nil) throws -> (status: Int, headers: [String: String], body: String) {
        var arguments = ["-i"]
        if let host { arguments += ["-H", "Host: \(host)"] }
        return try parse(lab.guestCurl(arguments + [url]))
    }

    public func post(_ url: String, form: [(String, String)]) throws -> (status: Int, headers: [String: String], body: String) {
        var arguments = ["-i"]
        for (name, value) in form { arguments += ["--data-urlencode", "\(name)=\(value)"] }
        return try parse(lab.guestCurl(arguments + [url]))
    }

    private func parse(_ result: CommandResult) throws -> (status: Int, headers: [String: String], body: String) {
        guard result.status == 0 else { throw LabError("guest curl failed (exit \(result.status)): \(result.stderr)") }
        let normalized = result.stdout.replacingOccurrences(of: "\r\n", with: "\n")
        let parts = normalized.components(separatedBy: "\n\n")
        let head = parts.first ?? ""
        var lines = head.split(separator: "\n")
        let statusLine = lines.isEmpty ? "" : String(lines.removeFirst())
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers, parts.dropFirst().joined(separator: "\n\n"))
    }
}
