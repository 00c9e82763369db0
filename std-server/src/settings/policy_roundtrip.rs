//! The same serving policy read from the TOML settings (the std server) and from a postcard blob (a
//! device): settings -> [`Policy`] -> [`PolicyBlob`] as postcard -> [`Policy`], equal, and both
//! validated by the core's one check.

use staticd_core::policy::{ErrorPage, HeaderRule, Policy, PolicyBlob};

use super::{Config, Seconds, Symlinks};
use crate::policy::PolicyLists;

const FULL: &str = r#"
[server]
host = "0.0.0.0"
port = 0
root = "site"
max_request_bytes = 16384
threads = 2
keepalive_timeout = 2.5
keepalive_requests = 100
header_timeout = 3
server_name = "staticd/0.1"
max_connections = 20000

[files]
allowed_extensions = [".html", ".css", ".bin"]
index_files = ["index.html", "index.htm"]
follow_symlinks = "never"
deny_dotfiles = false
dotfile_exceptions = [".well-known", ".hidden-ok"]
error_pages = { 404 = "errors/404.html" }
fallback = "app.html"
directory_listing = true
listing_page_entries = 25
cache_defaults = false

[log]
access_log = "/var/log/staticd/access.log"
error_log = "-"

[[rules]]
pattern = "*.html"
cache_control = "no-cache"

[[rules]]
pattern = "assets/**"
cache_control = "public, max-age=31536000, immutable"
headers = { "Access-Control-Allow-Origin" = "*", "X-Content-Type-Options" = "nosniff" }
"#;

/// The policy through a postcard blob and back, validated on the way in as a device does.
fn through_a_blob(policy: &Policy<'_>, check: impl FnOnce(Policy<'_>)) {
    let mut buf = vec![0u8; 64 * 1024];
    let blob = PolicyBlob::from_policy(policy).expect("fits a blob");
    let bytes = postcard::to_slice(&blob, &mut buf).expect("fits the buffer");
    let read = PolicyBlob::from_bytes(bytes).expect("decodes");
    assert_eq!(read.policy().validate(), Ok(()));
    check(read.policy());
}

