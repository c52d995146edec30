import Core
import Foundation
import Synchronization

/// The one way to read the committed warehouse: the query catalog, the rollups, the sites
/// index and the answer cache all go through it, and none of them builds a path, lists `_log`
/// or opens a Parquet file itself.
///
/// - `snapshot()`: the warehouse at its newest commit, its live files and their readers.
/// - `changes(after:)`: the commits after a version, typed, each able to open what it added
///   (a follower that lags behind a merge still reads the files the merge replaced: how long
///   replaced files stay is the compactor's business, `Compactor.Options`).
/// - `damagedFiles`: live files that failed to read, for `/healthz`.
///
/// Readers need the files, never the raw progress (most of a commit's bytes): the log is read
/// with `WarehouseLog.Parts.files`. Footers are parsed once per file and cached: files are immutable, a commit brings new
/// names, and readers of files that left the live set are dropped at the next snapshot.
public final class WarehouseReader: Sendable {
    let layout: WarehouseLayout
    private struct State {
        var snapshot: WarehouseSnapshot?
        var readers: [String: ParquetFileReader] = [:]
        /// Live files that failed to read (relative path → what failed). A file leaves the
        /// list when a commit replaces it.
        var damaged: [String: String] = [:]
        /// Per project, the merged `sites` view of one list of layer files (`SitesLayers`).
        var sitesSelections: [String: (paths: [String], selections: [SitesRowGroupSelection])] = [:]
    }
    private let state = Mutex(State())

    public init(dataDirectory: String) {
        self.layout = WarehouseLayout(dataDirectory: dataDirectory)
    }

    /// The newest committed version (0: nothing committed yet), from the log's file names.
    public var newestVersion: Int {
        WarehouseLog.newestVersion(layout: layout)
    }

    /// The warehouse at its newest commit. The same snapshot while no new commit exists (one
    /// listing of `_log`); a new commit replays the log from its checkpoint.
    public func snapshot() throws -> WarehouseSnapshot {
        let newest = newestVersion
        if let cached = state.withLock({ $0.snapshot }), cached.version == newest { return cached }
        let loaded = WarehouseSnapshot(reader: self, state: try WarehouseLog.load(layout: layout, parts: .files))
        let live = Set(loaded.state.segments.keys)
        state.withLock { state in
            if let current = state.snapshot, current.version > loaded.version { return }
            state.snapshot = loaded
            state.readers = state.readers.filter { live.contains($0.key) }
            state.damaged = state.damaged.filter { live.contains($0.key) }
            state.sitesSelections = state.sitesSelections.filter { $0.value.paths.allSatisfy(live.contains) }
        }
        return loaded
    }

    /// The commits after `version` up to `newest` (default: the newest committed), in order.
    /// Throws `behind` when the log no longer holds one of them (a checkpoint superseded it):
    /// load a `snapshot()` instead.
    public func changes(after version: Int, through newest: Int? = nil) throws -> [WarehouseChange] {
        let newest = newest ?? newestVersion
        guard newest > version else { return [] }
        var changes: [WarehouseChange] = []
        for next in (version + 1)...newest {
            let commit: WarehouseCommit
            do { commit = try WarehouseLog.commit(version: next, layout: layout, parts: .files) } catch {
                throw WarehouseError(.behind, "commit \(next) is not readable any more (\(describe(error))); load a snapshot instead")
            }
            changes.append(WarehouseChange(reader: self, commit: commit))
        }
        return changes
    }

    /// Files of the current warehouse that could not be read, sorted by path.
    public var damagedFiles: [(path: String, error: String)] {
        state.withLock { state in
            state.damaged.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
    }

    /// Notes a read failure of a live file unless it is gone (a merge replaced it: not damage,
    /// a retry lists the new files). Readers of its columns call this too.
    public func noteReadFailure(_ relative: String, _ error: any Error) {
        guard FileIO.exists(layout.absolute(relative)) else { return }
        let text = describe(error)
        state.withLock { $0.damaged[relative] = text }
    }

    /// An error's text with the warehouse folder cut from any path in it: messages reach API
    /// callers, who learn nothing of the server's folders.
    public func describe(_ error: any Error) -> String {
        "\(error)".replacingOccurrences(of: layout.root + "/", with: "")
    }

    /// The merged `sites` row groups of a project's layers, cached per list of files.
    func sitesSelections(projectID: String, layers: [SegmentEntry]) throws -> [SitesRowGroupSelection] {
        let paths = layers.map(\.path)
        if let cached = state.withLock({ $0.sitesSelections[projectID] }), cached.paths == paths { return cached.selections }
        let opened = try layers.map { (file: $0, reader: try open($0.path)) }
        let selections: [SitesRowGroupSelection]
        do {
            selections = try SitesLayers.selections(opened)
        } catch {
            for layer in layers { noteReadFailure(layer.path, error) }
            throw error
        }
        state.withLock { $0.sitesSelections[projectID] = (paths, selections) }
        return selections
    }

    /// The cached reader of a live file, opened on first use.
    func open(_ relative: String) throws -> ParquetFileReader {
        if let cached = state.withLock({ $0.readers[relative] }) { return cached }
        let reader: ParquetFileReader
        do {
            reader = try ParquetFileReader(path: layout.committedPath(relative))
        } catch {
            noteReadFailure(relative, error)
            throw error
        }
        state.withLock { $0.readers[relative] = reader }
        return reader
    }

    /// Whether `relative`'s reader is cached (its footer read already).
    func isOpen(_ relative: String) -> Bool {
        state.withLock { $0.readers[relative] != nil }
    }

    /// A file a commit added: under its name, or under its hidden replaced name when a later
    /// commit (a merge, a newer snapshot) replaced it already. Not cached (it may not be live).
    func openAdded(_ relative: String) throws -> ParquetFileReader {
        try ParquetFileReader(path: layout.committedPath(relative))
    }
}

/// The committed warehouse at one version: its live files (with each file's table, project,
/// month, row count and `received_at` range, as the commit recorded them) and their readers.
public struct WarehouseSnapshot: Sendable {
    let reader: WarehouseReader
    let state: WarehouseState

