//! Size limits, timers, connection limits and clients that are slow, idle or abrupt.

mod clients;
