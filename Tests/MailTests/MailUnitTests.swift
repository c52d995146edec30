import Core
@testable import Mail
import XCTest

final class SMTPReplyParserTests: XCTestCase {
    func feed(_ lines: [String]) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        return try lines.compactMap { try parser.feed(line: Array($0.utf8)) }
    }

    func testMultiLineReplyAndExtensions() throws {
        let replies = try feed(["250-smtp.test Hello", "250-SIZE 1000", "250-STARTTLS", "250 AUTH PLAIN LOGIN", "220 ready"])
        XCTAssertEqual(replies.count, 2)
        XCTAssertEqual(replies[0].code, 250)
        XCTAssertEqual(replies[0].lines, ["smtp.test Hello", "SIZE 1000", "STARTTLS", "AUTH PLAIN LOGIN"])
        XCTAssertEqual(replies[0].extensions["AUTH"], ["PLAIN", "LOGIN"])
        XCTAssertNotNil(replies[0].extensions["STARTTLS"])
        XCTAssertEqual(replies[1], SMTPReply(code: 220, lines: ["ready"]))
        XCTAssertEqual(try feed(["354"]).first, SMTPReply(code: 354, lines: [""]))
    }

    func testMalformedRepliesAreErrors() {
        XCTAssertThrowsError(try feed(["hello there"]))
        XCTAssertThrowsError(try feed(["250-first", "251 changed code"]))
        XCTAssertThrowsError(try feed(["25"]))
        XCTAssertThrowsError(try feed(["250Xno separator"]))
        XCTAssertThrowsError(try feed(["199 not a reply code"]))
        XCTAssertThrowsError(try feed([String(repeating: "2", count: SMTPReplyParser.lineBytesMax + 1)]))
        XCTAssertThrowsError(try feed(Array(repeating: "250-x", count: SMTPReplyParser.linesMax + 1)))
    }

    func testReplyDescriptionMasksAddresses() {
        let reply = SMTPReply(code: 550, lines: ["5.1.1 <someone@example.com>: Recipient address rejected"])
        XCTAssertFalse(reply.description.contains("someone@example.com"))
        XCTAssertTrue(reply.description.contains("Recipient address rejected"))
    }
}

final class SMTPDataTests: XCTestCase {
    func testDotStuffingAndLineEndings() {
        let stuffed = String(decoding: SMTPData.stuffed(Array("a\n.b\r\n..c\rd".utf8)), as: UTF8.self)
        XCTAssertEqual(stuffed, "a\r\n..b\r\n...c\r\nd\r\n.\r\n")
        XCTAssertEqual(String(decoding: SMTPData.stuffed(Array("x\r\n".utf8)), as: UTF8.self), "x\r\n.\r\n")
        XCTAssertEqual(String(decoding: SMTPData.stuffed(Array(".".utf8)), as: UTF8.self), "..\r\n.\r\n")
    }

    func testEnvelopeAddressesCannotInject() {
        XCTAssertNoThrow(try SMTPClient.checkEnvelopeAddress("a.b+c@example.com", step: .rcptTo))
        for bad in ["a@b.c>\r\nRCPT TO:<x@y.z", "a b@c.d", "nobody", "@x.y", "a@", "ü@x.y", ""] {
            XCTAssertThrowsError(try SMTPClient.checkEnvelopeAddress(bad, step: .rcptTo), bad)
        }
    }
}

