import Foundation

/// A `/metrics` scrape as the independent `prometheus_client` parser reads it, and
/// `promtool check metrics`'s verdict where promtool is installed.
public struct MetricsScrape: Sendable {
    /// `name{label="value",…}` (labels sorted) → value.
    public let samples: [String: Double]
    /// Family name → `counter`, `gauge`, `histogram` …
    public let types: [String: String]
    public let text: String

    public init(text: String) throws {
        self.text = text
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("metrics_parse.py").path
        let parsed = try Shell.run(["python3", script], input: text, check: false)
        guard parsed.status == 0 else { throw LabError("prometheus_client: \(parsed.stderr)") }
        let json = try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: Any]
        samples = (json?["samples"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
        types = json?["types"] as? [String: String] ?? [:]
    }

    public subscript(_ key: String) -> Double? { samples[key] }

    /// promtool, from `PATH` or where `scripts/install-deps` unpacks it (`var/tools`).
    public static var promtool: String? {
        let unpacked = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../var/tools/promtool").standardized.path
        if FileManager.default.isExecutableFile(atPath: unpacked) { return unpacked }
        return (try? Shell.run(["sh", "-c", "command -v promtool"], check: false)).flatMap { $0.status == 0 ? $0.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil }
    }

    /// `promtool check metrics` on the text: nil when it passes, else what it said.
    public func promtoolProblems() throws -> String? {
        guard let promtool = Self.promtool else { return nil }
        let checked = try Shell.run([promtool, "check", "metrics"], input: text, check: false)
        return checked.status == 0 && checked.stdout.isEmpty && checked.stderr.isEmpty ? nil : checked.stdout + checked.stderr
    }
}
