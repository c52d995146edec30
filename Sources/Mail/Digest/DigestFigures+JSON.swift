import Core

/// The figures as JSON, so a digest's outbox entry carries what was computed when its period
/// closed: a resend sends the same numbers, and delivery needs no warehouse.
extension DigestFigures {
    public var json: JSONValue {
        func shares(_ shares: Shares) -> JSONValue {
            .object(JSONObject([
                ("total", .number(String(shares.total))),
                ("values", .array(shares.values.map {
                    .object(JSONObject([("value", $0.value.map(JSONValue.string) ?? .null), ("sites", .number(String($0.sites)))]))
                })),
                ("other", .number(String(shares.other))),
            ]))
        }
        return .object(JSONObject([
            ("project_id", .string(projectID)),
            ("project_name", .string(projectName)),
            ("period", .string(period.frequency.rawValue)),
            ("from", .string(UTCTime.formatISO(micros: period.start))),
            ("to", .string(UTCTime.formatISO(micros: period.end))),
            ("new_sites", .number(String(newSites))),
            ("deactivations", .number(String(deactivations))),
            ("reasons", .array(reasons.map {
                .object(JSONObject([("reason_id", $0.reasonID.map(JSONValue.string) ?? .null), ("count", .number(String($0.count)))]))
            })),
            ("active_sites", .number(String(activeSites))),
            ("reporting_sites", .number(String(reportingSites))),
            ("php_versions", shares(phpVersions)),
            ("wordpress_versions", shares(wordpressVersions)),
        ]))
    }

    /// Reads `json`; nil when a field is missing or of the wrong type.
    public init?(json: JSONValue) {
        func int(_ value: JSONValue?) -> Int64? {
            guard case .number(let literal)? = value else { return nil }
            return Int64(literal)
        }
        func shares(_ value: JSONValue?) -> Shares? {
            guard let value, let total = int(value["total"]), let other = int(value["other"]),
                  case .array(let items)? = value["values"] else { return nil }
            var list: [Shares.Share] = []
            for item in items {
                guard let sites = int(item["sites"]) else { return nil }
                list.append(Shares.Share(value: item["value"]?.stringValue, sites: sites))
            }
            return Shares(total: total, values: list, other: other)
        }
        guard let projectID = json["project_id"]?.stringValue, let projectName = json["project_name"]?.stringValue,
              let frequency = json["period"]?.stringValue.flatMap(DigestFrequency.init(rawValue:)),
              let from = json["from"]?.stringValue.flatMap(UTCTime.parseISO),
              let to = json["to"]?.stringValue.flatMap(UTCTime.parseISO), to > from,
              let newSites = int(json["new_sites"]), let deactivations = int(json["deactivations"]),
              let activeSites = int(json["active_sites"]), let reportingSites = int(json["reporting_sites"]),
              case .array(let reasonItems)? = json["reasons"],
              let php = shares(json["php_versions"]), let wordpress = shares(json["wordpress_versions"]) else { return nil }
        self.init(projectID: projectID, projectName: projectName, period: DigestPeriod(frequency: frequency, start: from, end: to))
        self.newSites = newSites
        self.deactivations = deactivations
        self.activeSites = activeSites
        self.reportingSites = reportingSites
        var reasons: [ReasonCount] = []
        for item in reasonItems {
            guard let count = int(item["count"]) else { return nil }
            reasons.append(ReasonCount(reasonID: item["reason_id"]?.stringValue, count: count))
        }
        self.reasons = reasons
        self.phpVersions = php
        self.wordpressVersions = wordpress
    }
}
