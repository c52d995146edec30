import Core

// Calendar arithmetic on microseconds since the Unix epoch (UTC), without Foundation, on
// top of Ingest's `UTCTime` (Howard Hinnant's days-from-civil, proleptic Gregorian).


let microsPerSecond: Int64 = 1_000_000
let microsPerMinute: Int64 = 60 * microsPerSecond
let microsPerHour: Int64 = 60 * microsPerMinute
let microsPerDay: Int64 = 24 * microsPerHour

/// Days since 1970-01-01 of a civil date (Ingest's `UTCTime` holds the one algorithm).
@inline(__always)
func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    Int64(UTCTime.daysFromCivil(year: Int(year), month: Int(month), day: Int(day)))
}

/// The civil date of a day count since 1970-01-01.
@inline(__always)
func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let civil = UTCTime.civilFromDays(Int(days))
    return (Int64(civil.year), Int64(civil.month), Int64(civil.day))
}

@inline(__always) func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    let quotient = value / divisor
    return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
}

/// Truncates a timestamp to the start of its `part`; weeks start on Monday.
func truncateTimestamp(_ micros: Int64, to part: DatePart) -> Int64 {
    switch part {
    case .second: return floorDivide(micros, microsPerSecond) * microsPerSecond
    case .minute: return floorDivide(micros, microsPerMinute) * microsPerMinute
    case .hour: return floorDivide(micros, microsPerHour) * microsPerHour
    case .day: return floorDivide(micros, microsPerDay) * microsPerDay
    case .week:
        // 1970-01-01 was a Thursday: Monday-based weeks are offset by 3 days.
        let days = floorDivide(micros, microsPerDay)
        let weekday = ((days + 3) % 7 + 7) % 7 // 0 = Monday
        return (days - weekday) * microsPerDay
    case .month, .quarter, .year:
        let date = civilFromDays(floorDivide(micros, microsPerDay))
        var month = date.month
        if part == .quarter { month = (month - 1) / 3 * 3 + 1 }
        if part == .year { month = 1 }
        return daysFromCivil(year: date.year, month: month, day: 1) * microsPerDay
    }
}

enum TimestampStyle {
    /// `2026-11-28 10:15:03.123456` (fraction trimmed), like DuckDB's VARCHAR cast.
    case sql
    /// `2026-11-28T10:15:03.123456Z` (six fraction digits when non-zero), for JSON.
    case iso
}

func formatTimestamp(_ micros: Int64, style: TimestampStyle) -> String {
    let days = floorDivide(micros, microsPerDay)
    var rest = micros - days * microsPerDay
    let date = civilFromDays(days)
    let hour = rest / microsPerHour
    rest -= hour * microsPerHour
    let minute = rest / microsPerMinute
    rest -= minute * microsPerMinute
    let second = rest / microsPerSecond
    let fraction = rest - second * microsPerSecond

    var text = ""
    text.reserveCapacity(32)
    func pad(_ value: Int64, _ width: Int) {
        let digits = String(value)
        if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
        text += digits
    }
    if date.year < 0 {
        text += "-"
        pad(-date.year, 4)
    } else {
        pad(date.year, 4)
    }
    text += "-"; pad(date.month, 2); text += "-"; pad(date.day, 2)
    text += style == .iso ? "T" : " "
    pad(hour, 2); text += ":"; pad(minute, 2); text += ":"; pad(second, 2)
    if fraction != 0 {
        var digits = String(fraction)
        digits = String(repeating: "0", count: 6 - digits.count) + digits
        if style == .sql {
            while digits.hasSuffix("0") { digits.removeLast() }
        }
        text += "." + digits
    }
    if style == .iso { text += "Z" }
    return text
}

/// Parses `YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][Z|±HH[:MM]]`; nil when malformed.
func parseTimestamp(_ text: String) -> Int64? {
    let bytes = Array(text.utf8)
    var index = 0
    while index < bytes.count, bytes[index] == 0x20 { index += 1 }
    func digits(_ countMin: Int, _ countMax: Int) -> Int64? {
        var value: Int64 = 0
        var taken = 0
        while index < bytes.count, taken < countMax, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            value = value * 10 + Int64(bytes[index] - 0x30)
            index += 1
            taken += 1
        }
        return taken >= countMin ? value : nil
    }
    func expect(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }
    guard let year = digits(4, 6), expect(UInt8(ascii: "-")), let month = digits(1, 2),
          expect(UInt8(ascii: "-")), let day = digits(1, 2) else { return nil }
    guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
    // Six-digit years reach past Int64 microseconds (294247-01-10): such a literal is refused,
    // as DuckDB does, instead of trapping on the overflow.
    let (dayMicros, dayOverflow) = daysFromCivil(year: year, month: month, day: day).multipliedReportingOverflow(by: microsPerDay)
    guard !dayOverflow else { return nil }
    var micros = dayMicros
    var overflow = false
    func add(_ value: Int64) {
        let (sum, carried) = micros.addingReportingOverflow(value)
        micros = sum
        overflow = overflow || carried
    }
    if index < bytes.count, bytes[index] == 0x20 || bytes[index] == UInt8(ascii: "T") {
        index += 1
        guard let hour = digits(1, 2), expect(UInt8(ascii: ":")), let minute = digits(2, 2),
              hour < 24, minute < 60 else { return nil }
        add(hour * microsPerHour + minute * microsPerMinute)
        if expect(UInt8(ascii: ":")) {
            guard let second = digits(2, 2), second < 60 else { return nil }
            add(second * microsPerSecond)
            if expect(UInt8(ascii: ".")) {
                var fraction: Int64 = 0
                var scale: Int64 = 100_000
                var taken = 0
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    fraction += Int64(bytes[index] - 0x30) * scale
                    scale /= 10
                    index += 1
                    taken += 1
                }
                guard taken > 0 else { return nil }
                add(fraction)
            }
        }
        if expect(UInt8(ascii: "Z")) {
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign: Int64 = bytes[index] == UInt8(ascii: "+") ? 1 : -1
            index += 1
            guard let offsetHours = digits(2, 2) else { return nil }
            var offsetMinutes: Int64 = 0
            if expect(UInt8(ascii: ":")) {
                guard let minutes = digits(2, 2) else { return nil }
                offsetMinutes = minutes
            } else if let minutes = digits(2, 2) {
                offsetMinutes = minutes
            }
            add(-sign * (offsetHours * microsPerHour + offsetMinutes * microsPerMinute))
        }
    }
    while index < bytes.count, bytes[index] == 0x20 { index += 1 }
    return index == bytes.count && !overflow ? micros : nil
}

func daysInMonth(year: Int64, month: Int64) -> Int64 {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// The [start, end) micros of a "YYYY-MM" month partition value; nil when malformed.
func monthRange(_ month: String) -> (start: Int64, end: Int64)? {
    let parts = month.split(separator: "-")
    guard parts.count == 2, let year = Int64(parts[0]), let monthNumber = Int64(parts[1]),
          (1...12).contains(monthNumber) else { return nil }
    let start = daysFromCivil(year: year, month: monthNumber, day: 1) * microsPerDay
    let end = monthNumber == 12
        ? daysFromCivil(year: year + 1, month: 1, day: 1) * microsPerDay
        : daysFromCivil(year: year, month: monthNumber + 1, day: 1) * microsPerDay
    return (start, end)
}

/// Doubles printed like DuckDB: shortest round-trip digits, "1.0" for whole numbers.
func formatDouble(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    return value.description
}
