import Foundation

/// Reservation dates for tests that run against the real clock: the UTC day (a
/// default site's `time_zone`) `days` from now, as `YYYY-MM-DD`.
public func utcDay(_ days: Int) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd"
    return formatter.string(from: Date().addingTimeInterval(TimeInterval(days * 86_400)))
}
