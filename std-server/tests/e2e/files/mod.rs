//! From a request-target to a file under the root, and files that change on disk.

mod changes;
mod extensions;
mod traversal;
mod utf8;
