//! Process signals: SIGTERM and SIGINT stop gracefully, SIGHUP reloads the settings, SIGUSR1
//! reopens the log files.
//!
//! Every signal staticd handles is caught by one thread (signal-hook's self-pipe), never by the
//! default action: a signal that killed the process would lose the access-log lines still waiting
//! in the workers' batches.

use std::io;
use std::sync::mpsc::Sender;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

use crate::log::ErrorLog;

/// What a signal asks of the main thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// SIGTERM or SIGINT, the first one: stop gracefully.
    Stop,
    /// SIGHUP: read the settings file again and serve new requests with it.
    Reload,
}

/// The signals staticd takes over, registered before the ready line so that a signal sent right
/// after it is handled, never fatal.
pub fn register() -> io::Result<Signals> {
    Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1])
}

/// Handles `signals` on their own thread for the rest of the process: stop and reload go to
/// `control`, the log reopen straight to the log thread.
pub fn spawn(mut signals: Signals, errors: ErrorLog, control: Sender<Control>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("staticd-signals".into())
        .spawn(move || {
            let mut stopping = false;
            for signal in signals.forever() {
                match signal {
                    SIGTERM | SIGINT if !stopping => {
                        stopping = true;
                        errors.error(format_args!("{}: stopping", name(signal)));
                        let _ = control.send(Control::Stop);
                    }
                    SIGTERM | SIGINT => {
                        errors.error(format_args!("{}: already stopping", name(signal)));
                    }
                    SIGHUP if stopping => errors.error("SIGHUP: ignored while stopping"),
                    SIGHUP => {
                        let _ = control.send(Control::Reload);
                    }
                    SIGUSR1 => errors.reopen(),
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
