//! Signals and a graceful stop.

mod reload;
mod signals;
mod stop;
mod systemd;
