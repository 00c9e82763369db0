//! The same `Config` read from TOML (the std server) and from a postcard blob (a device).
//!
//! Needs the `serde` feature, which the crate's dev-dependency on itself turns on for every test
//! build, so `cargo test -p staticd-core` always runs it.

use staticd_core::config::{self, Config, Seconds, Symlinks};

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

fn postcard_round_trip(c: &Config) -> Config {
    let mut buf = vec![0u8; 64 * 1024];
    let used = config::to_postcard(c, &mut buf).expect("fits").len();
    config::from_postcard(&buf[..used]).expect("decodes")
}

#[test]
fn toml_to_postcard_and_back_is_equal() {
    let from_toml: Config = toml::from_str(FULL).expect("valid TOML config");
    assert_eq!(from_toml.validate(), Ok(()));

    assert_eq!(from_toml.server.host.as_str(), "0.0.0.0");
    assert_eq!(from_toml.server.port, 0);
    assert_eq!(from_toml.server.threads, Some(2));
    assert_eq!(
        from_toml.server.keepalive_timeout,
        Seconds::from_millis(2500)
    );
    assert_eq!(from_toml.server.header_timeout, Seconds::from_secs(3));
    assert_eq!(from_toml.files.follow_symlinks, Symlinks::Never);
    assert!(!from_toml.files.deny_dotfiles);
    assert_eq!(from_toml.files.allowed_extensions.len(), 3);
    assert_eq!(from_toml.rules.len(), 2);
    assert_eq!(from_toml.rules[0].pattern.as_str(), "*.html");
    assert!(from_toml.rules[0].headers.is_empty());
    let headers: Vec<(&str, &str)> = from_toml.rules[1]
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert!(headers.contains(&("Access-Control-Allow-Origin", "*")));
    assert!(headers.contains(&("X-Content-Type-Options", "nosniff")));
    assert_eq!(headers.len(), 2);

    assert_eq!(postcard_round_trip(&from_toml), from_toml);
}

#[test]
fn toml_written_back_reads_the_same() {
    let from_toml: Config = toml::from_str(FULL).expect("valid TOML config");
    let text = toml::to_string(&from_toml).expect("serializes");
    let again: Config = toml::from_str(&text).expect("re-reads");
    assert_eq!(again, from_toml);
}

#[test]
fn empty_file_gives_the_defaults() {
    let c: Config = toml::from_str("").expect("empty is valid");
    assert_eq!(c, Config::default());
    let c: Config = toml::from_str("[server]\n[files]\n[log]\n").expect("empty tables are valid");
    assert_eq!(c, Config::default());
    assert_eq!(postcard_round_trip(&c), c);
}

#[test]
fn one_key_leaves_the_others_at_default() {
    let c: Config = toml::from_str("[server]\nport = 9000\n").expect("valid");
    let mut expected = Config::default();
    expected.server.port = 9000;
    assert_eq!(c, expected);
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
        assert_eq!(c.server.keepalive_timeout.as_millis(), millis, "{text}");
        assert_eq!(c.server.header_timeout.as_millis(), millis, "{text}");
        assert_eq!(postcard_round_trip(&c), c, "{text}");
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
fn wrong_types_and_overlong_values_are_refused() {
    for doc in [
        "[server]\nport = \"8080\"\n",
        "[server]\nport = 70000\n",
        "[server]\nthreads = -1\n",
        "[files]\ndeny_dotfiles = \"yes\"\n",
        "[files]\nfollow_symlinks = \"sometimes\"\n",
        "[[rules]]\ncache_control = \"no-cache\"\n",
    ] {
        assert!(toml::from_str::<Config>(doc).is_err(), "{doc}");
    }
    let long_host = format!("[server]\nhost = \"{}\"\n", "h".repeat(65));
    assert!(toml::from_str::<Config>(&long_host).is_err());
    let many = (0..9)
        .map(|i| format!("\"X-H{i}\" = \"v\""))
        .collect::<Vec<_>>()
        .join(", ");
    let doc = format!("[[rules]]\npattern = \"*\"\nheaders = {{ {many} }}\n");
    assert!(
        toml::from_str::<Config>(&doc).is_err(),
        "nine headers exceed the capacity of eight"
    );
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
fn corrupt_postcard_is_an_error() {
    let c = Config::default();
    let mut buf = vec![0u8; 4096];
    let used = config::to_postcard(&c, &mut buf).expect("fits").len();
    assert!(config::from_postcard(&buf[..used / 2]).is_err());
    let mut small = [0u8; 16];
    assert!(config::to_postcard(&c, &mut small).is_err());
}
