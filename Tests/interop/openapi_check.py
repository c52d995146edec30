"""The OpenAPI document (Sources/Server/Resources/openapi.json) held to the spec and to a live server.

  openapi_check.py spec FILE
      FILE is a valid OpenAPI 3.1 document (openapi-spec-validator).
  openapi_check.py live URL ADMIN_TOKEN PROJECT_TOKEN PROJECT_ID OTHER_PROJECT_ID HASH
      Fetches URL/api/v1/openapi.json, sends a representative request to every operation (and
      error requests: no token, a foreign project, bad parameters), and checks each answer:
      its status is documented for the operation, its Content-Type is one the document lists,
      and a JSON body validates against the schema. An operation without a hand-written request
      gets a default one, so a route added later is checked as soon as it is described.
Prints one line per request and exits 1 on the first mismatch list.
"""
import gzip
import json
import os
import sys
import urllib.error
import urllib.request

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def spec(path):
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename
    document, _ = read_from_filename(path)
    validate(document)  # picks the 3.1 validator from the `openapi` field
    assert document["openapi"].startswith("3.1"), document["openapi"]
    print("valid OpenAPI", document["openapi"])


def request(base, method, path, token=None, body=None, content_type=None, headers=None):
    req = urllib.request.Request(base + path, method=method, data=body)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if content_type:
        req.add_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def live(base, admin, project_token, project, other_project, sdk_hash):
    if os.environ.get("OPENAPI_DOCUMENT"):  # a server without the route (an older build)
        document = json.load(open(os.environ["OPENAPI_DOCUMENT"]))
    else:
        status, headers, body = request(base, "GET", "/api/v1/openapi.json")
        assert status == 200, status
        document = json.loads(body)
    registry = Registry().with_resource("urn:trackhouse:openapi", Resource(contents=document, specification=DRAFT202012))

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            node = registry.resolver("urn:trackhouse:openapi").lookup("urn:trackhouse:openapi" + node["$ref"]).contents
        return node

    operations = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                operations[(method.upper(), path)] = operation

    failures = []
    covered = set()

    def check(method, template, path, token=None, body=None, content_type=None, expect=None, headers=None):
        covered.add((method, template))
        operation = operations.get((method, template))
        if operation is None:
            failures.append(f"{method} {template}: not in the document")
            return
        status, answer_headers, payload = request(base, method, path, token, body, content_type, headers)
        line = f"{method} {path} -> {status}"
        if expect is not None and status != expect:
            failures.append(f"{line}: expected {expect}: {payload[:300]!r}")
            return
        response = resolve(operation["responses"].get(str(status)) or operation["responses"].get("default"))
        if response is None:
            failures.append(f"{line}: status not documented ({sorted(operation['responses'])}): {payload[:300]!r}")
            return
        content = response.get("content")
        if not content:
            print(line)
            return
        media = (answer_headers.get("Content-Type") or "").split(";")[0].strip()
        if media not in content:
            failures.append(f"{line}: Content-Type {media!r} not documented ({sorted(content)})")
            return
        if answer_headers.get("Content-Encoding") == "gzip":
            payload = gzip.decompress(payload)
        if media == "application/json":
            # The schema with its `$ref`s made absolute into the document, so they resolve.
            schema = _rebase(dict(content[media]["schema"], **{"$schema": "https://json-schema.org/draft/2020-12/schema"}))
            validator = jsonschema.Draft202012Validator(schema, registry=registry,
                                                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            errors = sorted(validator.iter_errors(json.loads(payload)), key=lambda e: list(e.path))
            if errors:
                failures.append(f"{line}: body does not match the schema: {errors[0].message[:300]} at {list(errors[0].path)}")
                return
        print(line, media)

    p = f"/api/v1/projects/{project}"
    json_type = "application/json"
    # Operations: the dashboard files, health and metrics, the document itself.
    check("GET", "/", "/", expect=200)
    check("GET", "/assets/app.js", "/assets/app.js", expect=200)
    check("GET", "/assets/app.css", "/assets/app.css", expect=200)
    check("GET", "/healthz", "/healthz", expect=200)
    check("GET", "/metrics", "/metrics", expect=200)
    check("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", expect=200)
    # The SDK: accepted, unknown hash, bad body, wrong type; its other routes.
    form = f"hash={sdk_hash}&url=https%3A%2F%2Fopenapi-check.example.com&site=OpenAPI&client=2.0.4".encode()
    form_type = "application/x-www-form-urlencoded"
    check("POST", "/track", "/track", body=form, content_type=form_type, expect=200)
    check("POST", "/deactivate", "/deactivate", body=form + b"&reason_id=other", content_type=form_type, expect=200)
    check("POST", "/tracking-skipped", "/tracking-skipped", body=json.dumps({"hash": sdk_hash, "previously_skipped": "0"}).encode(),
          content_type=json_type, expect=200)
    check("POST", "/track", "/track", body=b"hash=0000&url=x", content_type=form_type, expect=404)
    check("POST", "/track", "/track", body=b"[1,2]", content_type=json_type, expect=400)
    check("POST", "/track", "/track", body=b"x", content_type="text/plain", expect=415)
    # Over 1 MiB once inflated (small on the wire: a large body is answered before it is read).
    check("POST", "/track", "/track", body=gzip.compress(b"hash=" + b"a" * (1 << 20)), content_type=form_type, expect=413,
          headers={"Content-Encoding": "gzip"})
    for method in ("GET", "POST"):
        check(method, "/public/license/{hash}/{action}", f"/public/license/{sdk_hash}/check", expect=404)
        check(method, "/update/{hash}/{action}", f"/update/{sdk_hash}/check", expect=404)
    # The dashboard API, as admin and as the project, with gzip and without.
    check("GET", "/api/v1/projects", "/api/v1/projects", token=admin, expect=200)
    check("GET", "/api/v1/projects", "/api/v1/projects", token=project_token, expect=200)
    check("GET", "/api/v1/projects", "/api/v1/projects", expect=401)
    check("GET", "/api/v1/projects", "/api/v1/projects", token="th_not_a_token", expect=401)
    check("GET", "/api/v1/projects/{id}/stats", f"{p}/stats", token=project_token, expect=200)
    check("GET", "/api/v1/projects/{id}/stats", f"{p}/stats?from=2000-01-01&to=2100-01-01", token=admin, expect=200,
          headers={"Accept-Encoding": "gzip"})
    check("GET", "/api/v1/projects/{id}/stats", f"{p}/stats?from=2026-01-02&to=2026-01-01", token=admin, expect=400)
    check("GET", "/api/v1/projects/{id}/stats", f"/api/v1/projects/{other_project}/stats", token=project_token, expect=403)
    check("GET", "/api/v1/projects/{id}/stats", "/api/v1/projects/no-such-project/stats", token=admin, expect=404)
    for metric in ("events", "sites", "new_sites", "deactivations", "skips"):
        check("GET", "/api/v1/projects/{id}/timeseries", f"{p}/timeseries?metric={metric}&interval=week", token=project_token, expect=200)
    check("GET", "/api/v1/projects/{id}/timeseries", f"{p}/timeseries?metric=events&interval=day&breakdown=php_minor&limit=2",
          token=admin, expect=200)
    check("GET", "/api/v1/projects/{id}/timeseries", f"{p}/timeseries?breakdown=nope", token=admin, expect=400)
    check("GET", "/api/v1/projects/{id}/breakdown", f"{p}/breakdown?dim=wp_locale&limit=3", token=project_token, expect=200)
    check("GET", "/api/v1/projects/{id}/breakdown", f"{p}/breakdown?dim=users_total", token=project_token, expect=200)
    check("GET", "/api/v1/projects/{id}/breakdown", f"{p}/breakdown", token=project_token, expect=400)
    check("GET", "/api/v1/projects/{id}/deactivations", f"{p}/deactivations?from=2000-01-01&per_page=5", token=admin, expect=200)
    check("GET", "/api/v1/projects/{id}/deactivations", f"{p}/deactivations?per_page=0", token=admin, expect=400)
    check("GET", "/api/v1/projects/{id}/sites", f"{p}/sites?per_page=5&sort=-event_count", token=project_token, expect=200)
    check("GET", "/api/v1/projects/{id}/sites", f"{p}/sites?status=active&q=a&is_local=false", token=admin, expect=200)
    check("GET", "/api/v1/projects/{id}/sites", f"{p}/sites?format=csv&per_page=3", token=admin, expect=200)
    check("GET", "/api/v1/projects/{id}/sites", f"{p}/sites?no_such_column=1", token=admin, expect=400)
    if ("GET", "/api/v1/projects/{id}/deliveries") in operations:
        check("GET", "/api/v1/projects/{id}/deliveries", f"{p}/deliveries", token=project_token, expect=200)
        check("GET", "/api/v1/projects/{id}/deliveries", f"{p}/deliveries?status=dead&per_page=5", token=admin, expect=200)
        check("GET", "/api/v1/projects/{id}/deliveries", f"{p}/deliveries?status=lost", token=admin, expect=400)
    sql = b"SELECT event, count(*) AS n, min(received_at) AS first FROM events GROUP BY 1 ORDER BY 1"
    for fmt in ("json", "jsonl", "csv", "table"):
        check("POST", "/api/v1/query", f"/api/v1/query?format={fmt}", token=project_token, body=sql, content_type="text/plain", expect=200)
    check("POST", "/api/v1/query", "/api/v1/query", token=admin, body=json.dumps({"sql": sql.decode()}).encode(),
          content_type=json_type, expect=200)
    check("POST", "/api/v1/query", "/api/v1/query", token=admin, body=b"SELEC 1", content_type="text/plain", expect=400)
    check("POST", "/api/v1/query", f"/api/v1/query?project={other_project}", token=project_token, body=sql,
          content_type="text/plain", expect=403)
    check("POST", "/api/v1/query", "/api/v1/query", body=sql, content_type="text/plain", expect=401)

    # Every operation the document describes gets at least a default request.
    for (method, template), operation in sorted(operations.items()):
        if (method, template) in covered:
            continue
        path = template.replace("{id}", project)
        for parameter in operation.get("parameters", []):
            parameter = resolve(parameter)
            if parameter["in"] == "path":
                path = path.replace("{" + parameter["name"] + "}", "x")
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        check(method, template, path, token=admin, body=body, content_type=json_type if body else None)

    if failures:
        print("\n".join(["MISMATCH " + f for f in failures]))
        sys.exit(1)
    print(f"ok: {len(covered)} operations, every answer as documented")


def _rebase(schema):
    """The schema with its `#/components/...` references made absolute into the document."""
    if isinstance(schema, dict):
        return {k: ("urn:trackhouse:openapi" + v if k == "$ref" and v.startswith("#") else _rebase(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema


if __name__ == "__main__":
    if sys.argv[1] == "spec":
        spec(sys.argv[2])
    elif sys.argv[1] == "live":
        live(*sys.argv[2:8])
    else:
        sys.exit(__doc__)
