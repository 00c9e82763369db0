//! The access log and the error log.

mod access;
mod json;
