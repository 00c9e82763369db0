//! Differential fuzzing (issue 5): staticd-core and httparse fed the same bytes. Where httparse
//! rejects a request as malformed, staticd-core rejects it too; where both accept, they read the
//! same method, target, version, fields and head length; every other disagreement must be a row of
//! the RFC 9112 table in `core/tests/support/differential.rs` (shared with the differential proptest).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(disagreement) = staticd_core_fuzz::differential::compare(data) {
        panic!("unlisted disagreement: {disagreement}");
    }
});
