/// The vocabulary of generated sites: what real WordPress installs report, with shares
/// that roughly follow public WordPress statistics (en_US dominant, PHP 8.x majority,
/// MariaDB common, a long tail of everything).
enum GeneratorCatalog {
    // MARK: Projects

    static let projectIDs = [
        "acme-seo", "nimbus-forms", "tundra-theme", "orbit-backup", "lumen-cache", "quill-blocks",
        "harbor-shop", "aurora-theme", "sprout-crm", "beacon-analytics", "cobalt-security", "meadow-events",
    ]
    static let projectNames = [
        "Acme SEO", "Nimbus Forms", "Tundra Theme", "Orbit Backup", "Lumen Cache", "Quill Blocks",
        "Harbor Shop", "Aurora Theme", "Sprout CRM", "Beacon Analytics", "Cobalt Security", "Meadow Events",
    ]
    /// Declared extra fields by type; each project declares a couple of each.
    static let extraIntKeys = ["total_posts", "total_orders", "total_forms", "total_products"]
    static let extraStringKeys = ["store_currency", "page_builder", "license_plan"]
    static let extraFloatKeys = ["conversion_rate", "avg_rating", "cache_hit_ratio"]
    static let extraBoolKeys = ["pro_active", "wizard_completed", "cdn_enabled"]
    /// Keys some sites send that no project declares (dropped by normalization).
    static let undeclaredExtraKeys = ["debug_token", "license_hint", "install_source"]
    static let customReasons = ["too-expensive", "switched-to-pro", "temporary-debugging", "missing-integration",
                                "conflicts-with-theme"]
    /// Reasons sites send that no project defines (NULL after normalization).
    static let unknownReasons = ["switched-hosting", "temporary", "Other", "not-needed-anymore"]
    static let builtInReasons = ["could-not-understand", "found-better-plugin", "not-have-that-feature",
                                 "is-not-working", "looking-for-other", "did-not-work-as-expected", "other"]
    static let builtInReasonWeights: [Double] = [6, 14, 18, 16, 8, 14, 12]
    static let reasonTexts = ["", "", "", "Too slow on my host", "Switched to another plugin",
                              "Needed WooCommerce integration", "Only testing", "Broke my checkout page",
                              "  Will come back later  ", "Too complicated for my needs", "Pricing"]

    // MARK: SDK clients

    static let clientVersions = ["2.0.4", "2.0.3", "2.0.2", "1.2.4", "1.2.2", "1.2.1", "1.1.12", "1.1.11", "1.1.9", "1.2.3"]
    static let clientWeights: [Double] = [34, 15, 10, 10, 7, 6, 5, 5, 4, 4]

    // MARK: Environment

    /// (minor, patch releases); a site's PHP "level" is the index here.
    static let phpVersions: [(minor: String, patches: [String])] = [
        ("7.4", ["7.4.33", "7.4.3-4ubuntu2.19", "7.4.30"]),
        ("8.0", ["8.0.30", "8.0.28"]),
        ("8.1", ["8.1.27", "8.1.2-1ubuntu2.14", "8.1.29"]),
        ("8.2", ["8.2.15", "8.2.20", "8.2.7"]),
        ("8.3", ["8.3.2", "8.3.8", "8.3.14"]),
    ]
    /// PHP shares at the start and at the end of the generated range (upgrades drift between them).
    static let phpWeightsAtStart: [Double] = [30, 15, 30, 20, 5]
    static let phpWeightsAtEnd: [Double] = [12, 8, 25, 30, 25]
    /// WordPress releases in order; the newest one available moves forward over the range.
    static let wpVersions = ["6.0.3", "6.1.1", "6.2.2", "6.3.2", "6.4.2", "6.4.3", "6.5.2", "6.5.5",
                             "6.6.1", "6.6.2", "6.7.1", "6.7.2", "6.8.1"]
    static let mysqlVersions = ["8.0.36", "8.0.40", "5.7.44", "10.6.12-MariaDB", "10.11.6-MariaDB", "10.4.32",
                                "5.5.5-10.6.16-MariaDB", "11.4.2-MariaDB", "8.4.0", "5.6.51"]
    static let mysqlWeights: [Double] = [22, 12, 14, 14, 10, 6, 8, 4, 6, 2]
    static let serverSoftware = ["Apache", "nginx/1.24.0", "Apache/2.4.41 (Ubuntu)", "LiteSpeed", "nginx/1.21.0",
                                 "Apache/2.4.57 (Debian)", "Microsoft-IIS/10.0"]
    static let serverWeights: [Double] = [25, 20, 15, 18, 10, 8, 1]
    static let uploadSizes = ["2 MB", "8 MB", "32 MB", "64 MB", "128 MB", "256 MB", "512 MB", "1 GB"]
    static let uploadWeights: [Double] = [8, 6, 8, 20, 22, 12, 18, 6]
    static let timezones = ["UTC", "UTC", "UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/Paris",
                            "America/Sao_Paulo", "Asia/Kolkata", ""]
    static let memoryLimits = ["40M", "64M", "128M", "256M", "512M", "1G"]
    static let memoryWeights: [Double] = [30, 10, 20, 25, 12, 3]
    static let locales = ["en_US", "de_DE", "fr_FR", "es_ES", "ja", "pt_BR", "it_IT", "nl_NL", "en_GB", "ru_RU",
                          "de_DE_formal", "pl_PL", "tr_TR", "sv_SE", "id_ID", "zh_CN", "en_AU", "es_MX", "ko_KR", ""]
    static let localeWeights: [Double] = [50, 9, 6, 6, 4, 5, 3, 3, 3, 2, 1, 1.5, 1.2, 0.8, 1, 1.5, 1, 1, 0.6, 0.4]
    /// Top-level domains matching the locale list's order, for plausible hosts.
    static let localeTLDs = ["com", "de", "fr", "es", "jp", "com.br", "it", "nl", "co.uk", "ru",
                             "de", "pl", "com.tr", "se", "co.id", "cn", "com.au", "mx", "kr", "net"]