final class MIMETests: XCTestCase {
    /// Decodes quoted-printable the way RFC 2045 says, for round trips.
    func decodeQP(_ text: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(text.utf8)
        var i = 0
        while i < input.count {
            if input[i] == 0x3D {
                if i + 2 < input.count, input[i + 1] == 0x0D, input[i + 2] == 0x0A { i += 3; continue }
                bytes.append(UInt8(String(decoding: input[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)!)
                i += 3
            } else if input[i] == 0x0D, i + 1 < input.count, input[i + 1] == 0x0A {
                bytes.append(0x0A)
                i += 2
            } else {
                bytes.append(input[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func testQuotedPrintableRoundTripsAndKeepsLinesShort() {
        let samples = [
            "plain ascii",
            "trailing space \nand tab\t\n",
            "=_ boundary-like =3D text",
            String(repeating: "é", count: 100),
            String(repeating: "x", count: 75) + "=" + String(repeating: "y", count: 200),
            ".starts with a dot\n.again",
            "ends with newline\n",
            "",
        ]
        for sample in samples {
            let encoded = QuotedPrintable.encode(sample)
            XCTAssertEqual(decodeQP(encoded), sample, "round trip of \(sample.prefix(20))")
            for line in encoded.components(separatedBy: "\r\n") {
                XCTAssertLessThanOrEqual(line.utf8.count, QuotedPrintable.lineLengthMax, line)
                XCTAssertFalse(line.hasPrefix("."), "a line starting with a dot: \(line)")
                XCTAssertFalse(line.hasSuffix(" ") || line.hasSuffix("\t"))
            }
            XCTAssertFalse(encoded.contains("=_"), "QP output must never contain the boundary prefix")
            XCTAssertTrue(encoded.utf8.allSatisfy { $0 < 0x80 })
        }
    }

    func testHeadersCannotBeInjectedAndNonASCIIIsEncoded() {
        let message = MailMessage(from: MailAddress("a@x.test", name: "Zoë \"Q\" <Admin>"), to: [MailAddress("b@y.test", name: "Support, Team")],
                                  subject: "Hi\r\nBcc: victim@evil.test", text: "body", date: 0, messageID: "<m@x.test>")
        let text = String(decoding: message.rendered(), as: UTF8.self)
        XCTAssertFalse(text.contains("\r\nBcc:"), "a line break in the subject started a header")
        XCTAssertTrue(text.contains("Subject: Hi  Bcc: victim@evil.test\r\n"))
        XCTAssertTrue(text.contains("From: =?UTF-8?B?"))
        XCTAssertTrue(text.contains("To: \"Support, Team\" <b@y.test>"))
        XCTAssertTrue(text.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
        XCTAssertTrue(text.utf8.allSatisfy { $0 < 0x80 }, "the message is 7-bit")
    }

    func testEncodedWordsStayShortAndSplitBetweenCharacters() {
        let encoded = HeaderText.encodedWords(String(repeating: "😀é", count: 40))
        for word in encoded.components(separatedBy: "\r\n ") {
            XCTAssertLessThanOrEqual(word.count, 75)
            XCTAssertTrue(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
        }
    }

    func testMessageIDIsDeterministicAndWellFormed() {
        let a = MailMessage.messageID(key: "digest:acme:news:2026-11-30", domain: "trackhouse.test")
        XCTAssertEqual(a, MailMessage.messageID(key: "digest:acme:news:2026-11-30", domain: "trackhouse.test"))
        XCTAssertNotEqual(a, MailMessage.messageID(key: "digest:acme:news:2026-12-07", domain: "trackhouse.test"))
        XCTAssertNotEqual(MailMessage.messageID(key: "a:b", domain: "x.test"), MailMessage.messageID(key: "a;b", domain: "x.test"))
        XCTAssertTrue(a.hasPrefix("<digest.acme.news.2026-11-30."), a)
        XCTAssertTrue(a.hasSuffix("@trackhouse.test>"))
        XCTAssertFalse(a.contains(".."))
        XCTAssertTrue(MailMessage.messageID(key: "x", domain: "bad domain\r\n").hasSuffix("@trackhouse.invalid>"))
    }

    func testAddressParsing() {
        XCTAssertEqual(MailAddress.parse("Acme Support <support@acme.test>"), MailAddress("support@acme.test", name: "Acme Support"))
        XCTAssertEqual(MailAddress.parse(" \"Acme, Inc\" <a@b.test> "), MailAddress("a@b.test", name: "Acme, Inc"))
        XCTAssertEqual(MailAddress.parse("a@b.test"), MailAddress("a@b.test"))
        XCTAssertNil(MailAddress.parse("a@b.test\r\nBcc: x@y.z"))
        XCTAssertNil(MailAddress.parse("not an address"))
        XCTAssertNil(MailAddress.parse("a@b@c"))
    }
}

final class DigestTests: XCTestCase {
    let dec1 = UTCTimeFixture.dec1
    let day: Int64 = 86_400_000_000

    func testPeriodsAlignToUTCBoundaries() {
        let week = DigestPeriod.containing(dec1, frequency: .weekly)
        XCTAssertEqual(week.start, dec1 - day, "weeks start on Monday (2026-11-30)")
        XCTAssertEqual(week.end - week.start, 7 * day)
        XCTAssertEqual(week.key, "2026-11-30")
        XCTAssertEqual(week.label, "30 November – 6 December 2026")
        let month = DigestPeriod.containing(dec1 + 40 * day, frequency: .monthly)
        XCTAssertEqual(month.key, "2027-01")
        XCTAssertEqual(month.previous.key, "2026-12")
        XCTAssertEqual(month.previous.end, month.start)
        XCTAssertEqual(month.previous.label, "December 2026")
        let daily = DigestPeriod.containing(dec1 + day / 2, frequency: .daily)
        XCTAssertEqual(daily.start, dec1)
        XCTAssertEqual(daily.label, "Tuesday 1 December 2026")
        XCTAssertEqual(DigestPeriod.containing(dec1 - 1, frequency: .daily).key, "2026-11-30")
    }

    func testClosedPeriodsNeitherRepeatNorSkip() {
        let closed = DigestPeriod.closed(since: dec1 + 3, now: dec1 + 3 * day + 5, frequency: .daily)
        XCTAssertEqual(closed.map(\.key), ["2026-12-01", "2026-12-02", "2026-12-03"])
        XCTAssertTrue(DigestPeriod.closed(since: dec1, now: dec1 + day - 1, frequency: .daily).isEmpty, "the open period is never sent")
        let weeks = DigestPeriod.closed(since: dec1 - 30 * day, now: dec1, frequency: .weekly)
        for (a, b) in zip(weeks, weeks.dropFirst()) { XCTAssertEqual(a.end, b.start) }
        XCTAssertEqual(weeks.last?.end, dec1 - day)
    }

    func testDigestTextHasEveryFigureAndHTMLEscapesSiteText() {
        let figures = SMTPLiveTests.figures()
        let text = DigestMail.text(figures)
        for expected in ["New sites", "12", "Deactivations", "345", "I found a better plugin (found-better-plugin)",
                         "<script>alert(1)</script>", "8.1", "7.4", "unknown", "other", "PHP versions of the 345 active sites",
                         "WordPress versions", "6.4", "#"] {
            XCTAssertTrue(text.contains(expected), "text lacks \(expected)")
        }
        let html = DigestMail.html(figures)
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertTrue(html.contains("bgcolor=\"#2b6cb0\""), "bars are table cells with bgcolor")
        XCTAssertTrue(html.contains("width=\"58%\""), "8.1 has 200 of 345 sites: 58%")
        XCTAssertFalse(html.contains("<img"))
        XCTAssertFalse(html.contains("<style"), "styles are inline")
    }

    func testEmptyPeriodSaysSo() {
        let figures = DigestFigures(projectID: "p", projectName: "P", period: DigestPeriod.containing(dec1, frequency: .daily))
        XCTAssertTrue(DigestMail.text(figures).contains("No deactivations in this period."))
        XCTAssertTrue(DigestMail.html(figures).contains("No active sites."))
    }
}
