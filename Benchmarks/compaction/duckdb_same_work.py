"""DuckDB doing the same compaction work as `trackhouse compact`, as SQL.

Reads the raw envelope files (CONTRACT §2) with `read_json`, applies the CONTRACT §4 rules
(registry join on the payload hash, site_key, bools, ints, minors, users, plugins, extra,
reason ids, empty strings as NULL), drops duplicate envelope ids, and writes the `events`
table hive-partitioned by project_id and month plus the `sites` table (§5) partitioned by
project_id, all zstd Parquet. The rules are written as close to ours as SQL allows; `--check`
compares every column with our tables on the same raw files and prints the share of rows
that agree, so the reader knows how "same" the work is.

Usage: duckdb_same_work.py DATA_DIR OUT_DIR THREADS [--check OUR_DATA_DIR]
Prints one JSON line: seconds, events, bytes of events and sites files.
"""
import json
import os
import sys
import time

import duckdb

BUILTIN_REASONS = ["could-not-understand", "found-better-plugin", "not-have-that-feature", "is-not-working",
                   "looking-for-other", "did-not-work-as-expected", "other", "none"]
TRUE_WORDS = "('1','yes','true','on')"
FALSE_WORDS = "('0','no','false','off')"


def quote(text):
    return "'" + text.replace("'", "''") + "'"


def s(expr):
    # Strings are trimmed and an empty string is NULL.
    return f"nullif(trim({expr}), '')"


def b(expr):
    return (f"(CASE WHEN lower(trim({expr})) IN {TRUE_WORDS} THEN true "
            f"WHEN lower(trim({expr})) IN {FALSE_WORDS} THEN false END)")


def i(expr):
    return f"(CASE WHEN regexp_full_match(trim({expr}), '-?[0-9]{{1,18}}') THEN CAST(trim({expr}) AS BIGINT) END)"


def minor(expr):
    return f"nullif(regexp_extract({expr}, '^([0-9]+\\.[0-9]+)', 1), '')"


def extra_sql(projects):
    """`extra`: per project, its declared fields cast to their type, keys sorted, else NULL."""
    cases = []
    for project in projects:
        parts = []
        for field in sorted(project.get("extra_fields", []), key=lambda f: f["key"]):
            key, kind = field["key"], field["type"]
            raw = f"trim(payload.extra->>{quote(key)})"
            name = json.dumps(key)
            if kind == "int":
                value = f"CAST({i(raw)} AS VARCHAR)"
            elif kind == "float":
                value = (f"CAST((CASE WHEN regexp_full_match({raw}, '-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?') "
                         f"THEN CAST({raw} AS DOUBLE) END) AS VARCHAR)")
            elif kind == "bool":
                value = f"CAST({b(raw)} AS VARCHAR)"
            else:
                value = f"to_json(nullif({raw}, ''))::VARCHAR"
            parts.append(f"'{name}:' || {value}")
        if parts:
            body = f"array_to_string(list_filter([{', '.join(parts)}], lambda x: x IS NOT NULL), ',')"
            cases.append(f"WHEN {quote(project['id'])} THEN nullif({body}, '')")
    if not cases:
        return "NULL"
    return f"('{{' || (CASE r.project_id {' '.join(cases)} END) || '}}')"


def reason_sql(projects):
    cases = " ".join(
        f"WHEN {quote(p['id'])} THEN [{', '.join(quote(x) for x in p.get('deactivation_reasons', [])) or 'NULL'}]"
        for p in projects)
    own = f"(CASE r.project_id {cases} END)" if cases else "[]"
    reason = s("payload.reason_id")
    builtin = "[" + ", ".join(quote(x) for x in BUILTIN_REASONS) + "]"
    return (f"(CASE WHEN e.route = 'deactivate' AND (list_contains({builtin}, {reason}) "
            f"OR list_contains({own}, {reason})) THEN {reason} END)")