    init(reader: WarehouseReader, state: WarehouseState) {
        self.reader = reader
        self.state = state
    }

    public var version: Int { state.version }

    /// The live files of `table` (of one project when given), sorted by path.
    public func files(_ table: SegmentEntry.Table, projectID: String? = nil) -> [SegmentEntry] {
        state.segments(table: table, projectID: projectID)
    }

    /// A project's `sites` files, oldest first: the base, then its deltas (`SitesLayers`).
    public func sitesLayers(projectID: String) -> [SegmentEntry] {
        state.sitesLayers(projectID: projectID)
    }

    /// The project's `sites` table as row groups of its layers, each with the rows no newer
    /// layer replaced (`SitesLayers`): reading them all gives every site once, its latest row.
    /// Cached per list of files; opening or reading a file that fails notes it as damaged.
    public func sitesRowGroups(projectID: String) throws -> [SitesRowGroupSelection] {
        let layers = sitesLayers(projectID: projectID)
        if layers.count <= 1 {
            // One file (the usual case after a fold): every row of it, no key read.
            return try layers.flatMap { file -> [SitesRowGroupSelection] in
                let opened = try open(file)
                return opened.rowGroups.indices.map {
                    SitesRowGroupSelection(file: file, rowGroup: $0, rows: nil, rowCount: opened.rowGroups[$0].rowCount)
                }
            }
        }
        return try reader.sitesSelections(projectID: projectID, layers: layers)
    }

    /// Rows of the project's merged `sites` table.
    public func sitesRowCount(projectID: String) throws -> Int {
        try sitesRowGroups(projectID: projectID).reduce(0) { $0 + $1.rowCount }
    }

    /// Every project with at least one live file.
    public var projectIDs: Set<String> {
        Set(state.segments.values.map(\.projectID))
    }

    /// Without reading the footer: `file` has the size its commit recorded and ends with
    /// Parquet's magic (a stat and a 4-byte read; a cached reader needs neither). What a
    /// count from the log checks, so a truncated or replaced file is still reported as damaged.
    public func checkSizeAndTail(_ file: SegmentEntry) throws {
        if isOpen(file) { return }
        let path = reader.layout.committedPath(file.path)
        guard let size = FileIO.fileSize(path) else { throw ParquetError(.io, "cannot stat the file", path: path) }
        guard size == file.bytes else {
            throw ParquetError(.truncated, "the file has \(size) bytes, its commit recorded \(file.bytes)", path: path)
        }
        guard size >= 4, let magic = try? FileIO.readFile(path, fromOffset: size - 4), magic == Array("PAR1".utf8) else { throw ParquetError(.badMagic, "the file does not end with PAR1", path: path) }
    }

    /// Whether `file`'s reader is cached: `open` then reads nothing.
    public func isOpen(_ file: SegmentEntry) -> Bool {
        reader.isOpen(file.path)
    }

    /// The (cached) reader of one of this snapshot's files. A failure is noted as damage.
    public func open(_ file: SegmentEntry) throws -> ParquetFileReader {
        try reader.open(file.path)
    }
}

/// One commit as a follower sees it: what it did and the files it added and removed.
public struct WarehouseChange: Sendable {
    let reader: WarehouseReader
    let commit: WarehouseCommit

    public var version: Int { commit.version }
    public var operation: WarehouseOperation { commit.operation }
    /// When the commit was written: with the version, tells a commit from another of the same
    /// number (a warehouse restored from elsewhere).
    public var timestampMicros: Int64 { commit.timestampMicros }
    public var added: [SegmentEntry] { commit.add }
    /// Paths (relative to the warehouse) of the files the commit replaced.
    public var removed: [String] { commit.remove }

    /// A file this commit added, readable even after a later commit replaced it.
    public func open(_ file: SegmentEntry) throws -> ParquetFileReader {
        try reader.openAdded(file.path)
    }
}
