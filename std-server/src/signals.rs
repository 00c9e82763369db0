//! Process signals: SIGTERM and SIGINT stop gracefully, SIGUSR1 reopens the log files, SIGHUP is
//! reported and otherwise ignored.
//!
//! Every signal staticd handles is caught by one thread (signal-hook's self-pipe), never by the
//! default action: a signal that killed the process would lose the access-log lines still waiting
//! in the workers' batches.

use std::io;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

use crate::log::ErrorLog;

/// The signals staticd takes over, registered before the ready line so that a signal sent right
/// after it is handled, never fatal.
pub fn register() -> io::Result<Signals> {
    Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1])
}

/// Handles `signals` on their own thread for the rest of the process; `stop` runs once, on the
/// first SIGTERM or SIGINT.
pub fn spawn(
    mut signals: Signals,
    errors: ErrorLog,
    stop: impl Fn() + Send + 'static,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name("staticd-signals".into())
        .spawn(move || {
            let mut stopping = false;
            for signal in signals.forever() {
                match signal {
                    SIGTERM | SIGINT if !stopping => {
                        stopping = true;
                        errors.error(format_args!("{}: stopping", name(signal)));
                        stop();
                    }
                    SIGTERM | SIGINT => {
                        errors.error(format_args!("{}: already stopping", name(signal)));
                    }
                    SIGUSR1 => errors.reopen(),
                    SIGHUP => errors.error(
                        "SIGHUP: ignored (staticd does not reload its settings; restart it to \
                         apply a changed settings file)",
                    ),
                    _ => {}
                }
            }
        })?;
    Ok(())
}

fn name(signal: i32) -> &'static str {
    match signal {
        SIGTERM => "SIGTERM",
        SIGINT => "SIGINT",
        SIGHUP => "SIGHUP",
        SIGUSR1 => "SIGUSR1",
        _ => "signal",
    }
}
