import Core
import Query

// Test-only tables: the engine tests and the SQL fuzz target (`scripts/fuzz.sh` compiles this
// file into it) query columns held in memory instead of Parquet files.

/// A table over in-memory scan units.
struct InMemoryTable: ScanSource {
    var schema: TableSchema
    var units: [InMemoryScanUnit]

    init(schema: TableSchema, units: [InMemoryScanUnit]) {
        self.schema = schema
        self.units = units
    }

    func scanUnits() throws -> [any ScanUnit] { units }
}

/// A catalog over in-memory tables.
struct InMemoryCatalog: Catalog {
    var tables: [String: any ScanSource]

    init(tables: [any ScanSource]) {
        var byName: [String: any ScanSource] = [:]
        for table in tables { byName[table.schema.name] = table }
        self.tables = byName
    }

    func table(named name: String) throws -> (any ScanSource)? { tables[name] }

    var tableNames: [String] { tables.keys.sorted() }
}
