//! A certificate authority made for one test (rcgen), and the server certificates it signs, as PEM
//! files: what the HTTPS tests (e2e and the browser) serve with.

use super::process::TempDir;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// A test CA, and leaf certificates it signs, written as PEM files into `dir`.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(dir: &TempDir) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "staticd test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        dir.write("ca.pem", issuer.pem().as_bytes());
        Ca { issuer }
    }

    /// Writes `NAME.pem` and `NAME.key` for a certificate valid for `names`.
    /// Returns the certificate's key pair (its public key pins it for a browser).
    pub fn leaf(&self, dir: &TempDir, file: &str, names: &[&str]) -> KeyPair {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        dir.write(&format!("{file}.pem"), cert.pem().as_bytes());
        dir.write(&format!("{file}.key"), key.serialize_pem().as_bytes());
        key
    }
}
