//! The firmware's own code has no panic path: of the release binary's call sites of panic
//! functions (found by `scripts/firmware-size.sh --panic-sites` from the disassembly and the debug
//! line table, inlining included), none is in `staticd-firmware` or the device binary. The
//! sites that remain belong to smoltcp, staticd-core and Rust's core library, and the README's
//! firmware section lists them.

mod support;

use std::process::Command;
use support::*;

#[test]
fn no_panic_call_site_is_in_the_firmware_code() {
    // The script builds the same release binary the other tests boot.
    firmware_elf();
    let output = Command::new("bash")
        .arg(repo_root().join("scripts").join("firmware-size.sh"))
        .arg("--panic-sites")
        .current_dir(repo_root())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run scripts/firmware-size.sh --panic-sites");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "firmware-size.sh --panic-sites failed:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sites: Vec<&str> = text.lines().filter(|line| line.contains(" x ")).collect();
    assert!(
        text.contains("panic call sites in staticd-device") && !sites.is_empty()
            || text.contains("no panic call site left"),
        "the analysis ran: {text}"
    );
    let ours: Vec<&&str> = sites
        .iter()
        .filter(|line| {
            let crate_name = line.trim_start();
            ["staticd-firmware", "driver (lan9118)", "device binary"]
                .iter()
                .any(|name| crate_name.starts_with(name))
        })
        .collect();
    assert!(
        ours.is_empty(),
        "panic paths in the firmware's own code: {ours:#?}"
    );
}
