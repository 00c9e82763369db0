//! The helper library's own parsers accept what they should and refuse the rest: a test that
//! trusts them trusts this.

use crate::common::server::merge_config;
use crate::common::*;

#[test]
fn harness_parsers_accept_and_refuse() {
    assert_eq!(
        parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777)
    );
    assert_eq!(parse_imf_fixdate("Mon, 06 Nov 1994 08:49:37 GMT"), None);
    assert_eq!(parse_imf_fixdate("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    assert_eq!(
        parse_clf_time("06/Nov/1994:08:49:37 +0000"),
        Some(784_111_777)
    );
    assert_eq!(
        parse_clf_time("06/Nov/1994:10:49:37 +0200"),
        Some(784_111_777)
    );
    let line =
        r#"127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET /a\"b HTTP/1.1" 200 12 "-" "ua\\x""#;
    let parsed = parse_access_line(line).expect("valid line");
    assert_eq!(parsed.request, r#"GET /a\"b HTTP/1.1"#);
    assert_eq!(parsed.user_agent, r"ua\\x");
    assert!(parse_access_line(&format!("{line} ")).is_none());
    assert!(parse_access_line(&line.replace("200", "20")).is_none());
    assert_eq!(
        parse_ready_line("staticd listening on http://127.0.0.1:4321/"),
        Some(4321)
    );
    assert_eq!(
        parse_ready_line("staticd listening on http://127.0.0.1:4321"),
        None
    );
    assert!(
        merge_config("[server]\nport = 5\n", &[("server", "port", "0".into())])
            .contains("port = 5")
    );
    assert!(
        merge_config("[log]\n", &[("server", "port", "0".into())]).contains("[server]\nport = 0")
    );
}
