/// Every metric `/metrics` exposes, with its `# HELP` text: the one place that says what each
/// means. `TrackhouseMetricsFactory` looks the help up here when a swift-metrics object is made,
/// so code anywhere (a `Counter` made with a `trackhouse_…` label) only names the metric. A metric missing
/// here is exposed without `# HELP`, which `MetricsCatalogTests` fails on (it scans the sources
/// for metric labels and scrapes a live server).
public enum MetricsCatalog {
    public static let help: [String: String] = [
        // Build and process.
        "trackhouse_build_info": "The running build: always 1, with the version and commit as labels.",
        "process_cpu_seconds_total": "User and system CPU time this process has used, in seconds.",
        "process_resident_memory_bytes": "Resident memory (RSS) of this process, in bytes.",
        "process_virtual_memory_bytes": "Virtual memory size of this process, in bytes.",
        "process_open_fds": "File descriptors this process has open.",
        "process_max_fds": "The limit on open file descriptors (RLIMIT_NOFILE soft limit).",
        "process_start_time_seconds": "When this process started, in seconds since the Unix epoch.",

        // HTTP (every request the router answers; the SDK routes on the event loop are counted
        // by trackhouse_ingest_requests_total instead, so the ingest path stays as cheap as it is).
        "trackhouse_http_requests_total": "HTTP requests answered by the router, by method, route template and status.",
        "trackhouse_http_request_duration_seconds": "Time to answer an HTTP request the router handled (until the body is written), by method, route template and status.",

        // Ingest (CONTRACT §1, §2).
        "trackhouse_ingest_requests_total": "SDK requests answered, by route (track, deactivate, tracking-skipped) and status.",
        "trackhouse_ingest_bytes_written_total": "Bytes appended to raw hour files.",
        "trackhouse_ingest_fsync_seconds": "Duration of each group-commit fsync of the raw files.",
        "trackhouse_ingest_fsyncs_total": "Group-commit fsyncs of the raw files.",
        "trackhouse_ingest_group_commit_batch_size": "Requests made durable by one group commit.",
        "trackhouse_ingest_seal_backlog_files": "Closed raw hour files waiting to be gzip-sealed.",

        // SQL engine (the API's charts and pages, and callers' SQL).
        "trackhouse_queries_total": "SQL statements run by the engine (callers' SQL and the API's own), finished or failed.",
        "trackhouse_query_duration_seconds": "Time to run one SQL statement, parse to result.",
        "trackhouse_query_rows_scanned_total": "Rows the SQL engine read from the warehouse.",
        "trackhouse_query_errors_total": "SQL statements that failed, by error code (syntax_error, binder_error, timeout, io_error, …).",

        // Compaction inside serve.
        "trackhouse_compaction_runs_total": "In-process compaction runs, by result (ok, skipped when another process holds the lock, error).",
        "trackhouse_compaction_duration_seconds": "Duration of one in-process compaction run.",
        "trackhouse_compaction_events_total": "Events written to the warehouse by compaction.",
        "trackhouse_compaction_duplicates_dropped_total": "Envelopes compaction dropped as duplicates of a stored event id.",
        "trackhouse_compaction_unknown_project_events_total": "Envelopes compaction left out because no project has their hash.",
        "trackhouse_compaction_raw_bytes_read_total": "Bytes of raw hour files compaction read.",
        "trackhouse_compaction_bytes_written_total": "Bytes of Parquet files compaction wrote.",

        // Chart rollups.
        "trackhouse_rollup_refresh_duration_seconds": "Time to bring the chart rollups up to a new commit, by kind (build from scratch, follow new commits).",
        "trackhouse_rollup_lag_versions": "Warehouse commits not yet folded into the chart rollups (0 when current).",
        "trackhouse_rollup_version": "The warehouse version the chart rollups reflect.",

        // Integrations' outbox (CONTRACT §8).
        "trackhouse_deliveries_total": "Integration delivery attempts (webhooks, mailing lists).",
        "trackhouse_outbox_pending": "Integration deliveries waiting to be sent (new or to be retried).",
        "trackhouse_outbox_oldest_pending_age_seconds": "Age of the oldest delivery still waiting to be sent, in seconds (0 when none waits).",
    ]

    /// Histogram buckets per metric where the default (5 ms … 10 s) does not fit.
    static let durationBuckets: [String: [Duration]] = [
        "trackhouse_compaction_duration_seconds": [.milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                                   .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
                                                   .seconds(30), .seconds(60), .seconds(120), .seconds(300)],
        "trackhouse_rollup_refresh_duration_seconds": [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
                                                       .milliseconds(250), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
                                                       .seconds(30), .seconds(60)],
        "trackhouse_http_request_duration_seconds": [.microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
                                                     .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                                     .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
                                                     .seconds(10), .seconds(30)],
        "trackhouse_query_duration_seconds": [.microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
                                              .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                              .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
                                              .seconds(10), .seconds(30)],
    ]
}
