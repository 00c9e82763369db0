//! The access log and the error log.

mod access;
