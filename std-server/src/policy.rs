//! The settings as the core's serving [`Policy`]: the lists it borrows, built once from the
//! settings file by every worker, by `staticd check` and by the settings validation, so all three
//! apply the same rules.

use staticd_core::policy::{HeaderRule, Policy};

use crate::settings::Config;

/// The borrowed lists behind a [`Policy`].
pub struct PolicyLists<'s> {
    config: &'s Config,
    extensions: Vec<&'s str>,
    index_files: Vec<&'s str>,
    dotfile_exceptions: Vec<&'s str>,
    rules: Vec<HeaderRule<'s>>,
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
        }
    }
}
