//! Loading the TOML settings file into a [`Config`], applying command-line overrides, and turning
//! every way it can be wrong into one line naming the file, the key and (for syntax) the line.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::settings::{Config, ConfigError};

/// What the command line overrides; `None` keeps the file's (or the default) value.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Relative to the current directory, like any command-line path.
    pub root: Option<PathBuf>,
}

/// The validated settings the engine runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    /// The served directory, canonical (symlinks resolved), so "inside root" checks compare prefixes.
    pub root: PathBuf,
    /// Worker threads, an absent `threads` already resolved to the number of cores.
    pub threads: usize,
    /// Where the settings came from, for messages: the file's path, or `defaults`.
    pub source: String,
    /// HTTPS (`[tls]`), with the certificates read when these settings were loaded.
    pub tls: Option<crate::tls::Tls>,
}

/// A settings error, displayed as one line: `FILE: line N: KEY: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFailure {
    /// The settings file, or `command line` for a bad override.
    pub source: String,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub reason: String,
}

impl fmt::Display for ConfigFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(line) = self.line {
            write!(f, ": line {line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Reads `path` (or the defaults when `None`), applies `overrides` and validates the result.
pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Settings, ConfigFailure> {
    let mut tls_file = None;
    let (mut config, base_dir, source) = match path {
        Some(path) => {
            let source = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ConfigFailure {
                source: source.clone(),
                line: None,
                key: None,
                reason: format!("cannot read: {e}"),
            })?;
            let (config, tls) = parse(&text).map_err(|(line, key, reason)| ConfigFailure {
                source: source.clone(),
                line,
                key,
                reason,
            })?;
            tls_file = tls;
            // `root` in the file is relative to the file's own folder, so the same file works from
            // any working directory.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            (config, dir, source)
        }
        None => (Config::default(), PathBuf::from("."), "defaults".to_owned()),
    };

    if let Some(host) = &overrides.host {
        config.server.host.clone_from(host);
    }
    if let Some(port) = overrides.port {
        config.server.port = port;
    }
    let root_candidate = match &overrides.root {
        Some(root) => {
            config.server.root = root.to_string_lossy().into_owned();
            root.clone()
        }
        None => base_dir.join(&config.server.root),
    };

    config.validate().map_err(|e| ConfigFailure {
        source: source.clone(),
        line: None,
        key: Some(describe_key(&config, &e)),
        reason: e.reason.to_owned(),
    })?;

    let root_key = if overrides.root.is_some() {
        "--root"
    } else {
        "server.root"
    };
    let root_error = |reason: String| ConfigFailure {
        source: if overrides.root.is_some() {
            "command line".to_owned()
        } else {
            source.clone()
        },
        line: None,
        key: Some(root_key.to_owned()),
        reason,
    };
    let root = std::fs::canonicalize(&root_candidate)
        .map_err(|e| root_error(format!("{}: {e}", root_candidate.display())))?;
    if !root.is_dir() {
        return Err(root_error(format!(
            "{}: not a directory",
            root_candidate.display()
        )));
    }
    if config.server.host.parse::<std::net::IpAddr>().is_err() {
        let resolvable =
            std::net::ToSocketAddrs::to_socket_addrs(&(config.server.host.as_str(), 0))
                .is_ok_and(|mut addrs| addrs.next().is_some());
        if !resolvable {
            return Err(ConfigFailure {
                source: if overrides.host.is_some() {
                    "command line".to_owned()
                } else {
                    source
                },
                line: None,
                key: Some(
                    if overrides.host.is_some() {
                        "--host"
                    } else {
                        "server.host"
                    }
                    .to_owned(),
                ),
                reason: format!(
                    "{:?} is not an IP address or a resolvable name",
                    config.server.host.as_str()
                ),
            });
        }
    }
    crate::policy::check_named_files(&config, &root).map_err(|(key, reason)| ConfigFailure {
        source: source.clone(),
        line: None,
        key: Some(key),
        reason,
    })?;
    let threads = match config.server.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let tls = match &tls_file {
        Some(file) => Some(
            crate::tls::load(file, &base_dir).map_err(|e| ConfigFailure {
                source: source.clone(),
                line: None,
                key: Some(e.key),
                reason: e.reason,
            })?,
        ),
        None => None,
    };
    Ok(Settings {
        config,
        root,
        threads,
        source,
        tls,
    })
}

/// The key a validation error names, with the entry a user looks for: the value of a list entry
/// (`files.allowed_extensions[1] "css"`), a rule's pattern and the header's name
/// (`rules[1] (pattern "*.css") headers."Bad Name"`).
fn describe_key(config: &Config, e: &ConfigError) -> String {
    let files = &config.files;
    let entry = |list: &[&str]| e.index.and_then(|i| list.get(i).map(|v| format!("{v:?}")));
    let value = match e.key {
        "files.allowed_extensions" => entry(&as_strs(&files.allowed_extensions)),
        "files.index_files" => entry(&as_strs(&files.index_files)),
        "files.dotfile_exceptions" => entry(&as_strs(&files.dotfile_exceptions)),
        "proxy.trusted" => entry(&as_strs(&config.proxy.trusted)),
        _ => None,
    };
    if let (Some(field), Some(i)) = (e.key.strip_prefix("rules."), e.index) {
        let Some(rule) = config.rules.get(i) else {
            return format!("rules[{i}].{field}");
        };
        let mut key = format!("rules[{i}] (pattern {:?}) {field}", rule.pattern.as_str());
        if let Some((name, _)) = e.header.and_then(|h| rule.headers.get(h)) {
            key.push_str(&format!(".{:?}", name.as_str()));
        }
        return key;
    }
    match (e.index, value) {
        (Some(i), Some(value)) => format!("{}[{i}] {value}", e.key),
        (Some(i), None) => format!("{}[{i}]", e.key),
        (None, _) => e.key.to_owned(),
    }
}

/// The entries of a list of strings, borrowed.
fn as_strs(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

/// A TOML error as (line, dotted key, reason).
type ParseFailure = (Option<usize>, Option<String>, String);

/// Parses TOML text into a [`Config`] and the `[tls]` table, which is std-server's own.
fn parse(text: &str) -> Result<(Config, Option<crate::tls::TlsFile>), ParseFailure> {
    #[derive(serde::Deserialize)]
    struct TlsOnly {
        tls: crate::tls::TlsFile,
    }
    let fail = |e: toml::de::Error| -> ParseFailure {
        let reason = e.message().trim().to_owned();
        match e.span() {
            Some(span) => {
                let line = line_of(text, span.start);
                (Some(line), key_at(text, span.start, &reason), reason)
            }
            None => (None, None, reason),
        }
    };
    let document = toml::de::DeTable::parse(text).map_err(fail)?;
    let span = document.span();
    let mut table = document.into_inner();
    let tls_key = table.keys().find(|k| k.get_ref() == "tls").cloned();
    let tls = match tls_key.and_then(|k| table.remove_entry(&k)) {
        Some((key, value)) => {
            let mut only = toml::de::DeTable::new();
            only.insert(key, value);
            let de = toml::de::Deserializer::from(toml::Spanned::new(span.clone(), only));
            Some(
                <TlsOnly as serde::Deserialize>::deserialize(de)
                    .map_err(fail)?
                    .tls,
            )
        }
        None => None,
    };
    let de = toml::de::Deserializer::from(toml::Spanned::new(span, table));
    let config = <Config as serde::Deserialize>::deserialize(de).map_err(fail)?;
    Ok((config, tls))
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The dotted key (`server.port`) of the line holding `offset`: the nearest table header above it
/// plus the bare key of that line. An unknown-field message names the field, which wins when the
/// span covers a whole table.
fn key_at(text: &str, offset: usize, reason: &str) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[line_start..line_end].trim();
    let mut table: Option<&str> = None;
    for header in text[..line_start].lines().rev() {
        let header = header.trim();
        if header.starts_with('[') {
            table = Some(header.trim_matches(|c| c == '[' || c == ']').trim());
            break;
        }
    }
    let key = if line.starts_with('[') {
        // The span is a whole table: the table header line itself.
        // A mistyped top-level table (`[sever]`) is itself the unknown field: name it once.
        let name = line.trim_matches(|c| c == '[' || c == ']').trim();
        return Some(match unknown_field(reason) {
            Some(field) if name != field && !name.ends_with(&format!(".{field}")) => {
                format!("{name}.{field}")
            }
            _ => name.to_owned(),
        });
    } else {
        match line.split_once('=') {
            Some((key, _)) => key.trim().trim_matches('"').to_owned(),
            None => unknown_field(reason)?.to_owned(),
        }
    };
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key,
    })
}

