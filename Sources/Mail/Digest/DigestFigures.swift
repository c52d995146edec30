/// What a project's digest says about one period. Computed by the Server target from the
/// dashboard's own chart queries (`DigestFiguresQuery`), so the mail and the dashboard count
/// the same way; this target only renders them.
public struct DigestFigures: Sendable, Equatable {
    /// Sites per value of one column (a version), over the active sites at the period's end.
    public struct Shares: Sendable, Equatable {
        public struct Share: Sendable, Equatable {
            /// The value; nil when the sites did not report one.
            public var value: String?
            public var sites: Int64
            public init(value: String?, sites: Int64) { self.value = value; self.sites = sites }
        }
        /// Active sites counted (the denominator of every share).
        public var total: Int64
        /// Most sites first.
        public var values: [Share]
        /// Sites of values past the listed ones.
        public var other: Int64

        public init(total: Int64 = 0, values: [Share] = [], other: Int64 = 0) {
            self.total = total
            self.values = values
            self.other = other
        }
    }

    public struct ReasonCount: Sendable, Equatable {
        /// nil: the deactivation named no reason the project knows (or none at all).
        public var reasonID: String?
        public var count: Int64
        public init(reasonID: String?, count: Int64) { self.reasonID = reasonID; self.count = count }
    }

    public var projectID: String
    public var projectName: String
    public var period: DigestPeriod
    /// Sites whose first event falls in the period.
    public var newSites: Int64 = 0
    /// `deactivate` events in the period.
    public var deactivations: Int64 = 0
    /// Deactivations per reason, most first; sums to `deactivations`.
    public var reasons: [ReasonCount] = []
    /// Sites whose latest event before the period's end is `track` and recent (the dashboard's
    /// `active_sites` at the end of the period).
    public var activeSites: Int64 = 0
    /// Distinct sites that sent a `track` event in the period.
    public var reportingSites: Int64 = 0
    public var phpVersions = Shares()
    public var wordpressVersions = Shares()

    public init(projectID: String, projectName: String, period: DigestPeriod) {
        self.projectID = projectID
        self.projectName = projectName
        self.period = period
    }
}

/// Human text for the SDK's built-in deactivation reason ids (the Appsero client's wording);
/// a project's own ids are shown as they are.
public enum DeactivationReasonText {
    public static let builtIn: [String: String] = [
        "could-not-understand": "I couldn't understand how to make it work",
        "found-better-plugin": "I found a better plugin",
        "not-have-that-feature": "The plugin is great, but I need a feature that it does not have",
        "is-not-working": "The plugin is not working",
        "looking-for-other": "It's not what I was looking for",
        "did-not-work-as-expected": "The plugin didn't work as expected",
        "other": "Other",
        "none": "No reason picked",
    ]

    public static func text(_ reasonID: String?) -> String {
        guard let reasonID else { return "No known reason (theme switch, or an id the project does not list)" }
        return builtIn[reasonID] ?? reasonID
    }
}
