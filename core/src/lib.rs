//! staticd-core: the embeddable HTTP/1.1 core of staticd, a static-file server — `no_std`, no
//! heap, no `unsafe`.
//!
//! It knows HTTP/1.1 and nothing else. Every item is a pure function over bytes and numbers the
//! caller passes in, so the same code serves the std server (`staticd`, with threads, sockets and
//! `sendfile`) and a microcontroller serving its own pages over whatever link it has.
//!
//! # What it never does
//!
//! - **Sockets or any I/O**: it parses the bytes you hand it and writes into any
//!   [`embedded_io::Write`] you hand it (a [`SliceWriter`] over a buffer, a socket, a UART). It
//!   never reads, blocks or waits.
//! - **Files**: it turns a request-target into a safe relative path ([`resolve_target`]) and
//!   decides on preconditions and ranges from the validators and length you pass; finding and
//!   reading the file is yours.
//! - **Clocks**: times are Unix seconds you pass in ([`HttpDate::from_unix`],
//!   [`Validators::last_modified`]).
//! - **Allocation or panics on client input**: requests borrow your buffer, headers fill your
//!   array, paths decode into your buffer; the crate root denies `unwrap`, `expect`, `panic` and
//!   slice indexing, and lengths use checked arithmetic.
//!
//! # Features
//!
//! None is on by default: the bare crate builds for `thumbv7em-none-eabihf`.
//!
//! | feature | adds |
//! |---------|------|
//! | `alloc` | nothing of its own; lets `serde` use `alloc` |
//! | `std`   | `std::error::Error` for the error types |
//! | `serde` | `policy::PolicyBlob`: a [`Policy`] stored as postcard (in flash) and read borrowing the bytes |
//! | `defmt` | `defmt::Format` on the public types, for embedded logging |
//! | `async` | [`drive::serve_async`] over `embedded-io-async` |
//! | `build` | the build-time helper turning a folder into a [`StaticTable`] (std) |
//! | `listing` | directory listings in the response decision (`Policy::listing`); without it a directory with no index file is a 404 and `Policy::validate` refuses `listing` |
//! | `encoding` | content negotiation in the response decision: precompressed siblings and the source's on-the-fly encodings by `Accept-Encoding`, with `Vary`; without it the file itself is sent |
//!
//! The desktop server turns on `listing` and `encoding`; a device leaves them off unless it
//! serves directories or precompressed files (they are about 9 KiB of thumbv7em code together).
//!
//! Size on `thumbv7em-none-eabihf` (opt-level "z", LTO): `scripts/core-size.sh` builds a probe
//! that calls every public function and prints the `.text` of the request parser, the whole core
//! (with the core's own code apart from the probe's glue), and the core with a postcard policy
//! blob; `--breakdown` shows where the bytes go.
//!
//! # Modules
//!
//! | module | what it holds | RFC |
//! |--------|---------------|-----|
//! | [`parse`] | request head parser: bytes to a [`Request`] borrowing the buffer, [`Status::Partial`] until complete | 9112 §2–5 |
//! | [`body`] | Host check, framing decision ([`Framing`]), keep-alive, the sans-IO [`ChunkedDecoder`] | 9112 §3.2, §6, §7, §9.3 |
//! | [`path`] | request-target to a safe relative path; the dotfile check | 3986 §2.1, §5.2.4 |
//! | [`mime`] | built-in extension to media type table; allowed-extension policy | 9110 §8.3 |
//! | [`glob`] | the `[[rules]]` patterns | — |
//! | [`precondition`] | If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since in order | 9110 §13 |
//! | [`negotiate`] | Accept-Encoding with weights, the choice among a file and its encodings | 9110 §12.5.3, §12.4.2 |
//! | [`range`] | Range and If-Range to 200/206/416, Content-Range, `multipart/byteranges` | 9110 §14 |
//! | [`write`](mod@write) | the response head writer, [`SliceWriter`], [`write::decimal`] | 9112 §4, 9110 §6.6.1 |
//! | [`date`] | IMF-fixdate out, the three HTTP date formats in, the access log's date | 9110 §5.6.7 |
//! | [`status`] | [`StatusCode`] and reason phrases; every error type maps to one with `status()` | 9110 §15 |
//! | [`proxy`] | the PROXY protocol header (v1 text, v2 binary) a balancer sends before the client's bytes | — |
//! | [`policy`] | the serving [`Policy`] (limits, timeouts, extensions, index files, dotfiles, header rules), built in a `const` or read from a postcard blob, and its validation | — |
//!
//! # Example: one request, start to finish
//!
//! A conditional range request for an in-memory file: parse, check the message, resolve the path,
//! evaluate the preconditions and the range, and write the `206` head.
//!
//! ```
//! use staticd_core::body::Framing;
//! use staticd_core::{
//!     ByteRange, Header, HttpDate, Method, ParserConfig, Precondition, RangeOutcome, ResponseHead,
//!     SliceWriter, Status, StatusCode, Validators, evaluate_preconditions, evaluate_range,
//!     hidden_segment, inspect_request, mime_for_path, parse_request, resolve_target, write_header,
//! };
//!
//! // The file a device would have compiled in, and the time its clock reads.
//! let body: &[u8] = b"body { color: teal }\n";
//! let validators = Validators { etag: b"\"c55-1\"", last_modified: 1_795_000_000 };
//! let now = HttpDate::from_unix(1_795_741_323);
//!
//! // Bytes as they arrived; the request borrows them, the headers fill a fixed array.
//! let bytes = b"GET /assets/%73tyle.css?v=2 HTTP/1.1\r\nHost: device.local\r\n\
//!               If-None-Match: \"old\"\r\nRange: bytes=5-9\r\n\r\nGET /next";
//! let mut headers = [Header::EMPTY; 16];
//! let Ok(Status::Complete((head_len, req))) =
//!     parse_request(&ParserConfig::default(), bytes, &mut headers)
//! else {
//!     panic!("a complete, valid head");
//! };
//! assert_eq!(&bytes[head_len..], b"GET /next"); // a pipelined request starts here
//! assert_eq!(req.method, Method::Get);
//! assert_eq!(req.header("range"), Some(&b"bytes=5-9"[..]));
//!
//! // Host, framing and persistence (RFC 9112): no body, and the connection stays open.
//! let info = inspect_request(&req).expect("valid Host and framing");
//! assert_eq!((info.framing, info.keep_alive), (Framing::None, true));
//!
//! // The target: query dropped, percent-decoded once, dot-segments resolved.
//! let mut path_buf = [0u8; 256];
//! let path = resolve_target(req.target, &mut path_buf).expect("a safe path").path;
//! assert_eq!(path, "assets/style.css");
//! assert!(!hidden_segment(path, &[".well-known"]));
//! let content_type = mime_for_path(path);
//!
//! // If-None-Match names another version: go on to the range.
//! assert_eq!(evaluate_preconditions(&req, &validators), Precondition::Proceed);
//! let len = body.len() as u64;
//! let RangeOutcome::Partial(ranges) = evaluate_range(&req, &validators, len) else {
//!     panic!("one satisfiable range");
//! };
//! let range = ranges[0];
//! assert_eq!(range, ByteRange { start: 5, end: 9 });
//!
//! // The extra header lines first, then the head around them, each into a fixed buffer.
//! let mut range_buf = [0u8; 68];
//! let mut content_range = SliceWriter::new(&mut range_buf);
//! range.write_content_range(&mut content_range, len).unwrap();
//! let mut extra_buf = [0u8; 128];
//! let mut extra = SliceWriter::new(&mut extra_buf);
//! write_header(&mut extra, "ETag", validators.etag).unwrap();
//! write_header(&mut extra, "Content-Range", content_range.as_bytes()).unwrap();
//!
//! let mut out_buf = [0u8; 512];
//! let mut out = SliceWriter::new(&mut out_buf);
//! let head = ResponseHead {
//!     status: StatusCode::PARTIAL_CONTENT,
//!     date: &now,
//!     server: "staticd-device",
//!     content_type: Some(content_type),
//!     content_length: Some(range.len()),
//!     keep_alive: info.keep_alive,
//!     extra: extra.as_bytes(),
//! };
//! head.write_to(&mut out).unwrap();
//! assert_eq!(
//!     out.as_bytes(),
//!     &b"HTTP/1.1 206 Partial Content\r\n\
//!        Date: Fri, 27 Nov 2026 01:02:03 GMT\r\n\
//!        Server: staticd-device\r\n\
//!        Content-Type: text/css; charset=utf-8\r\n\
//!        Content-Length: 5\r\n\
//!        Connection: keep-alive\r\n\
//!        ETag: \"c55-1\"\r\n\
//!        Content-Range: bytes 5-9/21\r\n\
//!        \r\n"[..]
//! );
//! // The body is the range's slice of the file.
//! assert_eq!(&body[range.start as usize..=range.end as usize], b"{ col");
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
// reason: unit tests should fail loudly on a broken assumption; the library itself is checked
// without `cfg(test)` (clippy --all-targets builds both), so the denial above still holds for it.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
#![cfg_attr(not(test), deny(missing_docs))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

