"""The benchmark body: a realistic client 2.0.4 /track form (http_build_query encoding), ~2.3 KB.
Usage: body.py PROJECT_HASH > body.txt"""
import sys, urllib.parse
h = sys.argv[1]
pairs = [("url","https://shop.example.com"),("site","My Shop"),("admin_email","owner@example.com"),("first_name","Jane"),
 ("last_name","Doe"),("hash",h),("server[software]","Apache/2.4.41 (Ubuntu)"),("server[php_version]","8.1.27"),
 ("server[mysql_version]","10.6.12"),("server[php_max_upload_size]","512 MB"),("server[php_default_timezone]","UTC"),
 ("server[php_soap]","Yes"),("server[php_fsockopen]","Yes"),("server[php_curl]","Yes"),("wp[memory_limit]","256M"),
 ("wp[debug_mode]","No"),("wp[locale]","en_US"),("wp[version]","6.4.2"),("wp[multisite]","No"),("wp[theme_slug]","storefront"),
 ("wp[theme_name]","Storefront"),("wp[theme_version]","4.5.0"),("wp[theme_uri]","https://woocommerce.com/storefront/"),
 ("wp[theme_author]","Automattic"),("users[total]","10"),("users[administrator]","1"),("users[customer]","9"),
 ("active_plugins","14"),("inactive_plugins","3"),("ip_address","203.0.113.7"),("project_version","1.7.2"),
 ("tracking_skipped","0"),("is_local","0"),("extra[total_posts]","42"),("client","2.0.4")]
for p in ["woocommerce","akismet","contact-form-7","wordpress-seo","elementor","jetpack","wpforms-lite","classic-editor",
          "really-simple-ssl","wp-mail-smtp","litespeed-cache","updraftplus","duplicate-post","redirection","wordfence"]:
    pairs += [(f"plugins[{p}][name]", p.replace("-"," ").title()), (f"plugins[{p}][version]", "8.5.1")]
sys.stdout.write(urllib.parse.urlencode(pairs))
