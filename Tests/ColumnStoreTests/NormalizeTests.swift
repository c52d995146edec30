import Core
import XCTest
@testable import ColumnStore
import Ingest

/// CONTRACT §4, rule by rule. Each table row is one input and the column value it must give.
final class NormalizeTests: XCTestCase {
    typealias F = NormalizeFixture

    // MARK: - Schema and row access

    func testEventsSchemaFollowsTheContractOrder() {
        let expected = """
            event_id received_at project_id event site_key site_hash url site_name admin_email first_name \
            last_name ip_address project_version client_version server_software php_version mysql_version \
            php_max_upload_size php_default_timezone php_soap php_fsockopen php_curl php_minor mysql_minor \
            wp_minor wp_version wp_locale wp_memory_limit wp_debug_mode wp_multisite wp_theme_slug wp_theme_name \
            wp_theme_version wp_theme_uri wp_theme_author users_total users active_plugins inactive_plugins \
            is_local tracking_skipped previously_skipped reason_id reason_info plugins extra
            """.split(separator: " ").map(String.init)
        XCTAssertEqual(TableSchema.events.columns.map(\.name), expected)
        XCTAssertEqual(EventRow.columnCount, expected.count)
        let kinds = Dictionary(uniqueKeysWithValues: TableSchema.events.columns.map { ($0.name, $0.kind) })
        XCTAssertEqual(kinds["received_at"], .timestamp)
        for name in ["php_soap", "php_fsockopen", "php_curl", "wp_debug_mode", "wp_multisite", "is_local",
                     "tracking_skipped", "previously_skipped"] {
            XCTAssertEqual(kinds[name], .bool, name)
        }
        for name in ["users_total", "active_plugins", "inactive_plugins"] { XCTAssertEqual(kinds[name], .int64, name) }
        XCTAssertEqual(TableSchema.events.columns.filter { $0.kind == .string }.count, 46 - 1 - 8 - 3)
        XCTAssertEqual(TableSchema.sites.columns.map(\.name), expected + ["first_seen", "last_seen", "event_count", "status"])
        XCTAssertEqual(TableSchema.sites.columns.suffix(4).map(\.kind), [.timestamp, .timestamp, .int64, .string])
        XCTAssertEqual(TableSchema.events.columnIndex(named: "site_key"), 4)
        XCTAssertEqual(TableSchema.sites.columnIndex(named: "status"), 49)
        XCTAssertNil(TableSchema.events.columnIndex(named: "status"))
    }

    /// The stored fields, in declaration order, are the schema's columns (camelCase, units
    /// last), and the index accessors reach exactly the field of that name.
    func testRowFieldsAndIndexAccessorsFollowTheSchema() {
        var row = EventRow(eventID: "e", receivedAtMicros: 7, projectID: "p", event: "track")
        for (index, column) in TableSchema.events.columns.enumerated() {
            switch column.kind {
            case .string: row.setValue(.string("v\(index)"), at: index)
            case .timestamp: row.setValue(.timestamp(Int64(1000 + index)), at: index)
            case .int64: row.setValue(.int64(Int64(index)), at: index)
            case .bool: row.setValue(.bool(index % 2 == 0), at: index)
            case .double: XCTFail("events has no double column: \(column.name)")
            }
        }
        let children = Array(Mirror(reflecting: row).children)
        XCTAssertEqual(children.count, TableSchema.events.columns.count)
        for (index, (child, column)) in zip(children, TableSchema.events.columns).enumerated() {
            XCTAssertEqual(Self.snakeCase(child.label!), column.name, "field \(index)")
            let mirrored = String(reflecting: child.value)
            switch row.value(at: index) {
            case .string(let text): XCTAssertTrue(mirrored.contains("\"\(text)\""), column.name)
            case .timestamp(let number), .int64(let number): XCTAssertTrue(mirrored.contains("\(number)"), column.name)
            case .bool(let flag): XCTAssertTrue(mirrored.contains("\(flag)"), column.name)
            case .null: XCTFail("\(column.name) is null after being set")
            }
        }
        // NULL round trip for the nullable columns; the four identity columns keep their value.
        for index in 4..<TableSchema.events.columns.count {
            row.setValue(.null, at: index)
            XCTAssertEqual(row.value(at: index), .null, TableSchema.events.columns[index].name)
        }
        row.setValue(.null, at: 0)
        XCTAssertEqual(row.string(at: 0), "v0")
    }

