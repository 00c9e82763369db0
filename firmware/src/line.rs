//! A fixed-size line buffer for the device's log: formatted text collects here and goes out to
//! the host in one write, cut short (and marked with `...`) if it does not fit.

use core::fmt;

/// A line of at most `N` bytes.
pub struct Line<const N: usize> {
    bytes: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> Line<N> {
    /// An empty line.
    pub const fn new() -> Self {
        Line {
            bytes: [0; N],
            len: 0,
            truncated: false,
        }
    }

    /// Empties the line for reuse.
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }

    /// The text so far, with `...` in place of its last three bytes if some did not fit.
    pub fn as_bytes(&mut self) -> &[u8] {
        if self.truncated {
            for byte in self.bytes.iter_mut().take(self.len).rev().take(3) {
                *byte = b'.';
            }
        }
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Appends raw bytes, keeping what fits.
    pub fn push_bytes(&mut self, data: &[u8]) {
        let free = self.bytes.get_mut(self.len..).unwrap_or_default();
        let take = data.len().min(free.len());
        if let (Some(dst), Some(src)) = (free.get_mut(..take), data.get(..take)) {
            dst.copy_from_slice(src);
        }
        self.len += take;
        self.truncated |= take < data.len();
    }
}

impl<const N: usize> fmt::Debug for Line<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Line")
            .field("len", &self.len)
            .field("truncated", &self.truncated)
            .finish_non_exhaustive()
    }
}

impl<const N: usize> Default for Line<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for Line<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_bytes(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write as _;

    #[test]
    fn formats_and_truncates() {
        let mut line = Line::<16>::new();
        write!(line, "GET {} {}", ["/"][0], 200).unwrap();
        assert_eq!(line.as_bytes(), b"GET / 200");
        line.clear();
        line.push_bytes(b"a very long request line");
        assert_eq!(line.as_bytes(), b"a very long r...");
    }
}
