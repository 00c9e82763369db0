//! staticd-core: an embeddable, `no_std`, zero-allocation HTTP/1.1 core.
//!
//! (Crate docs with a runnable example are written when the API lands.)
#![no_std]
#![forbid(unsafe_code)]
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
pub use config::{
    Config, ConfigError, FilesConfig, LogConfig, Rule, Seconds, ServerConfig, Symlinks,
};
#[cfg(feature = "serde")]
pub use config::{from_postcard, to_postcard};
pub use date::{HttpDate, clf_date, parse_http_date};
pub use glob::glob_match;
pub use mime::{extension, extension_allowed, mime_for_extension, mime_for_path};
pub use path::{PathError, ResolvedPath, hidden_segment, resolve_target};
pub use precondition::{Precondition, Validators, evaluate_preconditions};
pub use range::{ByteRange, MAX_RANGES, Multipart, RangeOutcome, evaluate_range};
pub use write::{ResponseHead, SliceWriter, write_header};
