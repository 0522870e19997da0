//! Certificate authorities made by the test (with rcgen), and the server and
//! client certificates they sign, written as PEM files for nginx and haul.

use std::path::{Path, PathBuf};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

/// A certificate authority, and the files it writes into its directory.
pub struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
}

/// A certificate and its key, as files.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Who a certificate is for and when it is valid.
pub enum Leaf<'a> {
    /// A server known by these names (DNS names or IP addresses).
    Server(&'a [&'a str]),
    /// The same, valid only in 2000: expired.
    ExpiredServer(&'a [&'a str]),
    /// A client.
    Client(&'a str),
}

impl Authority {
    /// A new authority named `name`, writing its files into `dir`.
    pub fn new(name: &str, dir: &Path) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let authority = Authority {
            issuer,
            dir: dir.to_owned(),
        };
        std::fs::write(authority.pem_path(), authority.issuer.pem()).unwrap();
        authority
    }

    /// The authority's certificate, as a PEM file: what a client trusts.
    pub fn pem_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Signs a certificate for `leaf`, written as `<file>.pem` and
    /// `<file>.key` beside the authority's.
    pub fn issue(&self, leaf: Leaf<'_>, file: &str) -> Issued {
        let (names, common_name, client, expired) = match leaf {
            Leaf::Server(names) => (names, names[0], false, false),
            Leaf::ExpiredServer(names) => (names, names[0], false, true),
            Leaf::Client(name) => (&[][..], name, true, false),
        };
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        if expired {
            params.not_before = date_time_ymd(2000, 1, 1);
            params.not_after = date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let issued = Issued {
            cert: self.dir.join(format!("{file}.pem")),
            key: self.dir.join(format!("{file}.key")),
        };
        std::fs::write(&issued.cert, cert.pem()).unwrap();
        std::fs::write(&issued.key, key.serialize_pem()).unwrap();
        issued
    }
}
