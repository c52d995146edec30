import Core

/// One deactivation, as the forward mail tells it: the reason, the site and its contact.
/// Every text field is what the site sent (hostile until escaped); the composer escapes.
public struct DeactivationDetails: Sendable, Equatable {
    public var eventID: String
    /// µs UTC.
    public var receivedAt: Int64
    public var projectID: String
    public var projectName: String
    public var reasonID: String?
    public var reasonInfo: String?
    public var siteKey: String?
    public var url: String?
    public var siteName: String?
    public var adminEmail: String?
    public var firstName: String?
    public var lastName: String?
    /// The plugin's (project's) version on the site.
    public var projectVersion: String?
    public var wordpressVersion: String?
    public var phpVersion: String?

    public init(eventID: String, receivedAt: Int64, projectID: String, projectName: String) {
        self.eventID = eventID
        self.receivedAt = receivedAt
        self.projectID = projectID
        self.projectName = projectName
    }

    var contactName: String? {
        let name = [firstName, lastName].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        return name.isEmpty ? nil : name
    }
}

/// The mail that forwards one deactivation to a support address: subject with the site and the
/// reason, body with reason id and text, the site's URL, name, admin contact and plugin
/// version. `Reply-To` is the site's admin when the address is a plain one, so support can
/// answer straight away.
public enum DeactivationForwardMail {
    public static func compose(_ details: DeactivationDetails, from: MailAddress, to: [MailAddress], deliveryID: String) -> MailMessage {
        var replyTo: MailAddress?
        if let email = details.adminEmail, MailAddress.isPlainAddress(email) {
            replyTo = MailAddress(email, name: details.contactName)
        }
        return MailMessage(
            from: from, to: to, replyTo: replyTo,
            subject: subject(details),
            text: text(details), html: html(details),
            // The event's time: a retried send is the same message.
            date: details.receivedAt,
            messageID: MailMessage.messageID(key: deliveryID, domain: from.domain),
            extraHeaders: [("Auto-Submitted", "auto-generated"), ("X-Trackhouse-Delivery", deliveryID)])
    }

    public static func subject(_ details: DeactivationDetails) -> String {
        let site = details.siteKey ?? details.url ?? "a site"
        let reason = details.reasonID.map { DeactivationReasonText.text($0) } ?? "no reason given"
        return String("[\(details.projectName)] Deactivated on \(site): \(reason)".prefix(200))
    }

    static func rows(_ details: DeactivationDetails) -> [(label: String, value: String)] {
        let reason = details.reasonID.map { "\($0) — \(DeactivationReasonText.text($0))" } ?? "none (theme switch, or an id the project does not list)"
        var contact = details.contactName ?? ""
        if let email = details.adminEmail { contact += contact.isEmpty ? email : " <\(email)>" }
        return [
            ("Reason", reason),
            ("Details", details.reasonInfo ?? "—"),
            ("Site", details.siteName ?? "—"),
            ("URL", details.url ?? details.siteKey ?? "—"),
            ("Admin contact", contact.isEmpty ? "—" : contact),
            ("Plugin version", details.projectVersion ?? "—"),
            ("WordPress", details.wordpressVersion ?? "—"),
            ("PHP", details.phpVersion ?? "—"),
            ("Received", UTCTime.formatISO(micros: details.receivedAt)),
            ("Event id", details.eventID),
        ]
    }

    public static func text(_ details: DeactivationDetails) -> String {
        var out = "\(details.projectName) was deactivated on \(details.siteKey ?? details.url ?? "a site").\n\n"
        let rows = rows(details)
        let width = rows.map { $0.label.count }.max() ?? 0
        for (label, value) in rows {
            // A multi-line reason text stays indented under its label.
            let indented = value.split(separator: "\n", omittingEmptySubsequences: false)
                .joined(separator: "\n" + String(repeating: " ", count: width + 4))
            out += "  \(label)\(String(repeating: " ", count: width - label.count))  \(indented)\n"
        }
        out += "\nSent by Trackhouse for project \(details.projectID).\n"
        return out
    }

    public static func html(_ details: DeactivationDetails) -> String {
        let font = MailChart.font
        var out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>\(HTMLText.escape(subject(details)))</title></head>\n"
        out += "<body style=\"margin:0;padding:16px;background-color:#ffffff;\">\n"
        out += "<p style=\"margin:0 0 12px 0;\(font)\"><strong>\(HTMLText.escape(details.projectName))</strong> was deactivated on <strong>\(HTMLText.escape(details.siteKey ?? details.url ?? "a site"))</strong>.</p>\n"
        out += "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border-collapse:collapse;\(font)\">\n"
        for (label, value) in rows(details) {
            out += "<tr><td valign=\"top\" style=\"padding:4px 16px 4px 0;color:#4a5568;white-space:nowrap;\">\(HTMLText.escape(label))</td>"
            out += "<td style=\"padding:4px 0;white-space:pre-wrap;word-break:break-word;\">\(HTMLText.escape(value))</td></tr>\n"
        }
        out += "</table>\n<p style=\"margin:16px 0 0 0;font-size:12px;color:#718096;font-family:Arial,Helvetica,sans-serif;\">Sent by Trackhouse for project \(HTMLText.escape(details.projectID)).</p>\n</body></html>\n"
        return out
    }
}
