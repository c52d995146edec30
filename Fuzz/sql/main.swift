// SQL: the lexer, parser, binder, planner and executor over a tiny in-memory catalog
// (`events`: two scan units of a few rows; `sites`: one unit). Any text must end in a result
// or a `QueryError`, never a crash; results render in every format.
@testable import Query
import Logging

let engine: QueryEngine = {
    let first = InMemoryScanUnit(name: "events#0", rowCount: 4, partitionValues: ["project_id": "acme", "month": "2026-11"], columns: [
        "event_id": .strings(["e1", "e2", "e3", "e4"]),
        "received_at": .timestamps([1_780_000_000_000_000, 1_780_000_003_600_000, nil, -86_400_000_000]),
        "project_id": .strings(["acme", "acme", "acme", "acme"]),
        "event": .strings(["track", "deactivate", "track", nil]),
        "site_key": .strings(["a", "b", "a", "ü"]),
        "url": .strings(["https://a.example/", nil, "", "x%_\\"]),
        "php_version": .strings(["8.1.2", "7.4", nil, "8.1.2"]),
        "php_soap": .bools([true, false, nil, true]),
        "users_total": .int64([1, nil, Int64.max, Int64.min]),
        "extra": .strings([#"{"a":"x","n":{"b":[1,"2"]}}"#, nil, "not json", #"{"a":null}"#]),
        "wp_locale": .strings(["\u{FEFF}bom", "de_DE", "", nil]),
    ])
    let second = InMemoryScanUnit(name: "events#1", rowCount: 2, partitionValues: ["project_id": "beta", "month": "2026-12"], columns: [
        "event_id": .strings(["f1", "f2"]),
        "received_at": .timestamps([1_790_000_000_000_000, 0]),
        "project_id": .strings(["beta", "beta"]),
        "event": .strings(["tracking-skipped", "track"]),
        "users_total": .int64([0, -1]),
    ])
    let sites = InMemoryScanUnit(name: "sites#0", rowCount: 2, partitionValues: ["project_id": "acme"], columns: [
        "project_id": .strings(["acme", "acme"]),
        "site_key": .strings(["a", "ü"]),
        "received_at": .timestamps([1_780_000_000_000_000, -86_400_000_000]),
        "first_seen": .timestamps([1_700_000_000_000_000, nil]),
        "last_seen": .timestamps([1_780_000_000_000_000, -86_400_000_000]),
        "event_count": .int64([3, 1]),
        "status": .strings(["active", "deactivated"]),
    ])
    let catalog = InMemoryCatalog(tables: [InMemoryTable(schema: .events, units: [first, second]),
                                           InMemoryTable(schema: .sites, units: [sites])])
    return QueryEngine(catalog: catalog,
                       options: QueryOptions(timeoutMs: 2_000, memoryBytesMax: 64 << 20, resultRowsMax: 1_000, threadsMax: 1),
                       logger: Logger(label: "fuzz"))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let sql = String(decoding: bytes, as: UTF8.self)
    for scope in [AccessScope.all, .project("acme")] {
        do {
            let result = try engine.execute(sql: sql, scope: scope)
            for format in ResultFormat.allCases { _ = result.render(format) }
        } catch is QueryError {
        } catch {
            fuzzFail("non-QueryError \(error)", input: bytes)
        }
    }
    return 0
}
