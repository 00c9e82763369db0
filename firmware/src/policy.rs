//! The device's serving policy: the core's defaults with limits sized for a device and a header
//! timeout short enough for a test to see it. The firmware's build script stores it as a
//! postcard blob in flash, which the device decodes at start-up; the host tests hold the device's
//! answers against the core's blocking driver under this same policy.

use staticd_core::{HeaderRule, Policy};

/// `Cache-Control` for the images, which change only with a new firmware.
pub const RULES: &[HeaderRule<'static>] = &[HeaderRule::new("images/*", Some("max-age=3600"), [])];

/// The policy the firmware is built with.
pub const POLICY: Policy<'static> = Policy {
    server_name: "staticd-device",
    max_request_bytes: 2048,
    header_timeout_ms: 5_000,
    keepalive_timeout_ms: 5_000,
    keepalive_requests: 100,
    rules: RULES,
    ..Policy::DEFAULT
};
