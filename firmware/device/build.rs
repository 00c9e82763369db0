//! Build-time work for the firmware:
//! - memory.x where the linker finds it, and cortex-m-rt's link.x;
//! - the site table (`staticd_core::build`): every file of the repository's `site/` compiled in,
//!   with its ETag (the xxh3-128 of its bytes, as the std server computes it), media type and
//!   modification time;
//! - the clock's starting point: the device has no real-time clock;
//! - the serving policy (`staticd_firmware::policy::POLICY`) as a postcard blob, read from flash
//!   at start-up.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use staticd_core::policy::PolicyBlob;
use staticd_firmware::policy::POLICY;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));

    std::fs::copy(manifest.join("memory.x"), out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");

    let site = manifest
        .join("../../site")
        .canonicalize()
        .expect("the repository's site/");
    println!("cargo:rerun-if-changed={}", site.display());
    let files = staticd_core::build::write_table(&site, &out.join("site.rs"), "FILES", |_| true)
        .expect("write the site table");
    for file in files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    // The clock starts at the build's time, or at SOURCE_DATE_EPOCH, which the table's
    // modification times then also are: no Last-Modified lies after the device's Date.
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let start = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("a clock after 1970")
                .as_secs()
        });
    std::fs::write(
        out.join("clock.rs"),
        format!(
            "/// Unix seconds when the device boots.\npub const CLOCK_START_UNIX: u64 = {start};\n"
        ),
    )
    .expect("write clock.rs");

    let blob = PolicyBlob::from_policy(&POLICY).expect("the device policy fits a PolicyBlob");
    let bytes = postcard::to_allocvec(&blob).expect("serialise the policy");
    std::fs::write(out.join("policy.postcard"), bytes).expect("write policy.postcard");
}
