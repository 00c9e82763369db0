//! staticd-core: an embeddable, `no_std`, zero-allocation HTTP/1.1 core.
//!
//! (Crate docs with a runnable example are written when the API lands.)
#![no_std]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg_attr(not(test), deny(missing_docs))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

// --- parsing & framing (owned by the parser work) ---
pub mod body;
pub mod parse;
pub use body::{
    ChunkedDecoder, ChunkedError, Decoded, Framing, RequestError, RequestInfo, inspect_request,
    keep_alive,
};
pub use parse::{
    Header, Method, ParseError, ParserConfig, Request, Status, Version, parse_request,
};
pub use status::StatusCode;

// --- semantics & writing (owned by the semantics work) ---
pub mod config;
pub mod date;
pub mod glob;
pub mod mime;
pub mod path;
pub mod precondition;
pub mod range;
pub mod status;
pub mod write;
