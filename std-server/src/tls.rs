//! HTTPS: the `[tls]` settings, the rustls server configuration built from their PEM files (one
//! certificate by default, more by server name for SNI), and the transport of a TLS connection:
//! records read from the socket are decrypted into the connection's input buffer, and its output
//! (bytes, and file segments read with pread, since sendfile cannot encrypt) is encrypted into
//! records written to the socket. Plain connections never come here.
//!
//! The provider is rustls's `ring`: one crate whose bit of C and assembly the workspace's C
//! compiler builds quickly, where aws-lc-rs compiles the whole AWS-LC library (the README's HTTPS
//! section says what aws-lc-rs would add). TLS 1.2 and 1.3, ALPN `http/1.1`. Kernel TLS (so that
//! sendfile works again after the handshake) is not there yet.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde::Deserialize;

/// The `[tls]` table as written in the settings file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// The TLS listener's port, on `server.host` beside the plain listener.
    pub port: u16,
    /// PEM: the server's certificate first, then the intermediates.
    pub certificate: String,
    /// PEM: the private key of `certificate` (PKCS#8, PKCS#1 or SEC1).
    pub key: String,
    /// More certificates, chosen by the name the client asks for (SNI).
    #[serde(default)]
    pub names: Vec<NamedCertificate>,
    /// More TLS listeners, each `IP:PORT` (`"[::1]:8443"` for IPv6).
    #[serde(default)]
    pub also_listen: Vec<String>,
    /// The plain listeners answer every GET and HEAD with a redirect to HTTPS instead of serving.
    #[serde(default)]
    pub redirect: bool,
    /// The port the redirect names, when clients reach the TLS listener on another port than
    /// `port` (a port mapping in front). Default: the TLS listener's own port.
    #[serde(default)]
    pub redirect_port: Option<u16>,
}

/// One `[[tls.names]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedCertificate {
    pub name: String,
    pub certificate: String,
    pub key: String,
}

/// The validated TLS settings: the listener port and the rustls configuration built
/// from the certificate files as they were when the settings were (re)loaded.
#[derive(Debug, Clone)]
pub struct Tls {
    pub port: u16,
    /// More TLS listeners' addresses.
    pub also_listen: Vec<SocketAddr>,
    /// The plain listeners redirect to HTTPS.
    pub redirect: bool,
    pub redirect_port: Option<u16>,
    pub config: Arc<ServerConfig>,
}

/// A TLS settings error: the key at fault (`tls.key`, `tls.names[0].certificate`) and why.
#[derive(Debug)]
pub struct TlsError {
    pub key: String,
    pub reason: String,
}

/// Reads every certificate and key `file` names (paths relative to `base`) and builds the server
/// configuration.
pub fn load(file: &TlsFile, base: &Path) -> Result<Tls, TlsError> {
    let mut also_listen = Vec::with_capacity(file.also_listen.len());
    for (i, addr) in file.also_listen.iter().enumerate() {
        also_listen.push(addr.parse().map_err(|_| TlsError {
            key: format!("tls.also_listen[{i}]"),
            reason: format!("{addr:?} is not an IP address and a port, like \"[::1]:8443\""),
        })?);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let default = certified_key(
        &provider,
        &base.join(&file.certificate),
        &base.join(&file.key),
        "tls.certificate",
        "tls.key",
    )?;
    let mut by_name = HashMap::new();
    for (i, named) in file.names.iter().enumerate() {
        let name = named.name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() || by_name.contains_key(&name) {
            return Err(TlsError {
                key: format!("tls.names[{i}].name"),
                reason: format!("{:?} is empty or given twice", named.name),
            });
        }
        let key = certified_key(
            &provider,
            &base.join(&named.certificate),
            &base.join(&named.key),
            &format!("tls.names[{i}].certificate"),
            &format!("tls.names[{i}].key"),
        )?;
        by_name.insert(name, key);
    }
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError {
            key: "tls".to_owned(),
            reason: e.to_string(),
        })?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(ByName { default, by_name }));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        port: file.port,
        also_listen,
        redirect: file.redirect,
        redirect_port: file.redirect_port,
        config: Arc::new(config),
    })
}

