//! From a request-target to a file under the root, and files that change on disk.

mod changes;
mod directories;
mod extensions;
mod rules;
mod targets;
mod traversal;
mod utf8;
