//! The HTTP behaviour suite (tests/support/behaviour.rs) against the core's blocking-step
//! driver and its async driver, over an in-memory link, serving the bundled `site/` as a
//! compiled-in table with the default policy.

#[path = "support/behaviour.rs"]
mod behaviour;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::Path;

use staticd_core::drive::{self, Clock};
use staticd_core::policy::Policy;
use staticd_core::respond::Site;
use staticd_core::source::{StaticFile, StaticTable};

/// The client's bytes in, handed out a few at a time; the server's bytes out.
struct Link {
    rx: VecDeque<u8>,
    chunk: usize,
    tx: Vec<u8>,
}

impl embedded_io::ErrorType for Link {
    type Error = Infallible;
}

impl embedded_io::Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = self.chunk.min(buf.len()).min(self.rx.len());
        for slot in &mut buf[..n] {
            *slot = self.rx.pop_front().unwrap_or(0);
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for Link {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(true) // an empty queue is the client's end of stream
    }
}

impl embedded_io::Write for Link {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(512);
        self.tx.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl embedded_io::WriteReady for Link {
    fn write_ready(&mut self) -> Result<bool, Infallible> {
        Ok(true)
    }
}

impl embedded_io_async::Read for Link {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        embedded_io::Read::read(self, buf)
    }
}

impl embedded_io_async::Write for Link {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        embedded_io::Write::write(self, buf)
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// A clock past every file's modification time, so Last-Modified is never clamped.
struct Late;

impl Clock for Late {
    fn now(&mut self) -> (u64, u64) {
        (0, 4_000_000_000)
    }
}

impl drive::Timer for Late {
    async fn sleep_until(&mut self, _deadline_ms: u64) {}
}

fn site() -> (&'static Path, &'static [StaticFile]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .join("site");
    let root: &'static Path = Box::leak(root.into_boxed_path());
    (
        root,
        staticd_core::build::load_table(root, |_| true).expect("site/"),
    )
}

struct Blocking(&'static [StaticFile]);

impl behaviour::Peer for Blocking {
    fn exchange(&mut self, request: &[u8]) -> Vec<u8> {
        let mut source = StaticTable::new(self.0);
        let mut path_buf = vec![0u8; 8192 + 256];
        let mut site = Site {
            policy: &Policy::DEFAULT,
            source: &mut source,
            path_buf: &mut path_buf,
        };
        let mut link = Link {
            rx: request.iter().copied().collect(),
            chunk: 5,
            tx: Vec::new(),
        };
        let (mut input, mut output) = (vec![0u8; 8192], vec![0u8; 1536]);
        let mut log = |_: &drive::Record<'_>| {};
        drive::serve(
            &mut link,
            &mut input,
            &mut output,
            &mut site,
            &mut Late,
            &mut log,
            || {},
        )
        .expect("an in-memory link never fails");
        link.tx
    }
}

struct Async(&'static [StaticFile]);

impl behaviour::Peer for Async {
    fn exchange(&mut self, request: &[u8]) -> Vec<u8> {
        let mut source = StaticTable::new(self.0);
        let mut path_buf = vec![0u8; 8192 + 256];
        let mut site = Site {
            policy: &Policy::DEFAULT,
            source: &mut source,
            path_buf: &mut path_buf,
        };
        let mut link = Link {
            rx: request.iter().copied().collect(),
            chunk: 11,
            tx: Vec::new(),
        };
        let (mut input, mut output) = (vec![0u8; 8192], vec![0u8; 1536]);
        let mut log = |_: &drive::Record<'_>| {};
        block_on(drive::serve_async(
            &mut link,
            &mut input,
            &mut output,
            &mut site,
            &mut Late,
            &mut log,
        ))
        .expect("an in-memory link never fails");
        link.tx
    }
}

/// Polls a future to completion: the in-memory link is always ready.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn target(root: &Path) -> behaviour::Target<'_> {
    behaviour::Target {
        root,
        max_request_bytes: 8192,
        server: "staticd",
    }
}

#[test]
fn the_blocking_driver_passes_the_behaviour_suite() {
    let (root, table) = site();
    let cases = behaviour::run(&target(root), &mut Blocking(table));
    assert!(cases >= 25, "{cases} cases");
}

#[test]
fn the_async_driver_passes_the_behaviour_suite() {
    let (root, table) = site();
    behaviour::run(&target(root), &mut Async(table));
}