// --- parsing & framing (owned by the parser work) ---
pub mod body;
mod chars;
pub mod parse;
mod rules;
pub use body::{
    ChunkedDecoder, ChunkedError, Decoded, Framing, RequestError, RequestInfo, inspect_request,
    keep_alive,
};
pub use parse::{
    Header, Method, ParseError, ParserConfig, Request, Status, Version, parse_request,
};
pub use status::StatusCode;

// --- the engine: the connection, the response decision, the files it serves ---
#[cfg(feature = "build")]
pub mod build;
pub mod conn;
pub mod drive;
pub mod policy;
pub mod respond;
pub mod source;
pub use conn::{CloseReason, Connection, Event, Exchange, Step, Timer, TurnAway};
#[cfg(feature = "serde")]
pub use policy::PolicyBlob;
pub use policy::{HeaderRule, Policy, PolicyError};
pub use respond::{Now, Response, Segment, Sink, Site, respond};
pub use source::{DirEntry, Entry, Kind, Listed, Resource, Source, StaticFile, StaticTable};

// --- semantics & writing ---
pub mod date;
pub mod glob;
pub mod listing;
pub mod mime;
pub mod negotiate;
pub mod path;
pub mod precondition;
pub mod proxy;
pub mod range;
pub mod status;
pub mod write;
pub use date::{HttpDate, clf_date, parse_http_date};
pub use glob::glob_match;
pub use mime::{extension, extension_allowed, mime_for_extension, mime_for_path};
pub use path::{PathError, ResolvedPath, hidden_segment, resolve_target};
pub use precondition::{Precondition, Validators, evaluate_preconditions};
pub use range::{ByteRange, MAX_RANGES, Multipart, RangeOutcome, evaluate_range};
pub use write::{ResponseHead, SliceWriter, write_header};
