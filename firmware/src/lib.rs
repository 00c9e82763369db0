//! staticd-firmware: the parts of the staticd device firmware that do not depend on the chip,
//! built and unit-tested on the host and linked into the bare-metal binary in `device/`.
//!
//! - [`lan9118`]: a polled driver for the board's Ethernet controller over a [`Registers`]
//!   trait, and its `smoltcp` device;
//! - [`net`]: the static address in QEMU's user network;
//! - [`policy`]: the serving policy the firmware is built with;
//! - [`serve`]: HTTP on the TCP sockets, one staticd-core driver per socket, and the access log;
//! - [`clock`]: the millisecond clock from the SysTick counter;
//! - [`stack`]: the stack high-water mark from the painted stack;
//! - [`line`]: the fixed-size buffer each log line is formatted into.
//!
//! The host tests build the binary, boot it in QEMU's `mps2-an386` board and talk to it over real
//! TCP: `tests/device.rs` (the site, validators, ranges, framing, concurrency, timeouts),
//! `tests/same_bytes.rs` (a request stream answered as the core's blocking driver answers it in
//! memory) and `tests/browser.rs` (headless Chromium); `tests/no_panic.rs` finds no panic call
//! site of this crate or the binary in the release build.
#![no_std]
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[cfg(test)]
extern crate std;

pub mod clock;
pub mod lan9118;
pub mod line;
pub mod net;
pub mod policy;
pub mod serve;
pub mod stack;

pub use lan9118::{Lan9118, Registers};
