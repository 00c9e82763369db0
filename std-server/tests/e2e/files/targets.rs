//! A request-target selects a file by its path alone (RFC 9112 §3.2): the absolute form's
//! authority, percent-encoding (RFC 3986 §2.1) and the query do not change which file.

use crate::common::fixtures::A;
use crate::common::*;

#[test]
fn absolute_form_and_percent_encoded_names_select_the_file_by_path() {
    let server = Server::builder()
        .file("a.txt", A)
        .file("my file.txt", b"with a space")
        .file("caf\u{e9}.txt", b"accented")
        .start();
    let host = server.host();
    // RFC 9112 §3.2.2: the authority in an absolute-form target replaces Host; the file is the path.
    let r = server.request(
        format!("GET http://other.test/a.txt HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    );
    assert_eq!((r.status, r.body.as_slice()), (200, A), "absolute-form");
    let r = server.get("/my%20file.txt");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"with a space"[..]));
    let r = server.get("/caf%C3%A9.txt");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"accented"[..]));
    let r = server.get("/%61.txt");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, A),
        "an encoded unreserved letter"
    );
    let r = server.get("/./a.txt");
    assert!(
        (r.status == 200 && r.body == A) || r.status == 400,
        "a dot-segment that stays inside the root: {}",
        r.status
    );
}
