import Core
import Foundation

/// `mailerlite`: the MailerLite API (connect.mailerlite.com, bearer token). Registry fields:
/// `api_key_env`, `group_id`, optional `deactivated_group_id`, optional `base_url` (default
/// `https://connect.mailerlite.com`).
/// - activated: `POST {base_url}/api/subscribers` `{"email","fields":{"name","last_name"},
///   "groups":[group_id]}` (create or update: an existing subscriber keeps its status), then,
///   with `deactivated_group_id`, `DELETE /api/subscribers/{id}/groups/{deactivated_group_id}`.
/// - deactivated: `GET /api/subscribers/{email}` (404: not a subscriber, nothing to do: a
///   deactivation never adds one), then `POST /api/subscribers/{id}/groups/{deactivated_group_id}`
///   when configured and `DELETE /api/subscribers/{id}/groups/{group_id}`.
public struct MailerLiteKind: IntegrationKind {
    public static let name = "mailerlite"
    public static let requiredFields = ["api_key_env", "group_id"]
    public static func accepts(_ type: LifecycleEvent.EventType, hasAdminEmail: Bool) -> Bool {
        IntegrationKinds.mailingListAccepts(type, hasAdminEmail: hasAdminEmail)
    }

    let settings: IntegrationSettings
    public init(settings: IntegrationSettings) { self.settings = settings }

    public func deliver(_ delivery: Delivery, http: DeliveryHTTP) async -> DeliveryOutcome {
        guard let email = delivery.adminEmail else { return .delivered(status: nil, note: "no admin_email: nothing to do") }
        let key: String
        do { key = try settings.secret("api_key_env") } catch { return .retry(status: nil, error: "\(error)") }
        let headers = MailingList.jsonHeaders + [("Authorization", "Bearer " + key)]
        let base = MailingList.base(settings, default: "https://connect.mailerlite.com") + "/api/subscribers"
        let group = settings["group_id"]!
        let deactivatedGroup = settings["deactivated_group_id"].flatMap { $0.isEmpty ? nil : $0 }
        let subscriberID: String
        if delivery.type == LifecycleEvent.EventType.activated.rawValue {
            let body = MailingList.json(JSONObject([
                ("email", .string(email)),
                ("fields", .object(JSONObject([("name", .string(delivery.siteString("first_name"))),
                                               ("last_name", .string(delivery.siteString("last_name")))]))),
                ("groups", .array([.string(group)])),
            ]))
            switch await http.attempt("mailerlite subscriber", "POST", base, headers: headers, body: body) {
            case .failure(let error): return .retry(status: nil, error: error.message)
            case .success(let answer):
                let outcome = DeliveryOutcome.from(answer, what: "mailerlite subscriber")
                guard case .delivered = outcome, let deactivatedGroup else { return outcome }
                guard let id = Self.subscriberID(answer) else { return outcome }
                let url = base + "/" + MailingList.pathSegment(id) + "/groups/" + MailingList.pathSegment(deactivatedGroup)
                return await Self.ignoring404("mailerlite group", "DELETE", url, headers: headers, http: http)
            }
        }
        switch await http.attempt("mailerlite lookup", "GET", base + "/" + MailingList.pathSegment(email), headers: headers) {
        case .failure(let error): return .retry(status: nil, error: error.message)
        case .success(let answer) where answer.status == 404:
            return .delivered(status: 404, note: "not a subscriber: nothing to do")
        case .success(let answer):
            let outcome = DeliveryOutcome.from(answer, what: "mailerlite lookup")
            guard case .delivered = outcome else { return outcome }
            guard let id = Self.subscriberID(answer) else {
                return .retry(status: answer.status, error: "mailerlite lookup: the answer has no data.id")
            }
            subscriberID = id
        }
        let subscriber = base + "/" + MailingList.pathSegment(subscriberID) + "/groups/"
        if let deactivatedGroup {
            switch await http.attempt("mailerlite group", "POST", subscriber + MailingList.pathSegment(deactivatedGroup), headers: headers) {
            case .failure(let error): return .retry(status: nil, error: error.message)
            case .success(let answer):
                let outcome = DeliveryOutcome.from(answer, what: "mailerlite group")
                guard case .delivered = outcome else { return outcome }
            }
        }
        return await Self.ignoring404("mailerlite group", "DELETE", subscriber + MailingList.pathSegment(group), headers: headers, http: http)
    }

    static func subscriberID(_ answer: HTTPAnswer) -> String? {
        guard let value = try? JSONParser.parse(answer.body, depthMax: 16), let id = value["data"]?["id"] else { return nil }
        return id.scalarText
    }

    /// A removal from a group the subscriber is not in is done already.
    static func ignoring404(_ what: String, _ method: String, _ url: String, headers: [(String, String)], http: DeliveryHTTP) async -> DeliveryOutcome {
        switch await http.attempt(what, method, url, headers: headers) {
        case .failure(let error): return .retry(status: nil, error: error.message)
        case .success(let answer) where answer.status == 404: return .delivered(status: 404, note: "not in the group")
        case .success(let answer): return .from(answer, what: what)
        }
    }
}