#[test]
fn toml_to_policy_to_postcard_and_back_is_equal() {
    let settings: Config = toml::from_str(FULL).expect("valid TOML settings");
    assert_eq!(settings.validate(), Ok(()));

    assert_eq!(settings.server.host, "0.0.0.0");
    assert_eq!(settings.server.port, 0);
    assert_eq!(settings.server.threads, Some(2));
    assert_eq!(settings.server.max_connections, 20_000);
    assert_eq!(settings.files.follow_symlinks, Symlinks::Never);
    assert_eq!(settings.log.access_log, "/var/log/staticd/access.log");

    let lists = PolicyLists::new(&settings);
    let policy = lists.policy();
    let rules = [
        HeaderRule::new("*.html", Some("no-cache"), []),
        HeaderRule::new(
            "assets/**",
            Some("public, max-age=31536000, immutable"),
            [
                ("Access-Control-Allow-Origin", "*"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        ),
    ];
    let expected = Policy {
        server_name: "staticd/0.1",
        max_request_bytes: 16_384,
        header_timeout_ms: 3000,
        keepalive_timeout_ms: 2500,
        keepalive_requests: 100,
        allowed_extensions: &[".html", ".css", ".bin"],
        index_files: &["index.html", "index.htm"],
        deny_dotfiles: false,
        dotfile_exceptions: &[".well-known", ".hidden-ok"],
        rules: &rules,
        error_pages: &[ErrorPage {
            status: 404,
            path: "errors/404.html",
        }],
        fallback: Some("app.html"),
        listing: true,
        listing_page_entries: 25,
        cache_defaults: false,
    };
    assert_eq!(policy, expected);
    through_a_blob(&policy, |read| assert_eq!(read, expected));
}

#[test]
fn empty_settings_give_the_default_policy_through_a_blob() {
    for doc in ["", "[server]\n[files]\n[log]\n"] {
        let settings: Config = toml::from_str(doc).expect("empty is valid");
        let lists = PolicyLists::new(&settings);
        assert_eq!(lists.policy(), Policy::DEFAULT);
        through_a_blob(&lists.policy(), |read| assert_eq!(read, Policy::DEFAULT));
    }
}

#[test]
fn seconds_accept_integer_and_fraction() {
    for (text, millis) in [
        ("5", 5000),
        ("5.0", 5000),
        ("0.5", 500),
        ("0.1", 100),
        ("3600", 3_600_000),
        ("1e1", 10_000),
    ] {
        let doc = format!("[server]\nkeepalive_timeout = {text}\nheader_timeout = {text}\n");
        let c: Config = toml::from_str(&doc).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(c.server.keepalive_timeout, Seconds::from_millis(millis));
        assert_eq!(c.server.header_timeout.as_millis(), millis, "{text}");
        let lists = PolicyLists::new(&c);
        through_a_blob(&lists.policy(), |read| {
            assert_eq!(read.keepalive_timeout_ms, millis, "{text}");
            assert_eq!(read.header_timeout_ms, millis, "{text}");
        });
    }
}

#[test]
fn out_of_range_seconds_parse_but_fail_validation_by_name() {
    let c: Config = toml::from_str("[server]\nheader_timeout = 0.05\n").expect("parses");
    assert_eq!(
        c.validate().map_err(|e| e.key),
        Err("server.header_timeout")
    );
    let c: Config = toml::from_str("[server]\nkeepalive_timeout = 99999999999\n").expect("parses");
    assert_eq!(
        c.validate().map_err(|e| e.key),
        Err("server.keepalive_timeout")
    );
}

#[test]
fn negative_or_non_numeric_seconds_are_refused() {
    for bad in ["-1", "-0.5", "\"5\"", "true", "nan"] {
        let doc = format!("[server]\nheader_timeout = {bad}\n");
        let e = toml::from_str::<Config>(&doc).expect_err(bad);
        assert!(e.to_string().contains("header_timeout"), "{bad}: {e}");
    }
}

#[test]
fn unknown_keys_are_refused_at_every_level() {
    for doc in [
        "colour = 1\n",
        "[server]\nprot = 8080\n",
        "[files]\nallowed_extension = [\".html\"]\n",
        "[log]\naccess = \"-\"\n",
        "[[rules]]\npattern = \"*\"\ncache = \"no-cache\"\n",
        "[extra]\n",
    ] {
        let e = toml::from_str::<Config>(doc).expect_err(doc);
        assert!(e.to_string().contains("unknown field"), "{doc}: {e}");
    }
}

#[test]
fn wrong_types_are_refused() {
    for doc in [
        "[server]\nport = \"8080\"\n",
        "[server]\nport = 70000\n",
        "[server]\nthreads = -1\n",
        "[files]\ndeny_dotfiles = \"yes\"\n",
        "[files]\nfollow_symlinks = \"sometimes\"\n",
        "[log]\nformat = \"xml\"\n",
        "[[rules]]\ncache_control = \"no-cache\"\n",
        "[files]\nerror_pages = [\"404.html\"]\n",
        "[files]\nerror_pages = { 404 = 1 }\n",
        "[files]\nfallback = true\n",
        "[files]\ndirectory_listing = \"yes\"\n",
        "[files]\nlisting_page_entries = -1\n",
        "[files]\ncache_defaults = 1\n",
    ] {
        assert!(toml::from_str::<Config>(doc).is_err(), "{doc}");
    }
}

#[test]
fn validation_catches_what_types_cannot() {
    let c: Config =
        toml::from_str("[files]\nallowed_extensions = [\".html\", \"css\"]\n").expect("parses");
    let e = c.validate().expect_err("css has no dot");
    assert_eq!((e.key, e.index), ("files.allowed_extensions", Some(1)));
    assert!(e.to_string().starts_with("files.allowed_extensions[1]: "));

    let c: Config = toml::from_str(
        "[[rules]]\npattern = \"*\"\nheaders = { \"X-Bad\" = \"a\\r\\nSet-Cookie: x\" }\n",
    )
    .expect("parses");
    assert_eq!(c.validate().map_err(|e| e.key), Err("rules.headers"));

    let c: Config = toml::from_str("[server]\nmax_request_bytes = 512\n").expect("parses");
    assert_eq!(
        c.validate().map_err(|e| e.key),
        Err("server.max_request_bytes")
    );
}

#[test]
fn a_corrupt_blob_is_an_error() {
    let settings: Config = toml::from_str(FULL).expect("valid TOML settings");
    let lists = PolicyLists::new(&settings);
    let blob = PolicyBlob::from_policy(&lists.policy()).expect("fits a blob");
    let mut buf = vec![0u8; 4096];
    let used = postcard::to_slice(&blob, &mut buf).expect("fits").len();
    for cut in 0..used {
        assert!(PolicyBlob::from_bytes(&buf[..cut]).is_err(), "cut at {cut}");
    }
    let mut small = [0u8; 16];
    assert!(postcard::to_slice(&blob, &mut small).is_err());
}
