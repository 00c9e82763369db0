//! staticd judged from outside: a real browser (Chromium over WebDriver) and an HTTP lint (REDbot),
//! both installed by scripts/setup-test-deps.sh. A binary of its own: these need tools the rest of
//! the end-to-end tests do not. [`https`] runs the browser against the TLS listener.

#[path = "../common/mod.rs"]
mod common;

mod chromium;
mod https;
mod redbot;
mod spa;
