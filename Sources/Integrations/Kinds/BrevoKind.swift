import Core
import Foundation

/// `brevo`: Brevo's contacts API v3 (`api-key` header). Registry fields: `api_key_env`,
/// `list_id` (a number), optional `deactivated_list_id`, optional `base_url` (default
/// `https://api.brevo.com`).
/// - activated: `POST {base_url}/v3/contacts` `{"email","attributes":{"FIRSTNAME","LASTNAME"},
///   "listIds":[list_id],"updateEnabled":true}` (create or update); with
///   `deactivated_list_id`, then `PUT /v3/contacts/{email}` `{"unlinkListIds":[deactivated_list_id]}`.
/// - deactivated: `PUT /v3/contacts/{email}` `{"unlinkListIds":[list_id]}` plus
///   `"listIds":[deactivated_list_id]` when configured; a 404 (no such contact) is delivered
///   with nothing to do: a deactivation never creates a contact.
public struct BrevoKind: IntegrationKind {
    public static let name = "brevo"
    public static let requiredFields = ["api_key_env", "list_id"]
    public static func accepts(_ type: LifecycleEvent.EventType, hasAdminEmail: Bool) -> Bool {
        IntegrationKinds.mailingListAccepts(type, hasAdminEmail: hasAdminEmail)
    }
    public static func validate(_ settings: IntegrationSettings) -> (field: String, message: String)? {
        for field in ["list_id", "deactivated_list_id"] {
            if let text = settings[field], Int64(text) == nil { return (field, "\"\(text)\" must be a number (Brevo list ids are numbers)") }
        }
        return nil
    }

    let settings: IntegrationSettings
    public init(settings: IntegrationSettings) { self.settings = settings }

    public func deliver(_ delivery: Delivery, http: DeliveryHTTP) async -> DeliveryOutcome {
        guard let email = delivery.adminEmail else { return .delivered(status: nil, note: "no admin_email: nothing to do") }
        let key: String
        do { key = try settings.secret("api_key_env") } catch { return .retry(status: nil, error: "\(error)") }
        let headers = MailingList.jsonHeaders + [("api-key", key)]
        let base = MailingList.base(settings, default: "https://api.brevo.com") + "/v3/contacts"
        let list = JSONValue.number(settings["list_id"]!)
        let deactivatedList = settings["deactivated_list_id"].flatMap { $0.isEmpty ? nil : JSONValue.number($0) }
        let contact = base + "/" + MailingList.pathSegment(email)
        if delivery.type == LifecycleEvent.EventType.activated.rawValue {
            let body = MailingList.json(JSONObject([
                ("email", .string(email)),
                ("attributes", .object(JSONObject([("FIRSTNAME", .string(delivery.siteString("first_name"))),
                                                   ("LASTNAME", .string(delivery.siteString("last_name")))]))),
                ("listIds", .array([list])),
                ("updateEnabled", .bool(true)),
            ]))
            var calls = [(what: "brevo contact", method: "POST", url: base, headers: headers, body: Optional(body))]
            if let deactivatedList {
                calls.append((what: "brevo lists", method: "PUT", url: contact, headers: headers,
                              body: MailingList.json(JSONObject([("unlinkListIds", .array([deactivatedList]))]))))
            }
            return await MailingList.run(calls, http: http)
        }
        var update = JSONObject([("unlinkListIds", .array([list]))])
        if let deactivatedList { update["listIds"] = .array([deactivatedList]) }
        switch await http.attempt("brevo lists", "PUT", contact, headers: headers, body: MailingList.json(update)) {
        case .failure(let error): return .retry(status: nil, error: error.message)
        case .success(let answer) where answer.status == 404:
            return .delivered(status: 404, note: "no such contact: nothing to do")
        case .success(let answer): return .from(answer, what: "brevo lists")
        }
    }
}
