import Core

/// How often a project's digest goes out.
public enum DigestFrequency: String, Sendable, CaseIterable {
    case daily, weekly, monthly

    var title: String {
        switch self {
        case .daily: return "Daily"
        case .weekly: return "Weekly"
        case .monthly: return "Monthly"
        }
    }
}

/// One digest's period: `[start, end)` in µs UTC, aligned to its frequency's boundaries (days
/// at 00:00 UTC, weeks on Monday like the dashboard's weekly buckets, months on the 1st).
public struct DigestPeriod: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var frequency: DigestFrequency
    public var start: Int64
    public var end: Int64

    static let microsPerDay: Int64 = 86_400_000_000

    /// The period that contains `instant`.
    public static func containing(_ instant: Int64, frequency: DigestFrequency) -> DigestPeriod {
        let day = Int(floorDivide(instant, microsPerDay))
        switch frequency {
        case .daily:
            return DigestPeriod(frequency: frequency, start: Int64(day) * microsPerDay, end: Int64(day + 1) * microsPerDay)
        case .weekly:
            // Day 0 (1970-01-01) was a Thursday; Monday is 3 days before it.
            let monday = day - (((day + 3) % 7) + 7) % 7
            return DigestPeriod(frequency: frequency, start: Int64(monday) * microsPerDay, end: Int64(monday + 7) * microsPerDay)
        case .monthly:
            let civil = UTCTime.civilFromDays(day)
            let first = UTCTime.daysFromCivil(year: civil.year, month: civil.month, day: 1)
            let next = civil.month == 12
                ? UTCTime.daysFromCivil(year: civil.year + 1, month: 1, day: 1)
                : UTCTime.daysFromCivil(year: civil.year, month: civil.month + 1, day: 1)
            return DigestPeriod(frequency: frequency, start: Int64(first) * microsPerDay, end: Int64(next) * microsPerDay)
        }
    }

    public var next: DigestPeriod { Self.containing(end, frequency: frequency) }
    public var previous: DigestPeriod { Self.containing(start - 1, frequency: frequency) }

    /// The periods that have ended by `now` (end ≤ now) and end after `since` (the period
    /// that holds `since` is the first), oldest first, at most `limit` of them (the oldest).
    public static func closed(since: Int64, now: Int64, frequency: DigestFrequency, limit: Int = 100_000) -> [DigestPeriod] {
        var periods: [DigestPeriod] = []
        var period = containing(since, frequency: frequency)
        while period.end <= now, periods.count < limit {
            periods.append(period)
            period = period.next
        }
        return periods
    }

    /// `2026-11-30` (daily, weekly: the first day) or `2026-11` (monthly): the delivery id part.
    public var key: String {
        let civil = UTCTime.civil(micros: start)
        let month = civil.month < 10 ? "0\(civil.month)" : "\(civil.month)"
        let day = civil.day < 10 ? "0\(civil.day)" : "\(civil.day)"
        return frequency == .monthly ? "\(civil.year)-\(month)" : "\(civil.year)-\(month)-\(day)"
    }

    /// For people: `Monday 30 November 2026`, `30 November – 6 December 2026`, `November 2026`.
    public var label: String {
        let first = UTCTime.civil(micros: start)
        let last = UTCTime.civil(micros: end - 1)
        switch frequency {
        case .daily:
            let days = Int(Self.floorDivide(start, Self.microsPerDay))
            return "\(Self.weekdays[((days + 3) % 7 + 7) % 7]) \(first.day) \(Self.months[first.month - 1]) \(first.year)"
        case .weekly:
            let head = first.year == last.year
                ? "\(first.day) \(Self.months[first.month - 1])"
                : "\(first.day) \(Self.months[first.month - 1]) \(first.year)"
            return "\(head) – \(last.day) \(Self.months[last.month - 1]) \(last.year)"
        case .monthly:
            return "\(Self.months[first.month - 1]) \(first.year)"
        }
    }

    public var description: String { "\(frequency.rawValue) \(key)" }

    static let weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                         "October", "November", "December"]

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }
}
