import Core
import Hummingbird

extension APIRoutes {
    /// More buckets than this is refused: the answer would be too large to chart.
    static let bucketsMax = 10_000

    /// `GET …/projects/{id}/timeseries?metric&interval&from&to[&breakdown&limit]`.
    func timeseries(_ request: Request, _ projectID: String) async throws -> Response {
        _ = try access.project(projectID, for: request)
        let parameters = APIParameters(request)
        let metric: TimeseriesMetric = try parameters.choice("metric", default: .events)
        let interval: BucketInterval = try parameters.choice("interval", default: .day)
        let range = try parameters.timeRange()
        guard interval.starts(covering: range, limit: Self.bucketsMax) != nil else {
            throw APIParameters.invalid("interval", "the range holds more than \(Self.bucketsMax) \(interval.rawValue) buckets; use a larger interval or a shorter range")
        }
        var breakdown: String? = nil
        if let name = parameters["breakdown"], !name.isEmpty {
            breakdown = try Self.column(name, of: metric.table, parameter: "breakdown").name
        }
        let limit = try parameters.int("limit", default: 10, range: 0...1000)
        let timeseriesRequest = TimeseriesRequest(metric: metric, interval: interval, range: range, breakdown: breakdown, limit: limit)
        let charts = self.charts
        return try await cachedJSON(request, version: chartsVersion(request, instantParameter: "to")) {
            let series = try await self.serverQuery { try charts.timeseries(projectID: projectID, request: timeseriesRequest) }
            return .object(JSONObject([("series", .array(series.map(Self.json)))]))
        }
    }

    static func json(_ series: TimeSeries) -> JSONValue {
        let key: JSONValue
        switch series.key {
        case .none: key = .null
        case .value(let value): key = value.apiJSON
        case .other: key = .string("__other__")
        }
        let points: [JSONValue] = series.points.map {
            .array([.string(UTCTime.formatISO(micros: $0.start)), .number(String($0.count))])
        }
        return .object(JSONObject([("key", key), ("points", .array(points))]))
    }
}
