/// Bar charts that mail clients render: nested tables with percentage widths and `bgcolor`
/// (Outlook ignores CSS widths and backgrounds on divs), inline styles only, no images, no
/// script. And the same chart in plain text, with `#` bars.
enum MailChart {
    struct Bar {
        var label: String
        var count: Int64
    }

    static let barColor = "#2b6cb0"
    static let trackColor = "#edf2f7"
    static let font = "font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1a202c;"

    /// Rows of label, bar and "count · percent", each bar's length its share of `total`.
    static func html(_ bars: [Bar], total: Int64) -> String {
        var out = "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border-collapse:collapse;\(font)\">\n"
        for bar in bars {
            let percent = total > 0 ? Double(bar.count) * 100 / Double(total) : 0
            // A non-zero share keeps a visible sliver; widths are whole percents.
            let width = bar.count > 0 ? min(100, max(1, Int(percent.rounded()))) : 0
            out += "<tr><td style=\"padding:3px 8px 3px 0;width:38%;word-break:break-word;\">\(HTMLText.escape(bar.label))</td>"
            out += "<td style=\"padding:3px 0;\"><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border-collapse:collapse;\"><tr>"
            if width > 0 {
                out += "<td width=\"\(width)%\" bgcolor=\"\(barColor)\" style=\"background-color:\(barColor);height:14px;font-size:1px;line-height:1px;\">&nbsp;</td>"
            }
            if width < 100 {
                out += "<td width=\"\(100 - width)%\" bgcolor=\"\(trackColor)\" style=\"background-color:\(trackColor);height:14px;font-size:1px;line-height:1px;\">&nbsp;</td>"
            }
            out += "</tr></table></td>"
            out += "<td align=\"right\" style=\"padding:3px 0 3px 8px;white-space:nowrap;width:90px;\">\(bar.count) · \(formatPercent(percent))</td></tr>\n"
        }
        out += "</table>\n"
        return out
    }

    /// `label  ##########  count  percent` lines, labels and counts aligned.
    static func text(_ bars: [Bar], total: Int64, width: Int = 24) -> String {
        let labelWidth = min(60, bars.map { $0.label.count }.max() ?? 0)
        let countWidth = bars.map { String($0.count).count }.max() ?? 1
        var out = ""
        for bar in bars {
            let percent = total > 0 ? Double(bar.count) * 100 / Double(total) : 0
            let filled = bar.count > 0 ? max(1, Int((percent * Double(width) / 100).rounded())) : 0
            var label = bar.label.count > labelWidth ? String(bar.label.prefix(labelWidth - 1)) + "…" : bar.label
            label += String(repeating: " ", count: max(0, labelWidth - label.count))
            let count = String(repeating: " ", count: countWidth - String(bar.count).count) + String(bar.count)
            let bars = String(repeating: "#", count: min(width, filled)) + String(repeating: " ", count: max(0, width - filled))
            out += "  \(label)  \(bars)  \(count)  \(formatPercent(percent))\n"
        }
        return out
    }

    static func formatPercent(_ percent: Double) -> String {
        let tenths = Int((percent * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
