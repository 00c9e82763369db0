//! The settings as the core's serving [`Policy`]: the lists it borrows, built once from the
//! settings file by every worker, by `staticd check` and by the settings validation, so all three
//! apply the same rules.

use std::path::Path;
use std::sync::Arc;

use staticd_core::policy::{ErrorPage, HeaderRule, Policy};
use staticd_core::source::{Entry, Source};

use crate::files::FileCache;
use crate::log::ErrorLog;

use crate::settings::Config;

/// The borrowed lists behind a [`Policy`].
pub struct PolicyLists<'s> {
    config: &'s Config,
    extensions: Vec<&'s str>,
    index_files: Vec<&'s str>,
    dotfile_exceptions: Vec<&'s str>,
    rules: Vec<HeaderRule<'s>>,
    error_pages: Vec<ErrorPage<'s>>,
}

impl<'s> PolicyLists<'s> {
    pub fn new(config: &'s Config) -> Self {
        let files = &config.files;
        Self {
            config,
            extensions: files
                .allowed_extensions
                .iter()
                .map(String::as_str)
                .collect(),
            index_files: files.index_files.iter().map(String::as_str).collect(),
            dotfile_exceptions: files
                .dotfile_exceptions
                .iter()
                .map(String::as_str)
                .collect(),
            rules: config
                .rules
                .iter()
                .map(|rule| HeaderRule {
                    pattern: rule.pattern.as_str(),
                    cache_control: rule.cache_control.as_deref(),
                    headers: rule
                        .headers
                        .iter()
                        .map(|(name, value)| (name.as_str(), value.as_str()))
                        .collect(),
                })
                .collect(),
            error_pages: files
                .error_pages
                .iter()
                .map(|(status, path)| ErrorPage {
                    status: *status,
                    path: path.as_str(),
                })
                .collect(),
        }
    }

    /// The policy the core applies.
    pub fn policy(&self) -> Policy<'_> {
        let server = &self.config.server;
        Policy {
            server_name: &server.server_name,
            max_request_bytes: server.max_request_bytes,
            header_timeout_ms: server.header_timeout.as_millis(),
            keepalive_timeout_ms: server.keepalive_timeout.as_millis(),
            keepalive_requests: server.keepalive_requests,
            allowed_extensions: &self.extensions,
            index_files: &self.index_files,
            deny_dotfiles: self.config.files.deny_dotfiles,
            dotfile_exceptions: &self.dotfile_exceptions,
            rules: &self.rules,
            error_pages: &self.error_pages,
            fallback: self.config.files.fallback.as_deref(),
            listing: self.config.files.directory_listing,
            listing_page_entries: self.config.files.listing_page_entries,
            cache_defaults: self.config.files.cache_defaults,
        }
    }
}

/// The files the settings name (error pages, the fallback) must be files the server serves: not
/// hidden by `files.deny_dotfiles`, of an allowed extension, and a regular file the file source
/// opens under the symbolic-link policy. Otherwise a start-up error naming the key
/// (`files.error_pages.404`), the path and why. Later, the decision asks the file source each
/// time, and a page gone meanwhile gives the built-in one.
pub fn check_named_files(config: &Config, root: &Path) -> Result<(), (String, String)> {
    let lists = PolicyLists::new(config);
    let policy = lists.policy();
    let (errors, _captured) = ErrorLog::capture();
    let mut files = FileCache::new(config, root, Arc::default(), errors);
    let pages = config
        .files
        .error_pages
        .iter()
        .map(|(status, path)| (format!("files.error_pages.{status}"), path.as_str()));
    let fallback = config
        .files
        .fallback
        .iter()
        .map(|path| ("files.fallback".to_owned(), path.as_str()));
    for (key, path) in pages.chain(fallback) {
        let reason = if policy.hides(path) {
            "is hidden by files.deny_dotfiles (a segment starts with '.'; see files.dotfile_exceptions)"
        } else {
            match files.open(path) {
                Entry::File(_) if policy.serves_extension(path) => continue,
                Entry::File(_) => "is not served: its extension is not in files.allowed_extensions",
                Entry::NotFound => "no such file",
                Entry::Directory => "is a directory, not a file",
                Entry::Forbidden => {
                    "is refused by the server (not a regular file, not readable, or a symbolic link files.follow_symlinks does not follow)"
                }
                Entry::Failed => "cannot be read",
            }
        };
        return Err((key, format!("{}: {reason}", root.join(path).display())));
    }
    Ok(())
}