    static let themes: [(slug: String, name: String, version: String, uri: String, author: String)] = [
        ("astra", "Astra", "4.6.4", "https://wpastra.com/", "Brainstorm Force"),
        ("storefront", "Storefront", "4.5.4", "https://woocommerce.com/storefront/", "Automattic"),
        ("generatepress", "GeneratePress", "3.4.0", "https://generatepress.com", "Tom Usborne"),
        ("kadence", "Kadence", "1.1.51", "https://www.kadencewp.com/kadence-theme/", "Kadence WP"),
        ("twentytwentyfour", "Twenty Twenty-Four", "1.1", "https://wordpress.org/themes/twentytwentyfour/", "the WordPress team"),
        ("hello-elementor", "Hello Elementor", "3.0.1", "https://elementor.com/hello-theme/", "Elementor Team"),
        ("oceanwp", "OceanWP", "3.5.4", "https://oceanwp.org/", "OceanWP"),
        ("astra-child", "Astra Child", "1.0.0", "", "Agency"),
        ("Divi", "Divi", "4.24.2", "http://www.elegantthemes.com", "Elegant Themes"),
        ("blocksy", "Blocksy", "2.0.22", "https://creativethemes.com/blocksy/", "CreativeThemes"),
    ]
    static let themeWeights: [Double] = [20, 12, 10, 8, 10, 14, 6, 5, 8, 7]

    static let plugins: [(slug: String, name: String, versions: [String])] = [
        ("woocommerce", "WooCommerce", ["8.4.0", "8.5.1", "8.6.1", "9.0.2", "9.3.3"]),
        ("elementor", "Elementor", ["3.18.3", "3.19.2", "3.21.5", "3.24.7"]),
        ("contact-form-7", "Contact Form 7", ["5.8.4", "5.9.3", "5.9.8"]),
        ("wordpress-seo", "Yoast SEO", ["21.7", "22.0", "22.8", "23.5"]),
        ("akismet", "Akismet Anti-spam: Spam Protection", ["5.3", "5.3.1", "5.3.3"]),
        ("jetpack", "Jetpack", ["13.0", "13.4", "13.9"]),
        ("wpforms-lite", "WPForms Lite", ["1.8.5.4", "1.8.7.2", "1.9.1.3"]),
        ("classic-editor", "Classic Editor", ["1.6.3", "1.6.5"]),
        ("updraftplus", "UpdraftPlus - Backup/Restore", ["1.23.16", "1.24.1", "1.24.6"]),
        ("litespeed-cache", "LiteSpeed Cache", ["6.0.0.1", "6.2.0.1", "6.5.1"]),
        ("really-simple-ssl", "Really Simple SSL", ["7.2.2", "8.1.4", "9.0.2"]),
        ("wordfence", "Wordfence Security", ["7.11.1", "7.11.5", "8.0.0"]),
        ("all-in-one-seo-pack", "All in One SEO", ["4.5.3", "4.6.2", "4.7.3"]),
        ("wp-mail-smtp", "WP Mail SMTP", ["3.11.1", "4.0.1", "4.1.1"]),
        ("redirection", "Redirection", ["5.4.1", "5.4.2", "5.5.0"]),
        ("duplicate-post", "Yoast Duplicate Post", ["4.5"]),
        ("wp-super-cache", "WP Super Cache", ["1.11.0", "1.12.4"]),
        ("advanced-custom-fields", "Advanced Custom Fields", ["6.2.5", "6.3.1", "6.3.9"]),
        ("mailchimp-for-wp", "MC4WP: Mailchimp for WordPress", ["4.9.10", "4.9.17"]),
        ("woocommerce-payments", "WooPayments", ["7.0.0", "7.9.2", "8.3.1"]),
    ]

    static let roles = ["administrator", "editor", "author", "contributor", "subscriber", "customer", "shop_manager"]

    // MARK: People and names

    static let firstNames = ["Jane", "John", "Maria", "Ahmed", "Yuki", "Lukas", "Chloé", "Sofia", "Rahul", "Ana",
                             "Wei", "Olga", "Mateo", "Emma", "Noah", "Fatima", "Kenji", "Lea", "Carlos", "Ines"]
    static let lastNames = ["Doe", "Smith", "Müller", "García", "Rossi", "Tanaka", "Silva", "Dubois", "Kowalski",
                            "Nguyen", "Johnson", "Schmidt", "Martin", "Sato", "Costa", "Khan", "Ivanova", "Lee"]
    static let hostWords = ["blue", "peak", "bakery", "studio", "green", "shop", "atelier", "north", "pixel", "cafe",
                            "garden", "craft", "urban", "yoga", "travel", "tech", "photo", "music", "kaffee",
                            "maison", "bio", "sun", "river", "stone", "digital", "legal", "dental", "auto", "pet",
                            "wine", "book", "home", "fit", "art", "code", "media", "print", "farm", "wood", "lab"]
    static let mailDomains = ["gmail.com", "outlook.com", "yahoo.com", "web.de", "orange.fr", "icloud.com"]
}
