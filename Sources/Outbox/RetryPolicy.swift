import Foundation

/// How an attempt's answer decides an event's fate (Standard Webhooks' rules):
/// only 2xx succeeds; 408, 429, 5xx and network errors are retried on the
/// schedule, or after `Retry-After` when that is later; 410 suspends the endpoint;
/// any other answer (3xx, 4xx) will not change on retry, so the event is dead
/// (kept, and replayable once the receiver is fixed).
public enum RetryPolicy {
    public enum Verdict: Equatable {
        case delivered
        case retry
        case gone
        case permanent
    }

    public static func verdict(_ outcome: HTTPOutcome) -> Verdict {
        guard let status = outcome.statusCode else { return .retry }
        switch status {
        case 200..<300: return .delivered
        case 410: return .gone
        case 408, 429, 500...599: return .retry
        default: return .permanent
        }
    }

    /// Whether the fallback URL is tried for this answer (4xx or 5xx from the main URL).
    public static func triesFallback(_ outcome: HTTPOutcome) -> Bool {
        guard let status = outcome.statusCode else { return false }
        return (400..<600).contains(status)
    }

    /// When to try again after `attempts` attempts, or nil when the schedule is spent.
    /// ±20 % jitter spreads retries of many events (and many gateways) apart.
    public static func nextAttempt(after attempts: Int, delays: [Duration], retryAfter: String?, now: Date,
                            jitter: Double = Double.random(in: 0.8...1.2)) -> Date? {
        guard attempts >= 1, attempts <= delays.count else { return nil }
        let scheduled = Double(delays[attempts - 1].components.seconds) * jitter
        let asked = retryAfter.flatMap { parseRetryAfter($0, now: now) } ?? 0
        return now.addingTimeInterval(max(scheduled, min(asked, 86_400)))
    }

    /// `Retry-After: <seconds>` or `Retry-After: <HTTP-date>`, as seconds from now.
    public static func parseRetryAfter(_ value: String, now: Date) -> TimeInterval? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return TimeInterval(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: trimmed).map { max(0, $0.timeIntervalSince(now)) }
    }
}