# The payload is parsed once, into typed fields (every leaf read as text, as the SDK sends
# text); only the three objects whose keys vary are kept as JSON.
PAYLOAD_TYPE = ("STRUCT(url VARCHAR, site VARCHAR, admin_email VARCHAR, first_name VARCHAR, last_name VARCHAR, "
                "ip_address VARCHAR, hash VARCHAR, project_version VARCHAR, version VARCHAR, client VARCHAR, "
                "theme VARCHAR, active_plugins VARCHAR, inactive_plugins VARCHAR, is_local VARCHAR, "
                "tracking_skipped VARCHAR, previously_skipped VARCHAR, reason_id VARCHAR, reason_info VARCHAR, "
                "server STRUCT(software VARCHAR, php_version VARCHAR, mysql_version VARCHAR, php_max_upload_size VARCHAR, "
                "php_default_timezone VARCHAR, php_soap VARCHAR, php_fsockopen VARCHAR, php_curl VARCHAR), "
                "wp STRUCT(version VARCHAR, locale VARCHAR, memory_limit VARCHAR, debug_mode VARCHAR, multisite VARCHAR, "
                "theme_slug VARCHAR, theme_name VARCHAR, theme_version VARCHAR, theme_uri VARCHAR, theme_author VARCHAR), "
                "users JSON, plugins JSON, extra JSON)")


def events_select(data_dir, projects):
    users = "payload.users"
    plugins = "payload.plugins"
    site_key = (
        "nullif(regexp_replace(regexp_replace(regexp_replace(regexp_replace(lower(trim(payload.url)),"
        " '^[a-z][a-z0-9+.-]*://', ''), '[?#].*$', ''), '^www\\.', ''), '/+$', ''), '')")
    return f"""
    SELECT e.id AS event_id,
           CAST(e.received_at AS TIMESTAMPTZ) AS received_at,
           r.project_id,
           CASE e.route WHEN 'tracking-skipped' THEN 'skip' ELSE e.route END AS event,
           {site_key} AS site_key,
           lower(nullif(regexp_extract(e.user_agent, 'Appsero/([0-9a-fA-F]{{32}})', 1), '')) AS site_hash,
           {s("payload.url")} AS url, {s("payload.site")} AS site_name,
           {s("payload.admin_email")} AS admin_email, {s("payload.first_name")} AS first_name,
           {s("payload.last_name")} AS last_name, {s("payload.ip_address")} AS ip_address,
           coalesce({s("payload.project_version")}, {s("payload.version")}) AS project_version,
           {s("payload.client")} AS client_version,
           {s("payload.server.software")} AS server_software,
           {s("payload.server.php_version")} AS php_version,
           {s("payload.server.mysql_version")} AS mysql_version,
           {s("payload.server.php_max_upload_size")} AS php_max_upload_size,
           {s("payload.server.php_default_timezone")} AS php_default_timezone,
           {b("payload.server.php_soap")} AS php_soap,
           {b("payload.server.php_fsockopen")} AS php_fsockopen,
           {b("payload.server.php_curl")} AS php_curl,
           {minor("payload.server.php_version")} AS php_minor,
           {minor("payload.server.mysql_version")} AS mysql_minor,
           {minor("payload.wp.version")} AS wp_minor,
           {s("payload.wp.version")} AS wp_version,
           {s("payload.wp.locale")} AS wp_locale,
           {s("payload.wp.memory_limit")} AS wp_memory_limit,
           {b("payload.wp.debug_mode")} AS wp_debug_mode,
           {b("payload.wp.multisite")} AS wp_multisite,
           coalesce({s("payload.wp.theme_slug")}, {s("payload.theme")}) AS wp_theme_slug,
           {s("payload.wp.theme_name")} AS wp_theme_name,
           {s("payload.wp.theme_version")} AS wp_theme_version,
           {s("payload.wp.theme_uri")} AS wp_theme_uri,
           {s("payload.wp.theme_author")} AS wp_theme_author,
           {i(users + "->>'total'")} AS users_total,
           nullif('{{' || array_to_string(list_transform(
               list_filter(list_sort(json_keys({users})), lambda k: k <> 'total' AND regexp_full_match(trim({users}->>k), '-?[0-9]{{1,18}}')),
               lambda k: to_json(k)::VARCHAR || ':' || CAST(CAST(trim({users}->>k) AS BIGINT) AS VARCHAR)), ',') || '}}', '{{}}') AS users,
           {i("payload.active_plugins")} AS active_plugins,
           {i("payload.inactive_plugins")} AS inactive_plugins,
           {b("payload.is_local")} AS is_local,
           {b("payload.tracking_skipped")} AS tracking_skipped,
           {b("payload.previously_skipped")} AS previously_skipped,
           {reason_sql(projects)} AS reason_id,
           {s("payload.reason_info")} AS reason_info,
           nullif('[' || array_to_string(list_transform(list_sort(json_keys({plugins})),
               lambda k: json_object('slug', k, 'name', {s(plugins + "->k->>'name'")}, 'version', {s(plugins + "->k->>'version'")})::VARCHAR), ',')
               || ']', '[]') AS plugins,
           {extra_sql(projects)} AS extra,
           strftime(CAST(e.received_at AS TIMESTAMPTZ), '%Y-%m') AS month
    FROM read_json('{data_dir}/raw/**/*.ndjson*', format='newline_delimited',
                   columns={{'id':'VARCHAR','received_at':'VARCHAR','route':'VARCHAR','ip':'VARCHAR',
                             'user_agent':'VARCHAR','payload':{quote(PAYLOAD_TYPE)}}}) e
    JOIN registry r ON r.hash = lower(trim(e.payload.hash))
    QUALIFY row_number() OVER (PARTITION BY e.id ORDER BY e.received_at) = 1
    """


