import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The Python receiver (`webhook_receiver.py`) on loopback: verifies signatures with
/// the independent `standardwebhooks` package and logs what arrived.
public final class WebhookReceiver: @unchecked Sendable {
    public struct Delivery: Decodable, Sendable {
        public var path: String
        public var status: Int
        public var webhookID: String?
        public var webhookTimestamp: String?
        public var idempotencyKey: String?
        public var userAgent: String?
        public var contentType: String?
        public var signature: String?
        public var verified: Bool
        public var xSignatureOk: Bool
        public var id: String?
        public var event: String?
        public var siteID: String?
        public var createdAt: String?
        public var data: [String: JSONScalar]?
        /// A CloudEvents delivery as the `cloudevents` SDK read it (nil for other content types).
        public var cloudEvent: [String: String]?
        public var cloudEventError: String?
        enum CodingKeys: String, CodingKey {
            case path, status, webhookID = "webhook_id", webhookTimestamp = "webhook_timestamp", idempotencyKey = "idempotency_key",
                 userAgent = "user_agent", contentType = "content_type", signature, verified, xSignatureOk = "x_signature_ok",
                 id, event, siteID = "site_id", createdAt = "created_at", data, cloudEvent = "cloud_event", cloudEventError = "cloud_event_error"
        }
    }

    public let port: UInt16
    public let logPath: String
    private let process: Process
    private let directory: URL

    /// `plan`: per path, the statuses to answer in turn (see the script).
    /// `selfSignedTLS`: serve HTTPS with a fresh self-signed certificate (which no client should trust).
    public init(secrets: [String], plan: [String: [Any]] = [:], sleepMilliseconds: Int = 0, namespace: Namespace? = nil, host: String = "127.0.0.1",
                selfSignedTLS: Bool = false) throws {
        directory = Scratch.directory.appendingPathComponent("receiver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        logPath = directory.appendingPathComponent("deliveries.jsonl").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let planPath = directory.appendingPathComponent("plan.json").path
        try JSONSerialization.data(withJSONObject: plan).write(to: URL(fileURLWithPath: planPath))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("webhook_receiver.py").path
        secretsPath = directory.appendingPathComponent("secrets").path
        var arguments = ["python3", script, "--host", host, "--port", "0", "--log", logPath, "--plan", planPath, "--sleep-ms", String(sleepMilliseconds),
                         "--secret-file", secretsPath]
        for secret in secrets { arguments += ["--secret", secret] }
        if selfSignedTLS {
            let cert = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
            try Shell.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                           "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert])
            arguments += ["--tls-cert", cert, "--tls-key", key]
            scheme = "https"
        }
        if let namespace { arguments = ["ip", "netns", "exec", namespace.name] + arguments }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let ready = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard ready.hasPrefix("ready "), let port = UInt16(ready.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LabError("the webhook receiver did not start (is `standardwebhooks` installed? pip install standardwebhooks): \(ready)")
        }
        self.port = port
    }

    private var scheme = "http"
    private let secretsPath: String

    /// Counts `secret` as valid from the next request on (for an endpoint's secret made after the receiver started).
    public func trust(_ secret: String) throws {
        let handle = FileHandle(forWritingAtPath: secretsPath) ?? {
            _ = FileManager.default.createFile(atPath: secretsPath, contents: nil)
            return FileHandle(forWritingAtPath: secretsPath)!
        }()
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((secret + "\n").utf8))
    }

    public func url(_ path: String, host: String = "127.0.0.1") -> String { "\(scheme)://\(host):\(port)\(path)" }

    public func deliveries() -> [Delivery] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(Delivery.self, from: Data($0.utf8)) }
    }

    /// Waits until `condition` holds for what has arrived.
    @discardableResult
    public func waitFor(_ what: String, timeout: Duration = .seconds(15), _ condition: ([Delivery]) -> Bool) throws -> [Delivery] {
        var latest: [Delivery] = []
        do {
            try waitUntil(what, timeout: timeout) {
                latest = deliveries()
                return condition(latest)
            }
        } catch {
            throw LabError("\(error); received: \(latest.map { "\($0.path) \($0.event ?? "?") \($0.status)" })")
        }
        return latest
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A JSON value in an event's data (scalars are what tests mostly compare).
public indirect enum JSONScalar: Decodable, Sendable, Equatable {
    case string(String), number(Double), bool(Bool), null
    case array([JSONScalar]), object([String: JSONScalar])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONScalar].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONScalar].self)) }
    }

    public var string: String? { if case .string(let value) = self { value } else { nil } }
}
