//! The files of a root that staticd would serve, each with the answer the server gives for it.
//!
//! Directories are read in name order without following symbolic links to directories (what is
//! behind a link inside the root is found at its real place; a link leading out of the root would
//! make the walk the whole disk under `"always"`). Symbolic links to files are listed like files
//! and kept when the server serves them. Under `files.deny_dotfiles`, hidden names (other than the
//! `files.dotfile_exceptions`) are skipped, as the server never serves anything under them; a name
//! that is not UTF-8 cannot be requested (the core decodes targets to UTF-8) and is skipped too.

use std::path::Path;

use staticd_core::path::hidden_segment;

use super::serve::{Answer, ContentKind, Server};

/// A file the server serves.
pub struct ServedFile {
    /// Its path relative to the root, `/`-separated, decoded.
    pub rel: String,
    pub kind: ContentKind,
}

/// Every file under the root that `server` serves, sorted by path.
pub fn served_files(
    server: &mut Server,
    deny_dotfiles: bool,
    exceptions: &[&str],
) -> Vec<ServedFile> {
    let mut rels = Vec::new();
    let root = server.root().to_path_buf();
    collect(&root, "", deny_dotfiles, exceptions, &mut rels);
    rels.sort();
    rels.into_iter()
        .filter_map(|rel| match server.get_file(&rel) {
            Answer::File { kind, served } if served == rel => Some(ServedFile { rel, kind }),
            _ => None,
        })
        .collect()
}

fn collect(dir: &Path, rel: &str, deny_dotfiles: bool, exceptions: &[&str], out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if deny_dotfiles && hidden_segment(&child, exceptions) {
            continue;
        }
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            collect(&entry.path(), &child, deny_dotfiles, exceptions, out);
        } else if file_type.is_file() || (file_type.is_symlink() && !entry.path().is_dir()) {
            out.push(child);
        }
    }
}
