import Core
import Query

/// A catalog that holds only one project's scan units. A project token's SQL runs over it (as
/// well as under `AccessScope.project`), so nothing about other projects shows through
/// either: not their rows, and not their files, unit counts or partition names in `EXPLAIN`
/// and the `stats` of a result, which list pruned units too.
struct ProjectCatalog: Catalog {
    let base: any Catalog
    let projectID: String

    var tableNames: [String] { base.tableNames }

    func table(named name: String) throws -> (any ScanSource)? {
        try base.table(named: name).map { ProjectTable(base: $0, projectID: projectID) }
    }

    struct ProjectTable: ScanSource {
        let base: any ScanSource
        let projectID: String

        var schema: TableSchema { base.schema }

        func scanUnits() throws -> [any ScanUnit] {
            try base.scanUnits(projectID: projectID)
        }

        func scanUnits(projectID requested: String?) throws -> [any ScanUnit] {
            guard requested == nil || requested == projectID else { return [] }
            return try base.scanUnits(projectID: projectID)
        }
    }
}
