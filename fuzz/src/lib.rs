//! Helpers shared by the staticd-core fuzz targets in `fuzz_targets/`.

// The oracle and its table of allowed disagreements are shared with the differential proptest in
// core/tests/differential.rs, so the two can never drift apart.
#[path = "../../core/tests/support/differential.rs"]
pub mod differential;

/// True when `inner` lies entirely within `outer` (by address), as a borrowed slice must.
pub fn within(outer: &[u8], inner: &[u8]) -> bool {
    let outer_start = outer.as_ptr() as usize;
    let inner_start = inner.as_ptr() as usize;
    // An empty slice may dangle anywhere; it borrows no byte.
    inner.is_empty()
        || (inner_start >= outer_start
            && inner_start
                .checked_add(inner.len())
                .is_some_and(|end| end <= outer_start + outer.len()))
}
