//! The message format and framing (RFC 9112).

mod connections;
mod drivers;
mod framing;
mod fuzz;
mod messages;
mod responses;
