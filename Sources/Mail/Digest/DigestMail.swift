/// A project's digest as a mail: the headline numbers, deactivations with their top reasons,
/// and the PHP and WordPress version shares of the active sites, in HTML (tables with inline
/// bar charts) and in plain text with the same content.
public enum DigestMail {
    /// Reasons listed by name before the rest are summed as "other reasons".
    static let reasonsListed = 5
    /// Versions listed by name before the rest are summed as "other".
    static let versionsListed = 8

    public static func compose(_ figures: DigestFigures, from: MailAddress, to: [MailAddress], deliveryID: String) -> MailMessage {
        MailMessage(
            from: from, to: to,
            subject: subject(figures),
            text: text(figures), html: html(figures),
            // The period's end: a retried send is the same message.
            date: figures.period.end,
            messageID: MailMessage.messageID(key: deliveryID, domain: from.domain),
            extraHeaders: [("Auto-Submitted", "auto-generated"), ("X-Trackhouse-Delivery", deliveryID)])
    }

    public static func subject(_ figures: DigestFigures) -> String {
        "\(figures.projectName): \(figures.period.frequency.rawValue) digest, \(figures.period.label)"
    }

    static func headline(_ figures: DigestFigures) -> [(label: String, value: Int64)] {
        [("New sites", figures.newSites), ("Deactivations", figures.deactivations),
         ("Active sites", figures.activeSites), ("Sites reporting", figures.reportingSites)]
    }

    static func reasonBars(_ figures: DigestFigures) -> [MailChart.Bar] {
        var bars = figures.reasons.prefix(reasonsListed).map { reason in
            MailChart.Bar(label: reason.reasonID.map { id in
                let text = DeactivationReasonText.text(id)
                return text == id ? id : "\(text) (\(id))"
            } ?? DeactivationReasonText.text(nil), count: reason.count)
        }
        let rest = figures.reasons.dropFirst(reasonsListed).reduce(0) { $0 + $1.count }
        if rest > 0 { bars.append(MailChart.Bar(label: "Other reasons", count: rest)) }
        return bars
    }

    static func shareBars(_ shares: DigestFigures.Shares) -> [MailChart.Bar] {
        var bars = shares.values.prefix(versionsListed).map { MailChart.Bar(label: $0.value ?? "unknown", count: $0.sites) }
        let rest = shares.other + shares.values.dropFirst(versionsListed).reduce(0) { $0 + $1.sites }
        if rest > 0 { bars.append(MailChart.Bar(label: "other", count: rest)) }
        return bars
    }

    // MARK: Plain text

    public static func text(_ figures: DigestFigures) -> String {
        var out = "\(figures.projectName) — \(figures.period.frequency.rawValue) digest\n"
        out += "\(figures.period.label) (UTC)\n\n"
        let numbers = headline(figures)
        let labelWidth = numbers.map { $0.label.count }.max() ?? 0
        let valueWidth = numbers.map { String($0.value).count }.max() ?? 0
        for (label, value) in numbers {
            out += "  \(label)\(String(repeating: " ", count: labelWidth - label.count))  "
            out += "\(String(repeating: " ", count: valueWidth - String(value).count))\(value)\n"
        }
        out += "\nDeactivations by reason\n"
        out += figures.deactivations == 0 ? "  No deactivations in this period.\n" : MailChart.text(reasonBars(figures), total: figures.deactivations)
        for (title, shares) in [("PHP versions", figures.phpVersions), ("WordPress versions", figures.wordpressVersions)] {
            out += "\n\(title) of the \(shares.total) active sites\n"
            out += shares.total == 0 ? "  No active sites.\n" : MailChart.text(shareBars(shares), total: shares.total)
        }
        out += "\nActive sites: sites whose latest report before the end of the period is a tracking report\n"
        out += "from the last 14 days. Sent by Trackhouse for project \(figures.projectID).\n"
        return out
    }

    // MARK: HTML

    public static func html(_ figures: DigestFigures) -> String {
        let font = MailChart.font
        var out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
        out += "<title>\(HTMLText.escape(subject(figures)))</title></head>\n"
        out += "<body style=\"margin:0;padding:0;background-color:#f7fafc;\">\n"
        out += "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" bgcolor=\"#f7fafc\" style=\"background-color:#f7fafc;\"><tr><td align=\"center\" style=\"padding:16px;\">\n"
        out += "<table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" bgcolor=\"#ffffff\" style=\"width:100%;max-width:600px;background-color:#ffffff;border:1px solid #e2e8f0;\(font)\"><tr><td style=\"padding:20px;\">\n"
        out += "<h1 style=\"margin:0 0 4px 0;\(font)font-size:20px;\">\(HTMLText.escape(figures.projectName))</h1>\n"
        out += "<p style=\"margin:0 0 16px 0;\(font)color:#4a5568;\">\(figures.period.frequency.title) digest · \(HTMLText.escape(figures.period.label)) (UTC)</p>\n"

        out += "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border-collapse:collapse;\(font)\"><tr>\n"
        for (label, value) in headline(figures) {
            out += "<td align=\"center\" width=\"25%\" style=\"padding:8px;border:1px solid #e2e8f0;\">"
            out += "<div style=\"font-size:22px;font-weight:bold;\">\(value)</div><div style=\"font-size:12px;color:#4a5568;\">\(label)</div></td>\n"
        }
        out += "</tr></table>\n"

        out += section("Deactivations by reason")
        out += figures.deactivations == 0
            ? "<p style=\"margin:0;\(font)\">No deactivations in this period.</p>\n"
            : MailChart.html(reasonBars(figures), total: figures.deactivations)
        for (title, shares) in [("PHP versions", figures.phpVersions), ("WordPress versions", figures.wordpressVersions)] {
            out += section("\(title) of the \(shares.total) active sites")
            out += shares.total == 0
                ? "<p style=\"margin:0;\(font)\">No active sites.</p>\n"
                : MailChart.html(shareBars(shares), total: shares.total)
        }
        out += "<p style=\"margin:20px 0 0 0;font-size:12px;color:#718096;font-family:Arial,Helvetica,sans-serif;\">Active sites: sites whose latest report before the end of the period is a tracking report from the last 14 days. Sent by Trackhouse for project \(HTMLText.escape(figures.projectID)).</p>\n"
        out += "</td></tr></table>\n</td></tr></table>\n</body></html>\n"
        return out
    }

    static func section(_ title: String) -> String {
        "<h2 style=\"margin:20px 0 8px 0;font-family:Arial,Helvetica,sans-serif;font-size:16px;color:#1a202c;\">\(HTMLText.escape(title))</h2>\n"
    }
}
