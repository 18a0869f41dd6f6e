import Foundation
import Synchronization

/// A calendar date of the site, with no time and no zone: a reservation's arrival
/// and departure are the hotel's days, whatever zone a guest's phone is in.
/// Written `YYYY-MM-DD` (ISO 8601's calendar date, as the PMS sends it).
public struct LocalDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Parses `YYYY-MM-DD`; nil for anything else, including dates that do not exist
    /// (`2026-02-30`) and years outside 1900–2999.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard Self.hasShape(bytes) else { return nil }
        func number(_ range: Range<Int>) -> Int { bytes[range].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } }
        self.init(year: number(0..<4), month: number(5..<7), day: number(8..<10))
    }

    /// Whether `bytes` look like `DDDD-DD-DD` (digits and dashes), whatever the values.
    static func hasShape(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.count == 10 && bytes.enumerated().allSatisfy { [4, 7].contains($0.offset) ? $0.element == UInt8(ascii: "-") : TextShapes.isDigit($0.element) }
    }

    public init?(year: Int, month: Int, day: Int) {
        guard (1900...2999).contains(year), (1...12).contains(month), (1...Self.days(inMonth: month, of: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var description: String {
        String(year).leftPadded(4) + "-" + String(month).leftPadded(2) + "-" + String(day).leftPadded(2)
    }

    public static func < (a: LocalDate, b: LocalDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// The day `days` later (earlier when negative).
    public func adding(days: Int) -> LocalDate {
        let calendar = Calendar(identifier: .gregorian)
        let noon = DateComponents(calendar: calendar, timeZone: .gmt, year: year, month: month, day: day, hour: 12).date!
        return LocalDate(calendar.date(byAdding: .day, value: days, to: noon)!, in: .gmt)
    }

    /// The date `now` falls on in `zone`.
    public init(_ now: Date, in zone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        self.year = parts.year!
        self.month = parts.month!
        self.day = parts.day!
    }

    /// Midnight at the end of this day in `zone` (the first instant of the next day;
    /// on a day that starts with a DST jump, the first instant that exists).
    public func end(in zone: TimeZone) -> Date {
        // Remembered: every reservation written or shown asks for its departure's end,
        // and a site's reservations share a few hundred dates.
        let key = EndCache.Key(date: self, zone: zone.identifier)
        if let end = Self.ends.withLock({ $0[key] }) { return end }
        let end = computeEnd(in: zone)
        Self.ends.withLock { cache in
            if cache.count >= 4_096 { cache.removeAll() }
            cache[key] = end
        }
        return end
    }

    /// The instant this day shows `time` on the clocks of `zone` (in a DST gap, the
    /// first instant after it): a check-out time on the departure day.
    public func at(_ time: TimeOfDay, in zone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: time.hour, minute: time.minute))!
    }

    private enum EndCache { struct Key: Hashable { let date: LocalDate; let zone: String } }
    private static let ends = Mutex<[EndCache.Key: Date]>([:])

    private func computeEnd(in zone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let start = calendar.date(from: DateComponents(year: year, month: month, day: day))!
        return calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: start))!
    }
}

/// A time on a site's clocks, without a day: when check-out is.
public struct TimeOfDay: Hashable, Sendable, CustomStringConvertible {
    public let hour: Int
    public let minute: Int

    /// Parses `HH:MM` on a 24-hour clock.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        self.hour = hour
        self.minute = minute
    }

    public var description: String { String(hour).leftPadded(2) + ":" + String(minute).leftPadded(2) }
}

extension String {
    fileprivate func leftPadded(_ length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
