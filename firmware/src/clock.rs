//! The device's clock: a 32-bit millisecond tick counter (the SysTick interrupt's) widened to 64
//! bits so that it never wraps in the device's lifetime.

/// Widens a wrapping 32-bit millisecond counter; call [`Clock::now_ms`] at least once every 49
/// days (every pass of the main loop does).
#[derive(Debug, Default, Clone, Copy)]
pub struct Clock {
    last: u32,
    wraps: u64,
}

impl Clock {
    /// A clock at zero.
    pub const fn new() -> Self {
        Clock { last: 0, wraps: 0 }
    }

    /// Milliseconds since boot, given the tick counter as it reads now.
    pub fn now_ms(&mut self, ticks: u32) -> u64 {
        if ticks < self.last {
            self.wraps += 1;
        }
        self.last = ticks;
        (self.wraps << 32) | u64::from(ticks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_across_a_wrap() {
        let mut clock = Clock::new();
        assert_eq!(clock.now_ms(5), 5);
        assert_eq!(clock.now_ms(u32::MAX), u64::from(u32::MAX));
        assert_eq!(clock.now_ms(3), (1 << 32) + 3);
        assert_eq!(clock.now_ms(3), (1 << 32) + 3);
        assert_eq!(clock.now_ms(2), (2 << 32) + 2);
    }
}
