//! Small sites several feature groups serve. Not glob-exported: a test names what it uses
//! (`use crate::common::fixtures::{self, A, B};`), so a module's own constants never clash.

use super::server::Server;

pub const A: &[u8] = b"file a\n";
pub const B: &[u8] = b"file b, a little longer\n";

/// `a.txt` ([`A`]), `b.txt` ([`B`], longer) and an index page.
pub fn server() -> Server {
    Server::builder()
        .file("a.txt", A)
        .file("b.txt", B)
        .file("index.html", b"<p>index</p>")
        .start()
}

pub const INDEX: &[u8] = b"<!doctype html><title>home</title><p>home page</p>\n";
pub const DOCS_INDEX: &[u8] = b"<!doctype html><title>docs</title><p>the docs</p>\n";

/// An index, a docs directory with its own index, a stylesheet, and two files whose extensions are
/// not allowed (`tool.exe`, `Makefile`).
pub fn site_files() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("index.html", INDEX),
        ("docs/index.html", DOCS_INDEX),
        ("style.css", b"body { color: red }\n"),
        ("tool.exe", b"MZ not for you"),
        ("Makefile", b"all:\n"),
    ]
}
