import Core


/// A half-open time range `[from, to)` in microseconds since the epoch, UTC.
public struct TimeRange: Sendable, Equatable {
    public var from: Int64
    public var to: Int64

    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }
}

/// The `interval` of a time series. Bucket starts are aligned exactly like the engine's
/// `date_trunc` (UTC; weeks start on Monday), so SQL groups and filled buckets line up.
public enum BucketInterval: String, Sendable, CaseIterable {
    case hour, day, week, month

    static let microsPerHour: Int64 = 3_600_000_000
    static let microsPerDay: Int64 = 24 * microsPerHour

    /// The start of the bucket holding `micros`.
    public func start(of micros: Int64) -> Int64 {
        switch self {
        case .hour: return floorDivide(micros, Self.microsPerHour) * Self.microsPerHour
        case .day: return floorDivide(micros, Self.microsPerDay) * Self.microsPerDay
        case .week:
            // 1970-01-01 was a Thursday: Monday-based weeks are three days behind the epoch.
            let days = floorDivide(micros, Self.microsPerDay)
            let weekday = ((days + 3) % 7 + 7) % 7
            return (days - weekday) * Self.microsPerDay
        case .month:
            let civil = UTCTime.civil(micros: micros)
            return Int64(UTCTime.daysFromCivil(year: civil.year, month: civil.month, day: 1)) * Self.microsPerDay
        }
    }

    /// The start of the bucket after the one starting at `start`.
    public func next(after start: Int64) -> Int64 {
        switch self {
        case .hour: return start + Self.microsPerHour
        case .day: return start + Self.microsPerDay
        case .week: return start + 7 * Self.microsPerDay
        case .month:
            let civil = UTCTime.civil(micros: start)
            let (year, month) = civil.month == 12 ? (civil.year + 1, 1) : (civil.year, civil.month + 1)
            return Int64(UTCTime.daysFromCivil(year: year, month: month, day: 1)) * Self.microsPerDay
        }
    }

    /// Every bucket start that overlaps `range`: from the bucket of `from` up to the last
    /// bucket starting before `to`. Nil when there would be more than `limit`.
    public func starts(covering range: TimeRange, limit: Int) -> [Int64]? {
        var starts: [Int64] = []
        var current = start(of: range.from)
        while current < range.to {
            if starts.count == limit { return nil }
            starts.append(current)
            current = next(after: current)
        }
        return starts
    }

    private func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient
    }
}
