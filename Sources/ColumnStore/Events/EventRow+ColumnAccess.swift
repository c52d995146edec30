import Core

/// One cell of an `events` row, for generic code that does not know the column's kind.
public enum EventValue: Sendable, Equatable {
    case null
    case string(String)
    /// UTC microseconds since the Unix epoch.
    case timestamp(Int64)
    case bool(Bool)
    case int64(Int64)
}

/// Column-index access to `EventRow`, in `TableSchema.events` order.
///
/// The typed accessors are the hot path for column building: they switch on the index and
/// never box. Asking a column for the wrong kind is a programmer error and traps.
extension EventRow {
    public static let columnCount = 46

    /// The value of a `string` column.
    public func string(at column: Int) -> String? {
        switch column {
        case 0: return eventID
        case 2: return projectID
        case 3: return event
        case 4: return siteKey
        case 5: return siteHash
        case 6: return url
        case 7: return siteName
        case 8: return adminEmail
        case 9: return firstName
        case 10: return lastName
        case 11: return ipAddress
        case 12: return projectVersion
        case 13: return clientVersion
        case 14: return serverSoftware
        case 15: return phpVersion
        case 16: return mysqlVersion
        case 17: return phpMaxUploadSize
        case 18: return phpDefaultTimezone
        case 22: return phpMinor
        case 23: return mysqlMinor
        case 24: return wpMinor
        case 25: return wpVersion
        case 26: return wpLocale
        case 27: return wpMemoryLimit
        case 30: return wpThemeSlug
        case 31: return wpThemeName
        case 32: return wpThemeVersion
        case 33: return wpThemeURI
        case 34: return wpThemeAuthor
        case 36: return users
        case 42: return reasonID
        case 43: return reasonInfo
        case 44: return plugins
        case 45: return extra
        default: preconditionFailure("events column \(column) is not a string column")
        }
    }

    /// Sets a `string` column. The four always-present columns (event_id, project_id, event)
    /// keep their value when given nil.
    public mutating func setString(_ value: String?, at column: Int) {
        switch column {
        case 0: if let value { eventID = value }
        case 2: if let value { projectID = value }
        case 3: if let value { event = value }
        case 4: siteKey = value
        case 5: siteHash = value
        case 6: url = value
        case 7: siteName = value
        case 8: adminEmail = value
        case 9: firstName = value
        case 10: lastName = value
        case 11: ipAddress = value
        case 12: projectVersion = value
        case 13: clientVersion = value
        case 14: serverSoftware = value
        case 15: phpVersion = value
        case 16: mysqlVersion = value
        case 17: phpMaxUploadSize = value
        case 18: phpDefaultTimezone = value
        case 22: phpMinor = value
        case 23: mysqlMinor = value
        case 24: wpMinor = value
        case 25: wpVersion = value
        case 26: wpLocale = value
        case 27: wpMemoryLimit = value
        case 30: wpThemeSlug = value
        case 31: wpThemeName = value
        case 32: wpThemeVersion = value
        case 33: wpThemeURI = value
        case 34: wpThemeAuthor = value
        case 36: users = value
        case 42: reasonID = value
        case 43: reasonInfo = value
        case 44: plugins = value
        case 45: extra = value
        default: preconditionFailure("events column \(column) is not a string column")
        }
    }

    /// The value of a `timestamp` or `int64` column (both are stored as Int64).
    public func int64(at column: Int) -> Int64? {
        switch column {
        case 1: return receivedAtMicros
        case 35: return usersTotal
        case 37: return activePlugins
        case 38: return inactivePlugins
        default: preconditionFailure("events column \(column) is not a timestamp or int64 column")
        }
    }

    /// Sets a `timestamp` or `int64` column; received_at keeps its value when given nil.
    public mutating func setInt64(_ value: Int64?, at column: Int) {
        switch column {
        case 1: if let value { receivedAtMicros = value }
        case 35: usersTotal = value
        case 37: activePlugins = value
        case 38: inactivePlugins = value
        default: preconditionFailure("events column \(column) is not a timestamp or int64 column")
        }
    }

    /// The value of a `bool` column.
    public func bool(at column: Int) -> Bool? {
        switch column {
        case 19: return phpSoap
        case 20: return phpFsockopen
        case 21: return phpCurl
        case 28: return wpDebugMode
        case 29: return wpMultisite
        case 39: return isLocal
        case 40: return trackingSkipped
        case 41: return previouslySkipped
        default: preconditionFailure("events column \(column) is not a bool column")
        }
    }

    public mutating func setBool(_ value: Bool?, at column: Int) {
        switch column {
        case 19: phpSoap = value
        case 20: phpFsockopen = value
        case 21: phpCurl = value
        case 28: wpDebugMode = value
        case 29: wpMultisite = value
        case 39: isLocal = value
        case 40: trackingSkipped = value
        case 41: previouslySkipped = value
        default: preconditionFailure("events column \(column) is not a bool column")
        }
    }

    /// The cell at a column index, whatever its kind.
    public func value(at column: Int) -> EventValue {
        switch TableSchema.events.columns[column].kind {
        case .string: return string(at: column).map(EventValue.string) ?? .null
        case .timestamp: return int64(at: column).map(EventValue.timestamp) ?? .null
        case .int64: return int64(at: column).map(EventValue.int64) ?? .null
        case .bool: return bool(at: column).map(EventValue.bool) ?? .null
        case .double: preconditionFailure("events has no double column")
        }
    }

    /// Sets the cell at a column index; the value's kind must match the column's (or be null).
    public mutating func setValue(_ value: EventValue, at column: Int) {
        switch (TableSchema.events.columns[column].kind, value) {
        case (.string, .string(let text)): setString(text, at: column)
        case (.string, .null): setString(nil, at: column)
        case (.timestamp, .timestamp(let micros)): setInt64(micros, at: column)
        case (.int64, .int64(let number)): setInt64(number, at: column)
        case (.timestamp, .null), (.int64, .null): setInt64(nil, at: column)
        case (.bool, .bool(let flag)): setBool(flag, at: column)
        case (.bool, .null): setBool(nil, at: column)
        default: preconditionFailure("value \(value) does not fit events column \(TableSchema.events.columns[column].name)")
        }
    }
}
