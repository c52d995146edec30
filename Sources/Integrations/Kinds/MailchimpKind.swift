import Core
import Crypto
import Foundation

/// `mailchimp`: Marketing API v3 (CONTRACT §8). Registry fields: `base_url` (e.g.
/// `https://us21.api.mailchimp.com`), `api_key_env`, `list_id`, optional
/// `tags: {"activated", "deactivated"}`. HTTP Basic auth with the API key.
/// - activated: `PUT {base_url}/3.0/lists/{list_id}/members/{md5(lowercased email)}` with
///   `status_if_new: subscribed` and merge fields FNAME/LNAME (an existing member keeps its
///   status: someone who unsubscribed is not re-subscribed), then `POST …/members/{hash}/tags`:
///   the activated tag active, the deactivated tag inactive.
/// - deactivated: `POST …/members/{hash}/tags`: the deactivated tag active, the activated tag
///   inactive. Never a PUT: a deactivation adds no member; a 404 (not a member) is delivered
///   with nothing to do.
public struct MailchimpKind: IntegrationKind {
    public static let name = "mailchimp"
    public static let requiredFields = ["base_url", "api_key_env", "list_id"]
    public static func accepts(_ type: LifecycleEvent.EventType, hasAdminEmail: Bool) -> Bool {
        IntegrationKinds.mailingListAccepts(type, hasAdminEmail: hasAdminEmail)
    }

    let settings: IntegrationSettings
    public init(settings: IntegrationSettings) { self.settings = settings }

    public static func memberHash(_ email: String) -> String {
        lowercaseHex(Insecure.MD5.hash(data: Array(email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().utf8)))
    }

    public func deliver(_ delivery: Delivery, http: DeliveryHTTP) async -> DeliveryOutcome {
        guard let email = delivery.adminEmail else { return .delivered(status: nil, note: "no admin_email: nothing to do") }
        let key: String
        do { key = try settings.secret("api_key_env") } catch { return .retry(status: nil, error: "\(error)") }
        let auth = "Basic " + Data("trackhouse:\(key)".utf8).base64EncodedString()
        let headers = MailingList.jsonHeaders + [("Authorization", auth)]
        let member = MailingList.base(settings, default: "") + "/3.0/lists/" + MailingList.pathSegment(settings["list_id"]!)
            + "/members/" + Self.memberHash(email)
        let activated = settings.tags["activated"].flatMap { $0.isEmpty ? nil : $0 }
        let deactivated = settings.tags["deactivated"].flatMap { $0.isEmpty ? nil : $0 }
        func tags(active: String?, inactive: String?) -> [UInt8]? {
            var list: [JSONValue] = []
            if let active { list.append(.object(JSONObject([("name", .string(active)), ("status", .string("active"))]))) }
            if let inactive { list.append(.object(JSONObject([("name", .string(inactive)), ("status", .string("inactive"))]))) }
            return list.isEmpty ? nil : MailingList.json(JSONObject([("tags", .array(list))]))
        }
        if delivery.type == LifecycleEvent.EventType.activated.rawValue {
            var fields = JSONObject()
            fields["FNAME"] = .string(delivery.siteString("first_name"))
            fields["LNAME"] = .string(delivery.siteString("last_name"))
            let upsert = MailingList.json(JSONObject([("email_address", .string(email)), ("status_if_new", .string("subscribed")),
                                                      ("merge_fields", .object(fields))]))
            var calls = [(what: "mailchimp member", method: "PUT", url: member, headers: headers, body: Optional(upsert))]
            if let body = tags(active: activated, inactive: deactivated) {
                calls.append((what: "mailchimp tags", method: "POST", url: member + "/tags", headers: headers, body: body))
            }
            return await MailingList.run(calls, http: http)
        }
        guard let body = tags(active: deactivated, inactive: activated) else {
            return .delivered(status: nil, note: "no tags configured: nothing to do")
        }
        switch await http.attempt("mailchimp tags", "POST", member + "/tags", headers: headers, body: body) {
        case .failure(let error): return .retry(status: nil, error: error.message)
        case .success(let answer) where answer.status == 404:
            return .delivered(status: 404, note: "not a member of the list: nothing to tag")
        case .success(let answer): return .from(answer, what: "mailchimp tags")
        }
    }
}