fn certified_key(
    provider: &CryptoProvider,
    cert_path: &Path,
    key_path: &Path,
    cert_key: &str,
    key_key: &str,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let fail = |key: &str, path: &PathBuf, reason: String| TlsError {
        key: key.to_owned(),
        reason: format!("{}: {reason}", path.display()),
    };
    let cert_path = cert_path.to_path_buf();
    let key_path = key_path.to_path_buf();
    let chain = CertificateDer::pem_file_iter(&cert_path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| fail(cert_key, &cert_path, pem_reason(e)))?;
    if chain.is_empty() {
        return Err(fail(
            cert_key,
            &cert_path,
            "no CERTIFICATE in the file".to_owned(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| fail(key_key, &key_path, pem_reason(e)))?;
    CertifiedKey::from_der(chain, key, provider)
        .map(Arc::new)
        .map_err(|e| {
            fail(
                key_key,
                &key_path,
                format!("does not fit the certificate: {e}"),
            )
        })
}

fn pem_reason(e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => e.to_string(),
        rustls::pki_types::pem::Error::NoItemsFound => "no PEM item of that kind".to_owned(),
        other => format!("not valid PEM: {other:?}"),
    }
}

/// The certificate for the name the client sent (SNI), or the default one.
#[derive(Debug)]
struct ByName {
    default: Arc<CertifiedKey>,
    by_name: HashMap<String, Arc<CertifiedKey>>,
}

impl ResolvesServerCert for ByName {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // rustls hands the name over validated and lower-cased (RFC 6066 §3).
        let chosen = hello
            .server_name()
            .and_then(|name| self.by_name.get(name))
            .unwrap_or(&self.default);
        Some(Arc::clone(chosen))
    }
}

/// The size of one pread from a file into the TLS writer: one TLS record's worth.
const FILE_CHUNK: usize = 16 * 1024;

/// What [`read`] got.
pub enum TlsRead {
    /// `n` bytes of plaintext were added to the buffer.
    Data(usize),
    /// Nothing yet: wait for the socket.
    WouldBlock,
    /// The peer closed (with or without close_notify), or the handshake failed.
    Eof,
}

/// Reads decrypted bytes into `buf`: what rustls holds first, then records from the socket.
/// `readable` turns false only when the socket said it would block (edge-triggered polling).
/// Hands rustls the bytes that arrived before it took over the socket (those after a PROXY
/// header), and sends what they call for. `false`: a bad handshake, so close.
pub fn take_early(
    tls: &mut rustls::ServerConnection,
    socket: &mut (impl Read + Write),
    mut early: &[u8],
) -> bool {
    while !early.is_empty() {
        match tls.read_tls(&mut early) {
            Ok(n) if n > 0 => {}
            _ => return false,
        }
        if tls.process_new_packets().is_err() {
            let _ = tls.write_tls(socket);
            return false;
        }
    }
    while tls.wants_write() {
        match tls.write_tls(socket) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    true
}

pub fn read(
    tls: &mut rustls::ServerConnection,
    socket: &mut (impl Read + Write),
    buf: &mut [u8],
    readable: &mut bool,
) -> TlsRead {
    loop {
        match tls.reader().read(buf) {
            Ok(0) => return TlsRead::Eof,
            Ok(n) => return TlsRead::Data(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return TlsRead::Eof,
        }
        if !*readable {
            return TlsRead::WouldBlock;
        }
        match tls.read_tls(socket) {
            Ok(0) => return TlsRead::Eof,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                *readable = false;
                return TlsRead::WouldBlock;
            }
            Err(_) => return TlsRead::Eof,
        }
        if tls.process_new_packets().is_err() {
            // A bad handshake or record: rustls queued an alert; say it once and go.
            let _ = tls.write_tls(socket);
            return TlsRead::Eof;
        }
        // Handshake messages for the client: out now (a full socket leaves them to `flush`).
        while tls.wants_write() {
            match tls.write_tls(socket) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
}

/// Writes the records rustls holds. `Ok(true)` when none are left, `Ok(false)` when the socket is
/// full.
pub fn write_records(
    tls: &mut rustls::ServerConnection,
    socket: &mut impl Write,
    writable: &mut bool,
) -> io::Result<bool> {
    while tls.wants_write() {
        if !*writable {
            return Ok(false);
        }
        match tls.write_tls(socket) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => *writable = false,
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Encrypts up to one record of `file[offset..end]`; returns the bytes taken (0: the file shrank).
pub fn write_file(
    tls: &mut rustls::ServerConnection,
    file: &File,
    offset: u64,
    end: u64,
) -> io::Result<usize> {
    let mut chunk = [0u8; FILE_CHUNK];
    let want = usize::try_from(end - offset)
        .unwrap_or(FILE_CHUNK)
        .min(FILE_CHUNK);
    let n = loop {
        match file.read_at(&mut chunk[..want], offset) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    if n == 0 {
        return Ok(0);
    }
    // The records of the previous chunk are out (the caller writes them first), so rustls takes
    // the whole chunk.
    tls.writer().write_all(&chunk[..n])?;
    Ok(n)
}

/// Queues close_notify and tries to write it before the write side is shut.
pub fn close_notify(tls: &mut rustls::ServerConnection, socket: &mut impl Write) {
    tls.send_close_notify();
    let mut writable = true;
    let _ = write_records(tls, socket, &mut writable);
}
