//! `staticd`: serve a directory over HTTP/1.1.
//!
//! Exit status: 0 after a clean stop (SIGTERM/SIGINT) or a passed `--check`; 2 when it cannot
//! start (a bad settings file or command line, a log file that cannot be opened, an address in
//! use), with one line on stderr; 1 for a failure after start-up.

// Every syscall goes through rustix, mio and std's safe wrappers, except taking the socket a
// service manager passes by number (systemd.rs, one function with its SAFETY argument).
#![deny(unsafe_code)]

mod check;
mod compress;
mod config;
mod conn;
mod ctx;
mod engine;
mod files;
mod listen;
mod log;
mod metrics;
mod policy;
mod proxied;
mod settings;
mod signals;
mod systemd;
mod timers;
mod tls;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// A fast, safe static-file HTTP/1.1 server.
///
/// `staticd` serves the current directory on http://127.0.0.1:8080/, `staticd DIR` serves DIR.
/// The options below override the settings file (`--config`); a value the command line does not
/// give comes from the settings file, else from the built-in default shown.
///
/// Once the socket listens, the first line on stdout is `staticd listening on http://HOST:PORT/`;
/// the access log follows it on stdout unless `log.access_log` names a file. SIGTERM or SIGINT
/// stops gracefully (in-flight responses finish, logs are flushed, exit status 0); SIGHUP reloads
/// the settings file; SIGUSR1 reopens the log files. Exit status 2 with one line on stderr when it
/// cannot start.
///
/// `staticd check [ROOT]` checks the links of a site instead of serving it (`staticd check --help`).
#[derive(Parser, Debug)]
#[command(name = "staticd", version)]
struct Cli {
    /// Directory to serve (the same as --root).
    #[arg(value_name = "DIR", conflicts_with = "root")]
    dir: Option<PathBuf>,
    /// Settings file (TOML). Every key is optional; config/staticd.toml documents them all.
    /// `root` in the file is relative to the file's folder.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (IPv4 or IPv6 literal, or a name) [default: `server.host` of the
    /// settings file, else 127.0.0.1].
    #[arg(long, value_name = "ADDR")]
    host: Option<String>,
    /// TCP port; 0 picks a free port (read it from the ready line) [default: `server.port` of
    /// the settings file, else 8080].
    #[arg(short, long, value_name = "PORT")]
    port: Option<u16>,
    /// Directory to serve, relative to the current directory [default: `server.root` of the
    /// settings file (relative to the file's folder), else the current directory].
    #[arg(short, long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Check the settings (and that the log files can be opened), print one line and exit: 0 when
    /// they are valid, 2 with the error otherwise. Nothing is bound or served.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    if std::env::args_os().nth(1).is_some_and(|arg| arg == "check") {
        return check::main(std::env::args_os().skip(2));
    }
    // First, before anything opens a descriptor: number 3 may be the manager's socket.
    let passed = match systemd::take_listen_fd() {
        Ok(passed) => passed,
        Err(e) => {
            eprintln!("staticd: {}", e.0);
            return ExitCode::from(2);
        }
    };
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; clap knows which is which.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let overrides = config::Overrides {
        host: cli.host,
        port: cli.port,
        root: cli.root.or(cli.dir),
    };
    let reload_from = engine::ReloadFrom {
        path: cli.config.clone(),
        overrides: overrides.clone(),
    };
    let settings = match config::load(cli.config.as_deref(), &overrides) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("staticd: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.check {
        return match log::open_targets(&settings.config.log) {
            Ok(_) => {
                println!("staticd: {}: settings are valid", settings.source);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("staticd: {}: {e}", settings.source);
                ExitCode::from(2)
            }
        };
    }
    match engine::run(settings, passed, reload_from) {
        Ok(()) => ExitCode::SUCCESS,
        Err(engine::RunError::Startup(e)) => {
            eprintln!("staticd: {e}");
            ExitCode::from(2)
        }
        Err(engine::RunError::Serving(e)) => {
            eprintln!("staticd: {e}");
            ExitCode::from(1)
        }
    }
}