/// The field named by serde's "unknown field `x`" message.
fn unknown_field(reason: &str) -> Option<&str> {
    let rest = reason.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_config(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("staticd.toml");
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(text.as_bytes()).unwrap();
        path
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("staticd-config-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("site")).unwrap();
        dir
    }

    #[test]
    fn root_is_relative_to_the_config_file() {
        let dir = temp_dir("relative");
        let path = write_config(
            &dir,
            "[server]\nroot = \"site\"\nport = 0\nkeepalive_timeout = 0.5\n",
        );
        let settings = load(Some(&path), &Overrides::default()).unwrap();
        assert_eq!(
            settings.root,
            std::fs::canonicalize(dir.join("site")).unwrap()
        );
        assert_eq!(settings.config.server.port, 0);
        assert_eq!(settings.config.server.keepalive_timeout.as_millis(), 500);
        assert!(settings.threads >= 1);
    }

    #[test]
    fn unknown_key_names_table_key_and_line() {
        let dir = temp_dir("unknown");
        let path = write_config(&dir, "[server]\nport = 1\nbogus = 3\n");
        let err = load(Some(&path), &Overrides::default()).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("server.bogus"), "{err}");
        assert_eq!(err.line, Some(3), "{err}");
        assert!(
            err.to_string().starts_with(&path.display().to_string()),
            "{err}"
        );
        assert!(!err.to_string().contains('\n'), "{err}");
    }

    #[test]
    fn wrong_type_and_syntax_errors_name_the_line() {
        let dir = temp_dir("types");
        let path = write_config(&dir, "[server]\n\nport = \"eighty\"\n");
        let err = load(Some(&path), &Overrides::default()).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("server.port"), "{err}");
        assert_eq!(err.line, Some(3), "{err}");

        let path = write_config(&dir, "[server\nport = 1\n");
        let err = load(Some(&path), &Overrides::default()).unwrap_err();
        assert_eq!(err.line, Some(1), "{err}");
    }

    #[test]
    fn out_of_range_values_name_the_key() {
        let dir = temp_dir("range");
        let path = write_config(&dir, "[server]\nroot = \"site\"\nmax_request_bytes = 10\n");
        let err = load(Some(&path), &Overrides::default()).unwrap_err();
        assert_eq!(
            err.key.as_deref(),
            Some("server.max_request_bytes"),
            "{err}"
        );

        let path = write_config(&dir, "[server]\nroot = \"site\"\nthreads = 0\n");
        let err = load(Some(&path), &Overrides::default()).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("server.threads"), "{err}");

        let path = write_config(&dir, "[server]\nroot = \"site\"\nheader_timeout = 0.01\n");
        let err = load(Some(&path), &Overrides::default()).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("server.header_timeout"), "{err}");
    }

    #[test]
    fn missing_root_is_refused() {
        let dir = temp_dir("missing-root");
        let path = write_config(&dir, "[server]\nroot = \"nope\"\n");
        let err = load(Some(&path), &Overrides::default()).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("server.root"), "{err}");

        let path = write_config(&dir, "[server]\nroot = \"staticd.toml\"\n");
        let err = load(Some(&path), &Overrides::default()).unwrap_err();
        assert!(err.reason.contains("not a directory"), "{err}");
    }

    #[test]
    fn command_line_overrides_the_file() {
        let dir = temp_dir("override");
        let path = write_config(&dir, "[server]\nroot = \"nope\"\nport = 9\n");
        let overrides = Overrides {
            host: Some("::1".into()),
            port: Some(0),
            root: Some(dir.join("site")),
        };
        let settings = load(Some(&path), &overrides).unwrap();
        assert_eq!(settings.config.server.port, 0);
        assert_eq!(settings.config.server.host.as_str(), "::1");
        assert_eq!(
            settings.root,
            std::fs::canonicalize(dir.join("site")).unwrap()
        );
    }

    #[test]
    fn key_lookup_in_rules_array() {
        let text = "[[rules]]\npattern = \"*.html\"\ncache = 1\n";
        assert_eq!(
            key_at(text, text.find("cache").unwrap(), "unknown field `cache`").as_deref(),
            Some("rules.cache")
        );
    }
}
