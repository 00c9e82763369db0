//! The firmware in QEMU's mps2-an386 board, spoken to over real TCP from the host.

mod support;

use support::*;

#[test]
fn the_device_boots_and_answers_over_tcp() {
    let device = Device::boot();
    let response = get(&device, "/");
    assert_eq!(response.status, 200, "{}", response.head);
    device.assert_healthy();
}
