-- One query per statement, separated by lines holding only ';'. A leading "-- ordered" keeps
-- row order in the comparison (the query's ORDER BY is total); otherwise rows are compared
-- as sorted multisets. "-- approx" compares numbers within 5%.
SELECT count(*) FROM events
;
SELECT count(*), count(site_key), count(DISTINCT site_key), count(DISTINCT site_hash) FROM events
;
SELECT event, count(*) FROM events GROUP BY event
;
SELECT project_id, event, count(*) FROM events GROUP BY project_id, event
;
SELECT php_minor, count(*) AS n FROM events GROUP BY 1
;
-- ordered
SELECT php_minor, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC, php_minor NULLS FIRST
;
-- ordered
SELECT php_minor, count(*) FROM events GROUP BY php_minor ORDER BY php_minor NULLS FIRST
;
-- ordered
SELECT php_minor, count(*) FROM events GROUP BY php_minor ORDER BY php_minor DESC NULLS LAST
;
SELECT date_trunc('day', received_at) AS day, php_minor, count(*) FROM events GROUP BY 1, 2
;
SELECT date_trunc('week', received_at) AS week, count(DISTINCT site_key) FROM events WHERE event = 'track' GROUP BY 1
;
SELECT date_trunc('month', received_at), reason_id, count(*) FROM events WHERE event = 'deactivate' GROUP BY 1, 2
;
SELECT date_trunc('hour', received_at) AS h, count(*) FROM events WHERE received_at < TIMESTAMP '2026-04-01 00:00:00' GROUP BY h
;
SELECT wp_locale, count(*) FROM sites WHERE status = 'active' GROUP BY wp_locale
;
SELECT status, count(*), sum(event_count), min(first_seen), max(last_seen) FROM sites GROUP BY status
;
SELECT project_id, status, count(*) FROM sites GROUP BY 1, 2
;
-- ordered
SELECT project_version, count(DISTINCT site_key) AS sites FROM events WHERE event = 'track' GROUP BY 1 ORDER BY sites DESC, project_version NULLS LAST LIMIT 5
;
SELECT count(*) FROM events WHERE url LIKE '%shop%'
;
SELECT count(*) FROM events WHERE url ILIKE '%SHOP%'
;
SELECT count(*) FROM events WHERE url NOT LIKE 'https://%'
;
SELECT count(*) FROM events WHERE site_key LIKE 'a%' OR site_key LIKE '%.org'
;
SELECT count(*) FROM events WHERE (site_key = 'x') IS NULL
;
SELECT min(site_key), max(site_key), min(received_at), max(received_at) FROM events
;
SELECT sum(users_total), avg(users_total), min(users_total), max(users_total) FROM events
;
SELECT sum(active_plugins), avg(inactive_plugins) FROM events WHERE event = 'track'
;
SELECT avg(active_plugins + inactive_plugins), sum(active_plugins * 2 - 1) FROM events
;
SELECT active_plugins / 2, count(*) FROM events GROUP BY 1
;
SELECT active_plugins % 3 AS r, count(*) FROM events WHERE active_plugins IS NOT NULL GROUP BY r
;
SELECT count(*) FROM events WHERE active_plugins BETWEEN 3 AND 7
;
SELECT count(*) FROM events WHERE active_plugins NOT BETWEEN 3 AND 7
;
SELECT count(*) FROM events WHERE wp_locale IN ('de_DE', 'fr_FR', 'ja')
;
SELECT count(*) FROM events WHERE wp_locale NOT IN ('en_US', 'de_DE')
;
SELECT count(*) FROM events WHERE php_minor IS NULL
;
SELECT count(*) FROM events WHERE php_minor IS NOT NULL AND mysql_minor IS NULL
;
SELECT php_soap, php_curl, count(*) FROM events GROUP BY 1, 2
;
SELECT count(*) FROM events WHERE wp_multisite
;
SELECT count(*) FROM events WHERE NOT is_local
;
SELECT count(*) FROM events WHERE is_local = false OR tracking_skipped = true
;
SELECT previously_skipped, count(*), count(DISTINCT site_hash) FROM events WHERE event = 'skip' GROUP BY 1
;
SELECT CASE WHEN active_plugins > 10 THEN 'many' WHEN active_plugins > 3 THEN 'some' ELSE 'few' END AS bucket, count(*) FROM events GROUP BY 1
;
SELECT CASE event WHEN 'track' THEN 1 WHEN 'deactivate' THEN 2 END AS k, count(*) FROM events GROUP BY 1
;
SELECT lower(wp_locale), upper(server_software), count(*) FROM events GROUP BY 1, 2
;
SELECT length(site_key) AS len, count(*) FROM events GROUP BY len
;
SELECT substr(php_version, 1, 3), count(*) FROM events GROUP BY 1
;
SELECT substr(site_key, 3), count(*) FROM sites GROUP BY 1 HAVING count(*) > 1
;
SELECT coalesce(reason_id, 'none-given'), count(*) FROM events WHERE event = 'deactivate' GROUP BY 1
;
SELECT coalesce(wp_theme_slug, wp_theme_name, 'unknown') AS theme, count(*) FROM events GROUP BY theme
;
SELECT json_extract_string(extra, '$.total_posts') AS posts, count(*) FROM events WHERE extra IS NOT NULL GROUP BY 1 HAVING count(*) >= 2
;
SELECT json_extract_string(users, '$.administrator'), count(*) FROM events GROUP BY 1
;
SELECT CAST(active_plugins AS VARCHAR) AS s, count(*) FROM events GROUP BY s
;
SELECT CAST(users_total AS DOUBLE) / 3, count(*) FROM events WHERE users_total < 5 GROUP BY 1
;
SELECT CAST('42' AS BIGINT) + active_plugins, count(*) FROM events GROUP BY 1
;
SELECT wp_version, count(*) AS n FROM events GROUP BY wp_version HAVING n > 10
;
SELECT wp_minor, count(DISTINCT site_key) FROM events GROUP BY wp_minor HAVING count(DISTINCT site_key) > 5
;
SELECT DISTINCT event FROM events
;
SELECT DISTINCT project_id, php_minor FROM sites
;
-- ordered
SELECT site_key, received_at, event FROM events WHERE site_key IS NOT NULL ORDER BY received_at DESC, event_id DESC LIMIT 10
;
-- ordered
SELECT site_key, last_seen FROM sites ORDER BY last_seen, site_key LIMIT 7 OFFSET 5
;
-- ordered
SELECT event_id FROM events ORDER BY event_id LIMIT 3 OFFSET 100
;
-- ordered
SELECT site_key, event_count FROM sites ORDER BY event_count DESC, site_key ASC LIMIT 10
;
SELECT count(*) FROM events WHERE received_at >= TIMESTAMP '2026-04-01 00:00:00' AND received_at < TIMESTAMP '2026-05-01 00:00:00'
;
SELECT count(*) FROM events WHERE project_id = 'acme-seo' AND received_at >= TIMESTAMP '2026-05-01 00:00:00'
;
SELECT project_id, count(*) FROM events WHERE project_id IN ('acme-seo', 'nimbus-forms') GROUP BY 1
;
SELECT count(*) FROM events WHERE project_id <> 'acme-seo'
;
SELECT event, count(*) FROM events WHERE site_key = 'no-such-site.example' GROUP BY event
;
SELECT avg(event_count), max(event_count) FROM sites WHERE project_id = 'pixel-gallery'
;
SELECT mysql_minor, count(*) * 100.0 / 7 FROM events GROUP BY 1
;
SELECT count(*) FROM sites WHERE first_seen > last_seen
;
SELECT -active_plugins, count(*) FROM events GROUP BY 1
;
SELECT sum(CASE WHEN event = 'track' THEN 1 ELSE 0 END) FROM events
;
-- approx
SELECT approx_count_distinct(site_key), approx_count_distinct(event_id) FROM events
;
-- approx
SELECT project_id, approx_count_distinct(site_hash) FROM events GROUP BY project_id
;
-- min/max of dictionary-encoded strings by rank, NULL entries, merged across threads
SELECT project_id, min(wp_version), max(php_version), min(reason_id), max(wp_theme_slug) FROM events GROUP BY 1
;
SELECT date_trunc('month', received_at) AS m, event, min(wp_locale), max(wp_locale), count(wp_locale), count(reason_id) FROM events GROUP BY 1, 2
;
SELECT min(reason_id), max(reason_id), max(site_key), min(php_version) FROM events WHERE event = 'deactivate'
;
SELECT wp_locale, max(site_key), min(url) FROM events WHERE users_total > 3 GROUP BY 1
;
-- DISTINCT over fixed-width values through the word map and the recent-pair cache
SELECT project_id, sum(DISTINCT inactive_plugins), count(DISTINCT active_plugins), avg(DISTINCT users_total) FROM events GROUP BY 1
;
SELECT event, sum(DISTINCT users_total), count(DISTINCT received_at) FROM events WHERE users_total > 10 GROUP BY 1
;
SELECT count(DISTINCT CAST(users_total AS DOUBLE) / 3), sum(DISTINCT CAST(active_plugins AS DOUBLE) / 4) FROM events
;
SELECT project_id, count(users_total), count(*), count(reason_id), avg(CAST(active_plugins AS DOUBLE)), sum(CAST(users_total AS DOUBLE)) FROM events GROUP BY 1
