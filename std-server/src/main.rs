//! `staticd`: serve a directory over HTTP/1.1.
//!
//! Exit status: 0 after a clean stop (SIGTERM/SIGINT), 1 when the server cannot start (address in
//! use, log file), 2 for a bad settings file or command line.

mod config;
mod conn;
mod engine;
mod files;
mod log;
mod respond;
mod timers;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// A fast, safe static-file HTTP/1.1 server.
///
/// With no arguments, serves the current directory on http://127.0.0.1:8080/. Once the socket
/// listens, prints one line on stdout: `staticd listening on http://HOST:PORT/`. SIGTERM or SIGINT
/// stops it gracefully (in-flight responses finish, logs are flushed, exit status 0).
#[derive(Parser, Debug)]
#[command(name = "staticd", version)]
struct Cli {
    /// Settings file (TOML). Every key is optional; see config/staticd.toml for all keys and
    /// defaults. `root` in the file is relative to the file's folder.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (IPv4 or IPv6 literal, or a name), overriding `server.host`
    /// [default: 127.0.0.1].
    #[arg(long, value_name = "ADDR")]
    host: Option<String>,
    /// TCP port, overriding `server.port`; 0 picks a free port (read it from the ready line)
    /// [default: 8080].
    #[arg(short, long, value_name = "PORT")]
    port: Option<u16>,
    /// Directory to serve, relative to the current directory, overriding `server.root`
    /// [default: the current directory].
    #[arg(short, long, value_name = "DIR")]
    root: Option<PathBuf>,
}

fn main() -> ExitCode {
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
        root: cli.root,
    };
    let settings = match config::load(cli.config.as_deref(), &overrides) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("staticd: {e}");
            return ExitCode::from(2);
        }
    };
    match engine::run(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("staticd: {e}");
            ExitCode::from(1)
        }
    }
}
