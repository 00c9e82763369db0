//! The stack's high-water mark. The runtime paints the whole stack region with [`PAINT`] before
//! `main`; the stack grows down from the top, so the painted words left at the bottom are the
//! ones it never reached.

/// The word the runtime paints the stack with (cortex-m-rt's `paint-stack`).
pub const PAINT: u32 = 0xcccc_cccc;

/// How many bytes of the stack region were ever used: the region's words from the lowest address
/// up, the size of the region in bytes.
pub fn used_bytes(words_from_bottom: impl Iterator<Item = u32>, region_bytes: usize) -> usize {
    let untouched = words_from_bottom.take_while(|&word| word == PAINT).count();
    region_bytes.saturating_sub(untouched.saturating_mul(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_the_first_scrubbed_word() {
        // 6 words: 3 untouched, then the used part (which may hold a painted-looking word).
        let region = [PAINT, PAINT, PAINT, 7, PAINT, 1];
        assert_eq!(used_bytes(region.iter().copied(), 24), 12);
        assert_eq!(used_bytes([PAINT; 4].iter().copied(), 16), 0);
        assert_eq!(used_bytes([1u32; 4].iter().copied(), 16), 16);
    }
}
