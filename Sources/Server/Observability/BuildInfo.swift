import Metrics

/// `trackhouse_build_info{version,commit} 1`: which build is running, for dashboards that
/// join it onto other series and for alerts on a version mix across servers.
public enum BuildInfo {
    /// Records the gauge once, after the metrics backend is bootstrapped.
    public static func record(version: String, commit: String) {
        Gauge(label: "trackhouse_build_info", dimensions: [("version", version), ("commit", commit.isEmpty ? "unknown" : commit)]).record(1)
    }
}
