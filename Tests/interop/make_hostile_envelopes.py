"""Writes hostile_envelopes.ndjson: envelope lines (CONTRACT §2) whose payloads carry the values
other engines' readers trip over: NUL bytes, emoji, combining marks, RTL text, escapes,
newlines, a long string, Unicode spaces, a BOM, int64 extremes and overflow, float extremes,
odd booleans, timestamps from 1899 to 9999. `{{HASH}}` stands for a registered project hash
and `{{HASH_UPPER}}` for the same in capitals; the test substitutes them.

usage: python3 make_hostile_envelopes.py > hostile_envelopes.ndjson   (deterministic)
"""
import json
import random

rng = random.Random(20261203)
weird = ["\u0000nul\u0000", "emoji \U0001F600\U0001F389", "e\u0301 combining", "\u05e9\u05dc\u05d5\u05dd RTL",
         "back\\slash \"quote\"", "new\nline\ttab\r", "x" * 5000, " \u00a0 nbsp \u00a0 ", "", "   ",
         "\u2028\u2029", "\ufeffbom", "a|b\u2205c", "\u65e5\u672c\u8a9e", "\r\n", "z"]
times = ["2026-05-28T10:15:03.123456Z", "1970-01-01T00:00:00Z", "1899-12-31T23:59:59.999999Z",
         "2024-02-29T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z", "2000-01-01T00:00:00.000001Z",
         "1969-12-31T23:59:59.999999Z"]
ints = ["9223372036854775807", "-9223372036854775808", "9223372036854775808", "0", "-0", "+5", " 7 ",
        "1e3", "0x10", "00012"]
floats = ["1e308", "-0", "NaN", "inf", "-1.5e-300", "3.14", "1e309", "4.9e-324", ".5", "5."]
bools = ["1", "0", "yes", "NO", "True", "off", "2", ""]


def pick(values, length=None):
    value = rng.choice(values)
    return value if length is None else value[:length]


for index in range(120):
    route = rng.choice(["track", "track", "deactivate", "tracking-skipped"])
    payload = {
        "hash": "{{HASH}}",
        "url": rng.choice(["https://www.Example.com/%d/" % (index % 20), "HTTP://WWW." + pick(weird, 20) + ".org/?q=1#f",
                           pick(weird, 30)]),
        "site": pick(weird), "admin_email": pick(weird, 50),
        "users": {"total": pick(ints), "administrator": pick(ints), "editor": "3", "weird\u0000role": "1"},
        "server": {"php_version": pick(["8.1.2", "10.20.3-x", "8", "v8.1", "\u0668.\u0661"]), "php_soap": pick(bools),
                   "mysql_version": pick(weird, 40)},
        "wp": {"version": "6.4.2", "locale": pick(weird, 10), "debug_mode": pick(bools), "theme_slug": pick(weird, 30)},
        "active_plugins": pick(ints), "inactive_plugins": pick(ints),
        "plugins": {pick(weird, 10) or "k": {"name": pick(weird, 20), "version": "1"},
                    "b": {"name": "B", "version": pick(weird, 10)}},
        "extra": {"total_orders": pick(ints), "conversion_rate": pick(floats), "pro_active": pick(bools),
                  "page_builder": pick(weird, 40), "undeclared": "x"},
        "client": "2.0.4", "project_version": pick(weird, 15),
    }
    if route == "deactivate":
        payload["reason_id"] = rng.choice(["other", "missing-integration", "Other", "bogus", ""])
        payload["reason_info"] = pick(weird, 200)
    if route == "tracking-skipped":
        payload = {"hash": "{{HASH_UPPER}}", "previously_skipped": pick(bools), "client": "2.0.4"}
    envelope = {"v": 1, "id": "hostile-%04d" % index, "received_at": times[index % len(times)], "route": route,
                "ip": "203.0.113.%d" % (index % 250), "user_agent": "Appsero/%032x;" % rng.getrandbits(128),
                "payload": payload}
    print(json.dumps(envelope, ensure_ascii=(index % 2 == 0)))
