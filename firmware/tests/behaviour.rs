//! The HTTP behaviour suite every runtime passes (core/tests/support/behaviour.rs: the core's
//! drivers in memory, the `staticd` binary over TCP) against the firmware in QEMU, over real TCP
//! through QEMU's user network, with the device's own limits. Nothing is skipped: the suite needs
//! only what a device serves (files, validators, ranges, errors, limits, keep-alive, pipelining);
//! the device's timers and several clients at once are checked in tests/device.rs.

mod support;

use std::io::{Read, Write};

#[path = "../../core/tests/support/behaviour.rs"]
mod suite;

struct Qemu<'a>(&'a support::Device);

impl suite::Peer for Qemu<'_> {
    fn exchange(&mut self, request: &[u8]) -> Vec<u8> {
        let mut stream = self.0.connect();
        stream.write_all(request).expect("send to the device");
        let mut answer = Vec::new();
        // Every case ends with a request the device answers with a close; a device that keeps
        // the connection open fails here after the read timeout, naming what it had sent.
        if let Err(e) = stream.read_to_end(&mut answer) {
            panic!(
                "no close after {} answer bytes to a {}-byte request: {e}\n{}",
                answer.len(),
                request.len(),
                String::from_utf8_lossy(&answer)
            );
        }
        answer
    }
}

#[test]
fn the_device_passes_the_behaviour_suite() {
    let device = support::Device::boot();
    let site = support::repo_root().join("site");
    let target = suite::Target {
        root: &site,
        max_request_bytes: 2048,
        server: "staticd-device",
    };
    let cases = suite::run(&target, &mut Qemu(&device));
    assert!(cases >= 25, "{cases} cases");
    device.assert_healthy();
}
