//! Build-time work for the firmware:
//! - memory.x where the linker finds it, and cortex-m-rt's link.x;
//! - the site table: every file of the repository's `site/` compiled in, with its ETag (the
//!   xxh3-128 of its bytes, as the std server computes it), media type and modification time;
//! - the serving policy (`staticd_firmware::policy::POLICY`) as a postcard blob, read from flash
//!   at start-up.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
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
    let mut files = Vec::new();
    collect(&site, &site, &mut files);
    files.sort();

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let mut table = String::new();
    writeln!(table, "/// The files of site/, compiled in.").unwrap();
    writeln!(table, "pub static FILES: &[staticd_core::StaticFile] = &[").unwrap();
    let mut newest = 0;
    for (relative, path) in &files {
        let bytes = std::fs::read(path).expect("read a site file");
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(now, |d| d.as_secs());
        newest = newest.max(modified);
        let etag = format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(&bytes));
        writeln!(
            table,
            "    staticd_core::StaticFile {{ path: {relative:?}, body: include_bytes!({:?}), \
             etag: {etag:?}, last_modified: {modified}, content_type: {:?} }},",
            path.display().to_string(),
            staticd_core::mime_for_path(relative),
        )
        .unwrap();
    }
    writeln!(table, "];").unwrap();
    // The device has no real-time clock: its clock starts at the build's time (never before the
    // newest file, so no Last-Modified is in the future of Date).
    writeln!(
        table,
        "/// Unix seconds when the device boots.\npub const CLOCK_START_UNIX: u64 = {};",
        now.max(newest)
    )
    .unwrap();
    std::fs::write(out.join("site.rs"), table).expect("write site.rs");

    let blob = PolicyBlob::from_policy(&POLICY).expect("the device policy fits a PolicyBlob");
    let bytes = postcard::to_allocvec(&blob).expect("serialise the policy");
    std::fs::write(out.join("policy.postcard"), bytes).expect("write policy.postcard");
}

/// Every regular file below `dir`, as (path relative to `root` with `/`, absolute path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).expect("read a site directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.is_file() {
            let relative = path.strip_prefix(root).expect("below the root");
            let relative: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push((relative.join("/"), path));
        }
    }
}