def main():
    data_dir, out_dir, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    check = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--check" else None
    projects = json.load(open(f"{data_dir}/projects.json"))["projects"]
    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    con.execute("SET TimeZone='UTC'")
    con.execute("SET preserve_insertion_order=false")
    con.execute("CREATE TABLE registry(project_id VARCHAR, hash VARCHAR)")
    con.executemany("INSERT INTO registry VALUES (?, ?)", [(p["id"], p["hash"].strip().lower()) for p in projects])
    os.makedirs(out_dir, exist_ok=True)
    started = time.time()
    con.execute(f"CREATE TEMP TABLE ev AS {events_select(data_dir, projects)}")
    con.execute(f"""COPY (SELECT * FROM ev ORDER BY project_id, month, received_at, event_id)
                    TO '{out_dir}/events' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (project_id, month))""")
    con.execute(f"""COPY (
        SELECT * EXCLUDE (month, rn), CASE event WHEN 'track' THEN 'active' WHEN 'deactivate' THEN 'deactivated' END AS status
        FROM (SELECT *, row_number() OVER w AS rn,
                     min(received_at) OVER (PARTITION BY project_id, site_key) AS first_seen,
                     max(received_at) OVER (PARTITION BY project_id, site_key) AS last_seen,
                     count(*) OVER (PARTITION BY project_id, site_key) AS event_count
              FROM ev WHERE site_key IS NOT NULL
              WINDOW w AS (PARTITION BY project_id, site_key ORDER BY received_at DESC, event_id DESC))
        WHERE rn = 1 ORDER BY project_id, site_key
    ) TO '{out_dir}/sites' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (project_id))""")
    seconds = time.time() - started
    events = con.execute("SELECT count(*) FROM ev").fetchone()[0]

    def size(folder):
        return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(folder) for f in files
                   if f.endswith(".parquet"))

    result = {"seconds": round(seconds, 2), "events": events, "events_bytes": size(f"{out_dir}/events"),
              "sites_bytes": size(f"{out_dir}/sites")}
    if check:
        ours = f"read_parquet('{check}/warehouse/events/**/*.parquet', hive_partitioning=true)"
        columns = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {ours}").fetchall()
                   if c[0] not in ("month", "project")]
        agree = {}
        total = con.execute(f"SELECT count(*) FROM {ours} o JOIN ev d USING (event_id)").fetchone()[0]
        for column in columns:
            same = con.execute(
                f"SELECT count(*) FROM {ours} o JOIN ev d USING (event_id) "
                f"WHERE o.{column} IS NOT DISTINCT FROM d.{column}").fetchone()[0] if column != "event_id" else total
            agree[column] = round(same / max(total, 1), 4)
        result["check"] = {"ours_rows": con.execute(f"SELECT count(*) FROM {ours}").fetchone()[0],
                           "joined_rows": total,
                           "columns_not_identical": {k: v for k, v in agree.items() if v < 1.0}}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
