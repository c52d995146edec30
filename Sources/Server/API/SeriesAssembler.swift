import Query

/// Turns sparse `(bucket, key, count)` cells into the series of a time series answer: every
/// bucket present (zeros where nothing was counted), one series per key, the `limit` keys
/// with the largest sum of points first (ties by key ascending, NULL last), then
/// `__other__` holding, per bucket, the sum of the remaining keys' points.
///
/// Shared by every `ChartQueries` implementation so they differ only in how cells are counted.
struct SeriesAssembler {
    struct Cell {
        var bucket: Int64
        var key: Value
        var count: Int64
    }

    let bucketStarts: [Int64]
    private let positionOfStart: [Int64: Int]

    init(bucketStarts: [Int64]) {
        self.bucketStarts = bucketStarts
        var positions: [Int64: Int] = [:]
        for (position, start) in bucketStarts.enumerated() { positions[start] = position }
        self.positionOfStart = positions
    }

    /// Without a breakdown: one series with key null.
    func single(_ cells: [Cell]) -> [TimeSeries] {
        [TimeSeries(key: .none, points: fill(cells))]
    }

    func brokenDown(_ cells: [Cell], limit: Int) -> [TimeSeries] {
        var cellsByKey: [Value: [Cell]] = [:]
        var sums: [Value: Int64] = [:]
        for cell in cells {
            cellsByKey[cell.key, default: []].append(cell)
            sums[cell.key, default: 0] += cell.count
        }
        let ranked = sums.keys.sorted { a, b in
            let (sa, sb) = (sums[a]!, sums[b]!)
            return sa != sb ? sa > sb : ValueOrder.ascending(a, b)
        }
        var series = ranked.prefix(limit).map { TimeSeries(key: .value($0), points: fill(cellsByKey[$0]!)) }
        let rest = ranked.dropFirst(limit)
        if !rest.isEmpty {
            series.append(TimeSeries(key: .other, points: fill(rest.flatMap { cellsByKey[$0]! })))
        }
        return series
    }

    /// Sums cells per bucket over every bucket start; a cell outside the buckets is a bug in
    /// the caller's bucketing and is dropped rather than shifting the series.
    private func fill(_ cells: [Cell]) -> [(start: Int64, count: Int64)] {
        var counts = [Int64](repeating: 0, count: bucketStarts.count)
        for cell in cells {
            if let position = positionOfStart[cell.bucket] { counts[position] += cell.count }
        }
        return zip(bucketStarts, counts).map { (start: $0.0, count: $0.1) }
    }
}