    static func snakeCase(_ label: String) -> String {
        var name = label.hasSuffix("Micros") ? String(label.dropLast(6)) : label
        name = name.replacingOccurrences(of: "ID", with: "Id").replacingOccurrences(of: "URI", with: "Uri")
        var out = ""
        for character in name {
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
        return out
    }

    // MARK: - Project and event

    func testProjectByHashCaseInsensitiveAndUnknownProjects() {
        let cases: [(String, String?)] = [
            ("hash=\(F.projectHash)", "acme-seo"),
            ("hash=\(F.projectHash.uppercased())", "acme-seo"),
            ("hash=+\(F.projectHash)+", "acme-seo"),
            ("hash=11111111-2222-3333-4444-555555555555", "bare-theme"),
            ("hash=00000000-0000-0000-0000-000000000000", nil),
            ("hash=", nil),
            ("url=https%3A%2F%2Fexample.com", nil),
            ("hash%5Bx%5D=\(F.projectHash)", nil),
            ("", nil),
        ]
        for (form, project) in cases {
            let result = EventNormalizer.normalize(envelope: F.formEnvelope(.track, form), registry: F.registry)
            if let project {
                XCTAssertEqual(F.expectEvent(result).row.projectID, project, form)
            } else {
                XCTAssertEqual(result, .unknownProject, form)
            }
        }
        // The v1.2.3 deactivate bug: no hash at all.
        let buggy = F.formEnvelope(.deactivate, "reason_id=other&reason_info=&client=1.2.3")
        XCTAssertEqual(EventNormalizer.normalize(envelope: buggy, registry: F.registry), .unknownProject)
        let json = F.jsonEnvelope(.track, #"{"hash":"\#(F.projectHash.uppercased())"}"#)
        XCTAssertEqual(F.expectEvent(EventNormalizer.normalize(envelope: json, registry: F.registry)).row.projectID,
                       "acme-seo")
    }

    func testEnvelopeColumnsAndEventNames() {
        let cases: [(Envelope.Route, String)] = [(.track, "track"), (.deactivate, "deactivate"), (.trackingSkipped, "skip")]
        for (route, event) in cases {
            let (row, failures) = F.row(route, "")
            XCTAssertEqual(row.event, event)
            XCTAssertEqual(row.eventID, "01J0000000000000000000TEST")
            XCTAssertEqual(row.receivedAtMicros, 1_780_000_000_123_456)
            XCTAssertEqual(failures, 0)
        }
    }

    // MARK: - Site identity

    func testSiteKeyFromURL() {
        let cases: [(String?, String?)] = [
            ("https://example.com", "example.com"),
            ("http://example.com/", "example.com"),
            ("  HTTPS://WWW.Example.COM/  ", "example.com"),
            ("https://www.example.com/shop/", "example.com/shop"),
            ("https://example.com/shop///", "example.com/shop"),
            ("https://example.com/?utm_source=x&b=2", "example.com"),
            ("https://example.com/blog?p=1#top", "example.com/blog"),
            ("https://example.com#section", "example.com"),
            ("example.com", "example.com"),
            ("www.example.com", "example.com"),
            ("WWW.EXAMPLE.COM/", "example.com"),
            ("ftp://files.example.com", "files.example.com"),
            ("git+ssh://example.com/repo", "example.com/repo"),
            ("https://example.com:8443/wp", "example.com:8443/wp"),
            ("https://sub.www.example.com", "sub.www.example.com"),
            ("https://wwwexample.com", "wwwexample.com"),
            ("https://www.", nil),
            ("https://", nil),
            ("/", nil),
            ("   ", nil),
            ("", nil),
            (nil, nil),
            ("https://münchen.example/Ä", "münchen.example/ä"),
            ("localhost:8080/wp/", "localhost:8080/wp"),
        ]
        for (url, expected) in cases {
            let form = url.map { "url=\(F.encoded($0))" } ?? ""
            let (row, _) = F.row(.track, form)
            XCTAssertEqual(row.siteKey, expected, "url \(url ?? "nil")")
            XCTAssertEqual(SiteIdentity.siteKey(url: url ?? ""), expected, "url \(url ?? "nil")")
        }
        XCTAssertEqual(F.row(.track, "url=+https%3A%2F%2FExample.com%2F+").row.url, "https://Example.com/",
                       "url is trimmed but otherwise kept as sent")
    }

    func testSiteHashFromUserAgent() {
        let md5 = "0123456789ABCDEF0123456789abcdef"
        let cases: [(String?, String?)] = [
            ("Appsero/\(md5);", md5.lowercased()),
            ("Appsero/\(md5)", md5.lowercased()),
            ("appsero/\(md5);", md5.lowercased()),
            ("WordPress/6.4; Appsero/\(md5); extra", md5.lowercased()),
            ("Appsero/\(md5)0;", nil),
            ("Appsero/\(md5.dropLast());", nil),
            ("Appsero/0123456789abcdef0123456789abcdeg;", nil),
            ("Appsero/;", nil),
            ("WordPress/6.4.2; https://example.com", nil),
            ("", nil),
            (nil, nil),
        ]
        for (userAgent, expected) in cases {
            XCTAssertEqual(F.row(.track, "", userAgent: userAgent).row.siteHash, expected, userAgent ?? "nil")
        }
    }

    // MARK: - Value rules

    func testStringsAreTrimmedAndEmptyIsNull() {
        let cases: [(String, String?)] = [
            ("Jane", "Jane"), ("+Jane+Doe+", "Jane Doe"), ("", nil), ("+++", nil), ("%09x%0A", "x"),
            ("%C2%A0x%C2%A0", "x"), ("%E2%80%83", nil), ("0", "0"),
        ]
        for (encoded, expected) in cases {
            let (row, failures) = F.row(.track, "first_name=\(encoded)&site=\(encoded)&ip_address=\(encoded)")
            XCTAssertEqual(row.firstName, expected, encoded)
            XCTAssertEqual(row.siteName, expected, encoded)
            XCTAssertEqual(row.ipAddress, expected, encoded)
            XCTAssertEqual(failures, 0)
        }
        let (row, _) = F.row(.track, "url=&site=&admin_email=&last_name=&client=&project_version=&wp%5Blocale%5D=")
        XCTAssertNil(row.url); XCTAssertNil(row.siteKey); XCTAssertNil(row.siteName); XCTAssertNil(row.adminEmail)
        XCTAssertNil(row.lastName); XCTAssertNil(row.clientVersion); XCTAssertNil(row.projectVersion); XCTAssertNil(row.wpLocale)
    }

    func testBools() {
        let cases: [(String, Bool?, Int)] = [
            ("1", true, 0), ("yes", true, 0), ("Yes", true, 0), ("YES", true, 0), ("true", true, 0), ("True", true, 0),
            ("on", true, 0), ("ON", true, 0), ("+yes+", true, 0),
            ("0", false, 0), ("no", false, 0), ("No", false, 0), ("false", false, 0), ("FALSE", false, 0),
            ("off", false, 0), ("Off", false, 0),
            ("", nil, 0), ("+", nil, 0), ("2", nil, 1), ("-1", nil, 1), ("y", nil, 1), ("enabled", nil, 1),
            ("1.0", nil, 1), ("nope", nil, 1),
        ]
        for (text, expected, failuresPerField) in cases {
            let form = "server%5Bphp_soap%5D=\(text)&server%5Bphp_fsockopen%5D=\(text)&server%5Bphp_curl%5D=\(text)"
                + "&wp%5Bdebug_mode%5D=\(text)&wp%5Bmultisite%5D=\(text)&is_local=\(text)&tracking_skipped=\(text)"
                + "&previously_skipped=\(text)"
            let (row, failures) = F.row(.track, form)
            for (name, value) in [("php_soap", row.phpSoap), ("php_fsockopen", row.phpFsockopen), ("php_curl", row.phpCurl),
                                  ("wp_debug_mode", row.wpDebugMode), ("wp_multisite", row.wpMultisite),
                                  ("is_local", row.isLocal), ("tracking_skipped", row.trackingSkipped),
                                  ("previously_skipped", row.previouslySkipped)] {
                XCTAssertEqual(value, expected, "\(name) = \(text)")
            }
            XCTAssertEqual(failures, 8 * failuresPerField, text)
        }
    }

    func testInts() {
        let cases: [(String, Int64?, Int)] = [
            ("8", 8, 0), ("0", 0, 0), ("%2B8", 8, 0), ("+8", 8, 0), ("-3", -3, 0), ("007", 7, 0), ("+12+", 12, 0),
            ("9223372036854775807", Int64.max, 0), ("-9223372036854775808", Int64.min, 0),
            ("9223372036854775808", nil, 1), ("", nil, 0), ("8.0", nil, 1), ("1e3", nil, 1), ("0x10", nil, 1),
            ("12abc", nil, 1), ("1+2", nil, 1), ("-", nil, 1), ("%EF%BC%98", nil, 1),
        ]
        for (text, expected, failuresPerField) in cases {
            let (row, failures) = F.row(.track, "active_plugins=\(text)&inactive_plugins=\(text)&users%5Btotal%5D=\(text)")
            XCTAssertEqual(row.activePlugins, expected, text)
            XCTAssertEqual(row.inactivePlugins, expected, text)
            XCTAssertEqual(row.usersTotal, expected, text)
            XCTAssertEqual(failures, 3 * failuresPerField, text)
        }
    }

    func testMinorVersions() {
        let cases: [(String, String?)] = [
            ("8.1.27", "8.1"), ("8.1", "8.1"), ("7.4.3-4ubuntu2.19", "7.4"), ("10.6.12-MariaDB", "10.6"),
            ("5.5.5-10.6.12-MariaDB", "5.5"), ("10.06.1", "10.06"), ("+8.2.0+", "8.2"), ("8", nil), ("8.", nil),
            (".1", nil), ("v8.1", nil), ("abc", nil), ("", nil), ("6.4-RC1", "6.4"),
        ]
        for (version, expected) in cases {
            let form = "server%5Bphp_version%5D=\(version)&server%5Bmysql_version%5D=\(version)&wp%5Bversion%5D=\(version)"
            let (row, failures) = F.row(.track, form)
            XCTAssertEqual(row.phpMinor, expected, version)
            XCTAssertEqual(row.mysqlMinor, expected, version)
            XCTAssertEqual(row.wpMinor, expected, version)
            XCTAssertEqual(failures, 0, "a version that has no minor is not a cast failure")
        }
        let (row, _) = F.row(.track, "server%5Bphp_version%5D=+8.1.27+")
        XCTAssertEqual(row.phpVersion, "8.1.27")
    }

    // MARK: - Deactivation reasons

    func testReasonIDs() {
        let cases: [(Envelope.Route, String, String?)] = [
            (.deactivate, "reason_id=could-not-understand", "could-not-understand"),
            (.deactivate, "reason_id=found-better-plugin", "found-better-plugin"),
            (.deactivate, "reason_id=not-have-that-feature", "not-have-that-feature"),
            (.deactivate, "reason_id=is-not-working", "is-not-working"),
            (.deactivate, "reason_id=looking-for-other", "looking-for-other"),
            (.deactivate, "reason_id=did-not-work-as-expected", "did-not-work-as-expected"),
            (.deactivate, "reason_id=other", "other"),
            (.deactivate, "reason_id=none", "none"),
            (.deactivate, "reason_id=+other+", "other"),
            (.deactivate, "reason_id=too-expensive", "too-expensive"),
            (.deactivate, "reason_id=switched-hosting", nil),
            (.deactivate, "reason_id=Other", nil),
            (.deactivate, "reason_id=", nil),
            (.deactivate, "", nil),
            (.track, "reason_id=other", nil),
            (.trackingSkipped, "reason_id=other", nil),
        ]
        for (route, form, expected) in cases {
            XCTAssertEqual(F.row(route, form).row.reasonID, expected, "\(route) \(form)")
        }
        // Custom reasons belong to their project only.
        let otherProject = F.formEnvelope(.deactivate, "hash=11111111-2222-3333-4444-555555555555&reason_id=too-expensive")
        XCTAssertNil(F.expectEvent(EventNormalizer.normalize(envelope: otherProject, registry: F.registry)).row.reasonID)

        let (row, _) = F.row(.deactivate, "reason_id=other&reason_info=+Too+slow+on+my+host++")
        XCTAssertEqual(row.reasonInfo, "Too slow on my host")
        XCTAssertNil(F.row(.deactivate, "reason_id=other&reason_info=").row.reasonInfo)
    }

    // MARK: - JSON columns

    func testExtraKeepsDeclaredFieldsCastToTheirType() {
        let cases: [(String, String?, Int)] = [
            ("extra%5Btotal_posts%5D=42", #"{"total_posts":42}"#, 0),
            ("extra%5Btotal_posts%5D=+42+&extra%5Bstore_currency%5D=+USD+", #"{"store_currency":"USD","total_posts":42}"#, 0),
            ("extra%5Bconversion_rate%5D=2.5&extra%5Bpro_active%5D=Yes",
             #"{"conversion_rate":2.5,"pro_active":true}"#, 0),
            ("extra%5Bconversion_rate%5D=3", #"{"conversion_rate":3.0}"#, 0),
            ("extra%5Bconversion_rate%5D=-1.25e2", #"{"conversion_rate":-125.0}"#, 0),
            ("extra%5Bpro_active%5D=off", #"{"pro_active":false}"#, 0),
            ("extra%5Bundeclared%5D=1", nil, 0),
            ("extra%5Bundeclared%5D=1&extra%5Btotal_posts%5D=3", #"{"total_posts":3}"#, 0),
            ("extra%5Btotal_posts%5D=many", nil, 1),
            ("extra%5Btotal_posts%5D=many&extra%5Bstore_currency%5D=EUR", #"{"store_currency":"EUR"}"#, 1),
            ("extra%5Bconversion_rate%5D=nan&extra%5Bpro_active%5D=maybe", nil, 2),
            ("extra%5Bconversion_rate%5D=inf", nil, 1),
            ("extra%5Bconversion_rate%5D=0x1p3", nil, 1),
            ("extra%5Bconversion_rate%5D=1e999", nil, 1),
            ("extra%5Bstore_currency%5D=", nil, 0),
            ("extra%5Bstore_currency%5D=+", nil, 0),
            ("extra%5Bstore_currency%5D=say+%22hi%22", #"{"store_currency":"say \"hi\""}"#, 0),
            ("extra%5Bstore_currency%5D%5Bnested%5D=x", nil, 1),
            ("extra%5Btotal_posts%5D%5B0%5D=1&extra%5Btotal_posts%5D%5B1%5D=2", nil, 1),
            ("extra=flat", nil, 1),
            ("extra=", nil, 0),
            ("", nil, 0),
        ]
        for (form, expected, expectedFailures) in cases {
            let (row, failures) = F.row(.track, form)
            XCTAssertEqual(row.extra, expected, form)
            XCTAssertEqual(failures, expectedFailures, form)
            if let extra = row.extra { XCTAssertNoThrow(try JSONParser.parse(extra), form) }
        }
        // A project without declared fields keeps no extra at all.
        let theme = F.formEnvelope(.track, "hash=11111111-2222-3333-4444-555555555555&extra%5Btotal_posts%5D=4")
        XCTAssertNil(F.expectEvent(EventNormalizer.normalize(envelope: theme, registry: F.registry)).row.extra)
    }

    func testPlugins() {
        let cases: [(String, String?, Int)] = [
            ("plugins%5Bwoocommerce%5D%5Bname%5D=WooCommerce&plugins%5Bwoocommerce%5D%5Bversion%5D=8.5.1"
             + "&plugins%5Bakismet%5D%5Bname%5D=Akismet+Anti-spam&plugins%5Bakismet%5D%5Bversion%5D=5.3",
             #"[{"slug":"akismet","name":"Akismet Anti-spam","version":"5.3"},{"slug":"woocommerce","name":"WooCommerce","version":"8.5.1"}]"#, 0),
            ("plugins%5Bjetpack%5D%5Bname%5D=Jetpack",
             #"[{"slug":"jetpack","name":"Jetpack","version":null}]"#, 0),
            ("plugins%5Bjetpack%5D%5Bversion%5D=13.0&plugins%5Bjetpack%5D%5Bname%5D=",
             #"[{"slug":"jetpack","name":null,"version":"13.0"}]"#, 0),
            ("plugins%5Bb-plugin%5D%5Bname%5D=B&plugins%5BB%5D%5Bname%5D=Upper&plugins%5Ba%5D%5Bname%5D=A",
             #"[{"slug":"B","name":"Upper","version":null},{"slug":"a","name":"A","version":null},{"slug":"b-plugin","name":"B","version":null}]"#, 0),
            ("plugins%5Bodd%5D=flat", #"[{"slug":"odd","name":null,"version":null}]"#, 1),
            ("plugins=", nil, 0),
            ("plugins=woocommerce", nil, 1),
            ("", nil, 0),
        ]
        for (form, expected, expectedFailures) in cases {
            let (row, failures) = F.row(.track, form)
            XCTAssertEqual(row.plugins, expected, form)
            XCTAssertEqual(failures, expectedFailures, form)
        }
    }

    func testUsers() {
        let cases: [(String, Int64?, String?, Int)] = [
            ("users%5Btotal%5D=10&users%5Bsubscriber%5D=8&users%5Badministrator%5D=1&users%5Bcustomer%5D=1",
             10, #"{"administrator":1,"customer":1,"subscriber":8}"#, 0),
            ("users%5Btotal%5D=1", 1, nil, 0),
            ("users%5Badministrator%5D=+2+", nil, #"{"administrator":2}"#, 0),
            ("users%5Btotal%5D=3&users%5Beditor%5D=lots&users%5Badministrator%5D=3",
             3, #"{"administrator":3}"#, 1),
            ("users%5Btotal%5D=3&users%5Beditor%5D=", 3, nil, 0),
            ("users%5Btotal%5D=x&users%5Beditor%5D=y", nil, nil, 2),
            ("users=5", nil, nil, 1),
            ("", nil, nil, 0),
        ]
        for (form, total, roles, expectedFailures) in cases {
            let (row, failures) = F.row(.track, form)
            XCTAssertEqual(row.usersTotal, total, form)
            XCTAssertEqual(row.users, roles, form)
            XCTAssertEqual(failures, expectedFailures, form)
        }
    }

    // MARK: - Client generations and routes

    func testOldClientsVersionAndTheme() {
        let cases: [(String, String?, String?)] = [
            ("version=1.2.0&theme=astra&user_email=me%40example.com", "1.2.0", "astra"),
            ("project_version=2.0.1&version=1.2.0", "2.0.1", nil),
            ("project_version=&version=1.2.0", "1.2.0", nil),
            ("wp%5Btheme_slug%5D=storefront&theme=astra", nil, "storefront"),
            ("wp%5Btheme_slug%5D=&theme=+astra+", nil, "astra"),
            ("", nil, nil),
        ]
        for (form, projectVersion, themeSlug) in cases {
            let (row, failures) = F.row(.deactivate, form)
            XCTAssertEqual(row.projectVersion, projectVersion, form)
            XCTAssertEqual(row.wpThemeSlug, themeSlug, form)
            XCTAssertEqual(failures, 0, form)
        }
    }

    func testSkipEvents() {
        let envelope = F.formEnvelope(.trackingSkipped, "hash=\(F.projectHash)&previously_skipped=1&client=2.0.4",
                                      userAgent: "Appsero/ABCDEF0123456789ABCDEF0123456789;")
        let (row, failures) = F.expectEvent(EventNormalizer.normalize(envelope: envelope, registry: F.registry))
        XCTAssertEqual(row.event, "skip")
        XCTAssertEqual(row.previouslySkipped, true)
        XCTAssertEqual(row.clientVersion, "2.0.4")
        XCTAssertEqual(row.siteHash, "abcdef0123456789abcdef0123456789")
        XCTAssertNil(row.siteKey)
        XCTAssertNil(row.url)
        XCTAssertNil(row.reasonID)
        XCTAssertEqual(failures, 0)
        for index in 4..<TableSchema.events.columns.count
        where !["site_hash", "previously_skipped", "client_version"].contains(TableSchema.events.columns[index].name) {
            XCTAssertEqual(row.value(at: index), .null, TableSchema.events.columns[index].name)
        }
        XCTAssertEqual(F.row(.trackingSkipped, "previously_skipped=0").row.previouslySkipped, false)
    }

    // MARK: - JSON bodies and shapes

    func testJSONBodyLeavesAsNumbersAndBools() {
        let json = """
            {"hash":"\(F.projectHash)","url":"https://Example.com/","site":123,"active_plugins":8,"inactive_plugins":"5",
             "users":{"total":10,"administrator":1,"subscriber":9.0,"editor":true},
             "server":{"php_version":"8.2.1","php_soap":true,"php_fsockopen":false,"php_curl":1,"mysql_version":8.0},
             "wp":{"debug_mode":"No","multisite":0,"version":6.4},
             "is_local":false,"tracking_skipped":true,"previously_skipped":null,
             "extra":{"total_posts":42,"conversion_rate":1.50,"pro_active":true,"store_currency":7},
             "plugins":{"woocommerce":{"name":"WooCommerce","version":8.5}}}
            """
        let (row, failures) = F.expectEvent(EventNormalizer.normalize(envelope: F.jsonEnvelope(.track, json), registry: F.registry))
        XCTAssertEqual(row.siteKey, "example.com")
        XCTAssertEqual(row.siteName, "123")
        XCTAssertEqual(row.activePlugins, 8)
        XCTAssertEqual(row.inactivePlugins, 5)
        XCTAssertEqual(row.usersTotal, 10)
        // 9.0 is a whole JSON number (kept); `true` is no role count (dropped, one failure).
        XCTAssertEqual(row.users, #"{"administrator":1,"subscriber":9}"#)
        XCTAssertEqual(row.phpSoap, true)
        XCTAssertEqual(row.phpFsockopen, false)
        XCTAssertEqual(row.phpCurl, true)
        XCTAssertEqual(row.mysqlVersion, "8.0")
        XCTAssertEqual(row.mysqlMinor, "8.0")
        XCTAssertEqual(row.wpDebugMode, false)
        XCTAssertEqual(row.wpMultisite, false)
        XCTAssertEqual(row.wpVersion, "6.4")
        XCTAssertEqual(row.wpMinor, "6.4")
        XCTAssertEqual(row.isLocal, false)
        XCTAssertEqual(row.trackingSkipped, true)
        XCTAssertNil(row.previouslySkipped)
        XCTAssertEqual(row.extra, #"{"conversion_rate":1.5,"pro_active":true,"store_currency":"7","total_posts":42}"#)
        XCTAssertEqual(row.plugins, #"[{"slug":"woocommerce","name":"WooCommerce","version":"8.5"}]"#)
        XCTAssertEqual(failures, 1)

        let fractional = F.jsonEnvelope(.track, #"{"hash":"\#(F.projectHash)","active_plugins":8.5,"users":{"total":1e2}}"#)
        let (fractionalRow, fractionalFailures) = F.expectEvent(EventNormalizer.normalize(envelope: fractional, registry: F.registry))
        XCTAssertNil(fractionalRow.activePlugins)
        XCTAssertEqual(fractionalRow.usersTotal, 100)
        XCTAssertEqual(fractionalFailures, 1)
    }

    /// A JSON number is an int when its exact decimal value is whole and fits Int64, judged on
    /// the text, not on the double it reads as: `1e-999` underflows to the double 0.0 but is
    /// not whole (it was stored as 0), `1e999` overflows. The same rule for every int field:
    /// `active_plugins`, `inactive_plugins`, `users{total}`, role counts and int `extra` fields.
    func testJSONNumberIntsAreJudgedOnTheirDecimalValue() {
        let cases: [(String, Int64?)] = [
            ("8.0", 8), ("1e2", 100), ("1E+2", 100), ("-0", 0), ("-0.0", 0), ("0e-999", 0), ("-0.0e999", 0),
            ("1e18", 1_000_000_000_000_000_000), ("1.5e1", 15), ("100e-2", 1), ("0.1e1", 1),
            ("9007199254740993.0", 9_007_199_254_740_993), ("9223372036854775807", .max),
            ("-9223372036854775808", .min), ("9.223372036854775807e18", .max), ("-9.223372036854775808E+18", .min),
            ("1e-999", nil), ("-1e-999", nil), ("1e-1", nil), ("8.5", nil), ("1.00000000000000001", nil),
            ("1e999", nil), ("-1e999", nil), ("1e19", nil), ("9223372036854775808", nil), ("-9223372036854775809", nil),
            ("9223372036854775808.0", nil), ("1e1000000000000000000000", nil), ("1e-1000000000000000000000", nil),
        ]
        for (literal, expected) in cases {
            let json = #"{"hash":"\#(F.projectHash)","active_plugins":\#(literal),"inactive_plugins":\#(literal),"#
                + #""users":{"total":\#(literal),"editor":\#(literal)},"extra":{"total_posts":\#(literal)}}"#
            let (row, failures) = F.expectEvent(EventNormalizer.normalize(envelope: F.jsonEnvelope(.track, json),
                                                                          registry: F.registry))
            XCTAssertEqual(row.activePlugins, expected, literal)
            XCTAssertEqual(row.inactivePlugins, expected, literal)
            XCTAssertEqual(row.usersTotal, expected, literal)
            XCTAssertEqual(row.users, expected.map { #"{"editor":\#($0)}"# }, literal)
            XCTAssertEqual(row.extra, expected.map { #"{"total_posts":\#($0)}"# }, literal)
            XCTAssertEqual(failures, expected == nil ? 5 : 0, literal)
            XCTAssertEqual(FieldCast.int64(jsonNumberLiteral: literal), expected, literal)
        }
    }

    func testNestedObjectsWhereScalarsBelongAreNullAndCounted() {
        let cases: [(String, Int)] = [
            ("site%5Bname%5D=x", 1),
            ("server%5Bphp_version%5D%5Bmajor%5D=8", 1),
            ("server=flat", 1),
            ("wp=flat&server=", 1),
            ("is_local%5B%5D=1", 1),
            ("active_plugins%5Bcount%5D=1", 1),
        ]
        for (form, expectedFailures) in cases {
            let (row, failures) = F.row(.track, form)
            XCTAssertEqual(failures, expectedFailures, form)
            XCTAssertNil(row.siteName); XCTAssertNil(row.phpVersion); XCTAssertNil(row.phpMinor)
            XCTAssertNil(row.isLocal); XCTAssertNil(row.activePlugins)
        }
        let json = #"{"hash":"\#(F.projectHash)","site":["a"],"url":{"href":"x"},"server":[],"wp":[1],"client":null}"#
        let (row, failures) = F.expectEvent(EventNormalizer.normalize(envelope: F.jsonEnvelope(.track, json), registry: F.registry))
        XCTAssertNil(row.siteName); XCTAssertNil(row.url); XCTAssertNil(row.siteKey); XCTAssertNil(row.clientVersion)
        XCTAssertEqual(failures, 3, "site, url and wp; an empty array is PHP's empty map")
    }

    /// The SDK 2.0.4 track payload end to end: every column.
    func testFullTrackPayload() {
        let form = [
            "url=https%3A%2F%2Fwww.shop.example%2F", "site=My+Shop", "admin_email=admin%40shop.example",
            "first_name=Jane", "last_name=Doe", "hash=\(F.projectHash)",
            "server%5Bsoftware%5D=nginx%2F1.21.0", "server%5Bphp_version%5D=8.1.27", "server%5Bmysql_version%5D=10.6.12-MariaDB",
            "server%5Bphp_max_upload_size%5D=512+MB", "server%5Bphp_default_timezone%5D=UTC", "server%5Bphp_soap%5D=Yes",
            "server%5Bphp_fsockopen%5D=No", "server%5Bphp_curl%5D=Yes",
            "wp%5Bmemory_limit%5D=256M", "wp%5Bdebug_mode%5D=No", "wp%5Blocale%5D=de_DE_formal", "wp%5Bversion%5D=6.4.2",
            "wp%5Bmultisite%5D=No", "wp%5Btheme_slug%5D=storefront", "wp%5Btheme_name%5D=Storefront",
            "wp%5Btheme_version%5D=4.5.0", "wp%5Btheme_uri%5D=https%3A%2F%2Fwoo.com%2Fstorefront%2F",
            "wp%5Btheme_author%5D=Automattic",
            "users%5Btotal%5D=10", "users%5Badministrator%5D=1", "users%5Bcustomer%5D=9",
            "active_plugins=8", "inactive_plugins=5", "ip_address=203.0.113.7", "project_version=1.7.2",
            "tracking_skipped=0", "is_local=0",
            "plugins%5Bwoocommerce%5D%5Bname%5D=WooCommerce", "plugins%5Bwoocommerce%5D%5Bversion%5D=8.5.1",
            "extra%5Btotal_posts%5D=42", "extra%5Bsecret%5D=x", "client=2.0.4",
            "reason_id=too-expensive", "reason_info=Pricey",
        ].joined(separator: "&")
        let envelope = F.formEnvelope(.deactivate, form, userAgent: "Appsero/\(F.siteMD5);")
        let (row, failures) = F.expectEvent(EventNormalizer.normalize(envelope: envelope, registry: F.registry))
        XCTAssertEqual(failures, 0)
        let expected: [String: EventValue] = [
            "event_id": .string("01J0000000000000000000TEST"), "received_at": .timestamp(1_780_000_000_123_456),
            "project_id": .string("acme-seo"), "event": .string("deactivate"), "site_key": .string("shop.example"),
            "site_hash": .string(F.siteMD5), "url": .string("https://www.shop.example/"), "site_name": .string("My Shop"),
            "admin_email": .string("admin@shop.example"), "first_name": .string("Jane"), "last_name": .string("Doe"),
            "ip_address": .string("203.0.113.7"), "project_version": .string("1.7.2"), "client_version": .string("2.0.4"),
            "server_software": .string("nginx/1.21.0"), "php_version": .string("8.1.27"),
            "mysql_version": .string("10.6.12-MariaDB"), "php_max_upload_size": .string("512 MB"),
            "php_default_timezone": .string("UTC"), "php_soap": .bool(true), "php_fsockopen": .bool(false),
            "php_curl": .bool(true), "php_minor": .string("8.1"), "mysql_minor": .string("10.6"), "wp_minor": .string("6.4"),
            "wp_version": .string("6.4.2"), "wp_locale": .string("de_DE_formal"), "wp_memory_limit": .string("256M"),
            "wp_debug_mode": .bool(false), "wp_multisite": .bool(false), "wp_theme_slug": .string("storefront"),
            "wp_theme_name": .string("Storefront"), "wp_theme_version": .string("4.5.0"),
            "wp_theme_uri": .string("https://woo.com/storefront/"), "wp_theme_author": .string("Automattic"),
            "users_total": .int64(10), "users": .string(#"{"administrator":1,"customer":9}"#),
            "active_plugins": .int64(8), "inactive_plugins": .int64(5), "is_local": .bool(false),
            "tracking_skipped": .bool(false), "previously_skipped": .null, "reason_id": .string("too-expensive"),
            "reason_info": .string("Pricey"),
            "plugins": .string(#"[{"slug":"woocommerce","name":"WooCommerce","version":"8.5.1"}]"#),
            "extra": .string(#"{"total_posts":42}"#),
        ]
        XCTAssertEqual(Set(expected.keys), Set(TableSchema.events.columns.map(\.name)))
        for (index, column) in TableSchema.events.columns.enumerated() {
            XCTAssertEqual(row.value(at: index), expected[column.name], column.name)
        }
    }

    func testCanonicalJSONColumnsParseBack() throws {
        let (row, _) = F.row(.track, "users%5Bshop_manager%5D=1&users%5B%22odd%5Crole%22%5D=2&plugins%5Bx%22y%5D%5Bname%5D=Q%22"
                                   + "&extra%5Bstore_currency%5D=%E2%82%AC%0Aline")
        for json in [row.users, row.plugins, row.extra] {
            let text = try XCTUnwrap(json)
            let reparsed = try JSONParser.parse(text)
            XCTAssertEqual(JSONWriter.string(reparsed), text, "already canonical compact JSON")
        }
        XCTAssertEqual(row.extra, #"{"store_currency":"€\nline"}"#)
    }
}
