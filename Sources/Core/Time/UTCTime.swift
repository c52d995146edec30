/// Microsecond UTC timestamps and their ISO-8601 text form, without Foundation's formatters.
///
/// Civil-date conversion uses Howard Hinnant's days-from-civil algorithm, which is exact for
/// the proleptic Gregorian calendar over the whole Int64 range we care about.
public enum UTCTime {
    public struct Civil: Equatable, Sendable {
        public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, micros: Int
    }

    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public static func civil(micros: Int64) -> Civil {
        let perDay: Int64 = 86_400_000_000
        var days = micros / perDay
        var rest = micros % perDay
        if rest < 0 { rest += perDay; days -= 1 }
        let (year, month, day) = civilFromDays(Int(days))
        let seconds = Int(rest / 1_000_000)
        return Civil(year: year, month: month, day: day, hour: seconds / 3600, minute: seconds / 60 % 60,
                     second: seconds % 60, micros: Int(rest % 1_000_000))
    }

    public static func micros(_ civil: Civil) -> Int64 {
        let days = Int64(daysFromCivil(year: civil.year, month: civil.month, day: civil.day))
        return ((days * 24 + Int64(civil.hour)) * 60 + Int64(civil.minute)) * 60_000_000
            + Int64(civil.second) * 1_000_000 + Int64(civil.micros)
    }

    /// Now, in microseconds since the Unix epoch.
    public static func nowMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }

    @inline(__always)
    static func appendDigits(_ value: Int, count: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(truncatingIfNeeded: 0x30 + rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// `2026-11-28T10:15:03.123456Z` (always six fractional digits: the envelope form).
    public static func formatEnvelope(micros: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        appendISO(micros: micros, fraction: .always, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `2026-11-28T10:15:03Z`, with `.123456` only when the fraction is non-zero (API form).
    public static func formatISO(micros: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        appendISO(micros: micros, fraction: .whenNonZero, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public enum Fraction { case always, whenNonZero }

    public static func appendISO(micros: Int64, fraction: Fraction, to bytes: inout [UInt8]) {
        let c = civil(micros: micros)
        appendDigits(c.year, count: 4, to: &bytes); bytes.append(0x2D)
        appendDigits(c.month, count: 2, to: &bytes); bytes.append(0x2D)
        appendDigits(c.day, count: 2, to: &bytes); bytes.append(0x54)
        appendDigits(c.hour, count: 2, to: &bytes); bytes.append(0x3A)
        appendDigits(c.minute, count: 2, to: &bytes); bytes.append(0x3A)
        appendDigits(c.second, count: 2, to: &bytes)
        if fraction == .always || c.micros != 0 {
            bytes.append(0x2E)
            appendDigits(c.micros, count: 6, to: &bytes)
        }
        bytes.append(0x5A)
    }

    /// The instants the formatters can write: years 0000 through 9999, UTC.
    public static let microsMin = Int64(daysFromCivil(year: 0, month: 1, day: 1)) * 86_400_000_000
    public static let microsMax = Int64(daysFromCivil(year: 10_000, month: 1, day: 1)) * 86_400_000_000 - 1

    /// Parses ISO-8601 UTC: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.ffffff]]` with `T` or a space,
    /// and an optional `Z`, `+00:00` or other `±HH:MM` offset. Returns nil on anything else,
    /// and for an instant outside `microsMin...microsMax` (an offset can move year 0000 or
    /// 9999 across the edge, e.g. `9999-12-31T23:00:00-14:00` is in year 10000, which the
    /// formatters would write as year 0000).
    public static func parseISO(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= b.count else { return nil }
            var value = 0
            for k in 0..<width {
                let d = b[i + k]
                guard d >= 0x30 && d <= 0x39 else { return nil }
                value = value * 10 + Int(d - 0x30)
            }
            i += width
            return value
        }
        func take(_ byte: UInt8) -> Bool {
            if i < b.count && b[i] == byte { i += 1; return true }
            return false
        }
        guard let year = number(4), take(0x2D), let month = number(2), take(0x2D), let day = number(2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        var civil = Civil(year: year, month: month, day: day, hour: 0, minute: 0, second: 0, micros: 0)
        var offsetMinutes = 0
        if i < b.count {
            guard take(0x54) || take(0x74) || take(0x20) else { return nil }
            guard let hour = number(2), take(0x3A), let minute = number(2) else { return nil }
            guard hour < 24, minute < 60 else { return nil }
            civil.hour = hour; civil.minute = minute
            if take(0x3A) {
                guard let second = number(2), second < 60 else { return nil }
                civil.second = second
                if take(0x2E) {
                    var digits = 0
                    var micros = 0
                    while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                        if digits < 6 { micros = micros * 10 + Int(b[i] - 0x30) }
                        digits += 1
                        i += 1
                    }
                    guard digits > 0 else { return nil }
                    for _ in digits..<max(digits, 6) { micros *= 10 }
                    civil.micros = micros
                }
            }
            if take(0x5A) || take(0x7A) {
            } else if i < b.count, b[i] == 0x2B || b[i] == 0x2D {
                let sign = b[i] == 0x2D ? -1 : 1
                i += 1
                guard let oh = number(2) else { return nil }
                _ = take(0x3A)
                guard let om = number(2), oh < 24, om < 60 else { return nil }
                offsetMinutes = sign * (oh * 60 + om)
            }
            guard i == b.count else { return nil }
        }
        let result = micros(civil) - Int64(offsetMinutes) * 60_000_000
        guard result >= microsMin, result <= microsMax else { return nil }
        return result
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
