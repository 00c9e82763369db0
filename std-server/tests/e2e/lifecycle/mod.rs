//! Signals and a graceful stop.

mod signals;
mod stop;
mod systemd;
