//! The message format and framing (RFC 9112).

mod framing;
mod fuzz;
mod messages;
mod responses;
