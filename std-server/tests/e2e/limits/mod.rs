//! Size limits, timers, connection limits and clients that are slow, idle, many or abrupt.

mod clients;
mod sizes;
mod timers;
