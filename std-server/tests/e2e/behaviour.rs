//! The HTTP behaviour suite shared by every runtime (core/tests/support/behaviour.rs), against
//! the `staticd` binary serving the bundled `site/` over TCP. The core's drivers pass the same
//! suite in memory (core/tests/behaviour.rs), and the firmware over QEMU's network.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::common::{Server, repo_root};

#[path = "../../../core/tests/support/behaviour.rs"]
mod suite;

struct Tcp(SocketAddr);

impl suite::Peer for Tcp {
    fn exchange(&mut self, request: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect(self.0).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(request).expect("send");
        let mut answer = Vec::new();
        // Every case ends with a request the server answers with a close.
        let _ = stream.read_to_end(&mut answer);
        answer
    }
}

#[test]
fn the_binary_passes_the_behaviour_suite() {
    let site = repo_root().join("site");
    let server = Server::builder()
        .arg("--root")
        .arg(site.to_str().expect("a UTF-8 path"))
        .start();
    let target = suite::Target {
        root: &site,
        max_request_bytes: 8192,
        server: "staticd",
    };
    suite::run(&target, &mut Tcp(server.addr()));
}
