//! Which certificate authorities the TLS connections trust: Rekor over
//! HTTPS, Redis with `--redis-enable-tls` or `rediss://`, MySQL with `tls=true`.
//!
//! Trust comes from the platform, as for OpenSSL and Go programs: the
//! system's CA bundle, plus `SSL_CERT_FILE` (a PEM file) and every PEM file
//! in each directory of `SSL_CERT_DIR` (colon-separated, as the RHTAS
//! operator sets it for its private CA). Unlike Go, where these variables
//! *replace* the system locations, here they are added to them, so mounting
//! a private CA never stops a public one from being trusted. On a machine
//! without any CA bundle (a scratch or distroless image) the compiled-in
//! Mozilla roots stand in for the system store.
//!
//! The set is a property of the process environment, like the rustls crypto
//! provider, so it is read once per process ([`roots`]). The three client
//! libraries take roots in different forms (ureq a list of DER certificates,
//! redis a PEM buffer, mysql a file path), so this module hands each its
//! form of the one set; every certificate in it has already been accepted
//! as a trust anchor, because one bad certificate makes the redis and mysql
//! crates fail the whole handshake.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

/// CA bundles of the common Linux distributions, in Go's order
/// (`crypto/x509/root_linux.go`); the first one found is the system store.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",             // openSUSE
    "/etc/pki/tls/cacert.pem",            // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7+, UBI
    "/etc/ssl/cert.pem",                  // Alpine
];

/// Directories of single certificates, read when no bundle exists.
const SYSTEM_DIRS: &[&str] = &["/etc/ssl/certs", "/etc/pki/tls/certs"];

/// Where the platform's trust is configured, before anything is read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustSources {
    /// Candidate system bundles; the first readable one is used.
    pub system_bundles: Vec<PathBuf>,
    /// System certificate directories, read only when no bundle is found.
    pub system_dirs: Vec<PathBuf>,
    /// `SSL_CERT_FILE`.
    pub cert_file: Option<PathBuf>,
    /// `SSL_CERT_DIR`, split at `:`.
    pub cert_dirs: Vec<PathBuf>,
}

impl TrustSources {
    /// The system locations and what the environment adds. An empty
    /// variable counts as unset.
    pub fn from_env(env: &dyn Fn(&str) -> Option<OsString>) -> TrustSources {
        let set = |name: &str| env(name).filter(|v| !v.is_empty());
        TrustSources {
            system_bundles: SYSTEM_BUNDLES.iter().map(PathBuf::from).collect(),
            system_dirs: SYSTEM_DIRS.iter().map(PathBuf::from).collect(),
            cert_file: set("SSL_CERT_FILE").map(PathBuf::from),
            cert_dirs: set("SSL_CERT_DIR")
                .map(|dirs| {
                    std::env::split_paths(&dirs)
                        .filter(|d| !d.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The certificate authorities every TLS connection trusts.
pub struct TrustRoots {
    certs: Vec<CertificateDer<'static>>,
    /// Where they came from, for logs and error messages.
    origin: Vec<String>,
    /// [`TrustRoots::pem_path`], made on first use.
    pem_file: OnceLock<Result<PemFile, String>>,
}

impl fmt::Debug for TrustRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrustRoots({})", self.describe())
    }
}

/// The process's trust, read from the environment on first use.
pub fn roots() -> &'static TrustRoots {
    static ROOTS: OnceLock<TrustRoots> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let roots = TrustRoots::load(&TrustSources::from_env(&|name| std::env::var_os(name)));
        log::debug!("TLS trust: {}", roots.describe());
        roots
    })
}

/// Certificates read from one source; problems are logged, never fatal
/// (as in Go and OpenSSL, an unreadable location is skipped).
struct Collected {
    certs: Vec<CertificateDer<'static>>,
    seen: HashSet<Vec<u8>>,
    origin: Vec<String>,
}

impl Collected {
    /// Adds the certificates that are usable trust anchors and not yet
    /// present; returns how many were added.
    fn add(&mut self, certs: impl IntoIterator<Item = CertificateDer<'static>>) -> usize {
        let mut added = 0;
        for cert in certs {
            if self.seen.contains(cert.as_ref()) {
                continue;
            }
            if RootCertStore::empty().add(cert.clone()).is_err() {
                continue;
            }
            self.seen.insert(cert.as_ref().to_vec());
            self.certs.push(cert);
            added += 1;
        }
        added
    }
}

impl TrustRoots {
    /// Reads every source. Never fails: what cannot be read is reported
    /// (a warning for `SSL_CERT_FILE`, which names one file on purpose; a
    /// debug line for directories, which lists may name speculatively).
    pub fn load(sources: &TrustSources) -> TrustRoots {
        let mut c = Collected {
            certs: Vec::new(),
            seen: HashSet::new(),
            origin: Vec::new(),
        };
        let bundle = sources
            .system_bundles
            .iter()
            .find_map(|path| read_pem(path).ok().map(|certs| (path, certs)));
        match bundle {
            Some((path, certs)) => {
                let n = c.add(certs);
                c.origin.push(format!("{n} from {}", path.display()));
            }
            None => {
                let n: usize = sources
                    .system_dirs
                    .iter()
                    .map(|dir| c.add(read_pem_dir(dir).unwrap_or_default()))
                    .sum();
                if n > 0 {
                    c.origin.push(format!("{n} from the system directories"));
                } else {
                    let n = c.add(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
                    c.origin.push(format!(
                        "{n} compiled-in Mozilla roots (no system CA bundle found)"
                    ));
                }
            }
        }
        if let Some(path) = &sources.cert_file {
            match read_pem(path) {
                Ok(certs) if certs.is_empty() => log::warn!(
                    "SSL_CERT_FILE={}: no PEM certificate in it; ignored",
                    path.display()
                ),
                Ok(certs) => {
                    let n = c.add(certs);
                    c.origin
                        .push(format!("{n} from SSL_CERT_FILE={}", path.display()));
                }
                Err(e) => log::warn!("SSL_CERT_FILE={}: {e}; ignored", path.display()),
            }
        }
        for dir in &sources.cert_dirs {
            match read_pem_dir(dir) {
                Ok(certs) => {
                    let n = c.add(certs);
                    c.origin
                        .push(format!("{n} from SSL_CERT_DIR entry {}", dir.display()));
                }
                Err(e) => log::debug!("SSL_CERT_DIR entry {}: {e}; skipped", dir.display()),
            }
        }
        TrustRoots {
            certs: c.certs,
            origin: c.origin,
            pem_file: OnceLock::new(),
        }
    }

    /// E.g. `146 certificates: 146 from /etc/ssl/certs/ca-certificates.crt,
    /// 1 from SSL_CERT_FILE=/ca.pem`.
    pub fn describe(&self) -> String {
        format!(
            "{} certificates: {}",
            self.certs.len(),
            self.origin.join(", ")
        )
    }

    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certs
    }

    /// For ureq (Rekor).
    pub fn ureq_root_certs(&self) -> ureq::tls::RootCerts {
        let certs: Vec<ureq::tls::Certificate<'static>> = self
            .certs
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        ureq::tls::RootCerts::new_with_certs(&certs)
    }

    /// All certificates as one PEM text (for redis).
    pub fn pem(&self) -> Vec<u8> {
        let engine = base64::engine::general_purpose::STANDARD;
        let mut out = String::new();
        for cert in &self.certs {
            out.push_str("-----BEGIN CERTIFICATE-----\n");
            let b64 = engine.encode(cert.as_ref());
            for line in b64.as_bytes().chunks(64) {
                // base64 output is ASCII
                out.push_str(std::str::from_utf8(line).unwrap_or_default());
                out.push('\n');
            }
            out.push_str("-----END CERTIFICATE-----\n");
        }
        out.into_bytes()
    }

    /// A path from which the PEM text can be read (for mysql, which takes
    /// only a path). It lives as long as the process and needs no writable
    /// file system: on Linux it is an in-memory file (`memfd`) opened
    /// through `/proc/self/fd`.
    pub fn pem_path(&self) -> Result<&Path, String> {
        self.pem_file
            .get_or_init(|| PemFile::create(&self.pem()).map_err(|e| e.to_string()))
            .as_ref()
            .map(|f| f.path.as_path())
            .map_err(|e| format!("making the CA bundle readable for the MySQL client: {e}"))
    }
}

/// Whether an I/O error is a server certificate rustls rejected (ureq
/// reports TLS failures as I/O errors).
pub fn is_certificate_error(e: &io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|e| matches!(e, rustls::Error::InvalidCertificate(_)))
}

/// What to add to an error message that reports a rejected server
/// certificate (as rustls words it, whichever client passed it on), or
/// nothing for any other error.
pub fn certificate_hint(error: &str) -> &'static str {
    if error.contains("invalid peer certificate") {
        " (if the server's certificate comes from a private CA, add the CA with \
         SSL_CERT_FILE or SSL_CERT_DIR)"
    } else {
        ""
    }
}

/// Every PEM certificate in a file; an error only when the file cannot be
/// read at all.
fn read_pem(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let bytes = std::fs::read(path)?;
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(&bytes) {
        match item {
            Ok(cert) => certs.push(cert),
            Err(e) => {
                log::debug!("{}: {e}; the rest of the file is skipped", path.display());
                break;
            }
        }
    }
    Ok(certs)
}

/// The certificates of every file in a directory (symlinks followed);
/// files without a PEM certificate are skipped.
fn read_pem_dir(dir: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    names.sort();
    Ok(names
        .iter()
        .filter(|path| path.is_file())
        .flat_map(|path| read_pem(path).unwrap_or_default())
        .collect())
}

/// An anonymous file holding the PEM bundle, readable by path.
struct PemFile {
    /// Kept open: the path refers to this descriptor.
    _file: File,
    path: PathBuf,
}

impl PemFile {
    #[cfg(target_os = "linux")]
    fn create(pem: &[u8]) -> io::Result<PemFile> {
        use std::io::Write as _;
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: the name is a valid C string; memfd_create returns a new
        // descriptor (owned by the File from here on) or -1.
        let fd = unsafe { libc::memfd_create(c"rekor-backfill-ca".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        let mut file = unsafe { File::from_raw_fd(fd) };
        file.write_all(pem)?;
        let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        Ok(PemFile { _file: file, path })
    }

    #[cfg(not(target_os = "linux"))]
    fn create(pem: &[u8]) -> io::Result<PemFile> {
        let path =
            std::env::temp_dir().join(format!("rekor-backfill-ca-{}.pem", std::process::id()));
        std::fs::write(&path, pem)?;
        let file = File::open(&path)?;
        Ok(PemFile { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real CA certificates to play with, as PEM.
    fn mozilla(range: std::ops::Range<usize>) -> Vec<u8> {
        let roots = TrustRoots {
            certs: webpki_root_certs::TLS_SERVER_ROOT_CERTS[range].to_vec(),
            origin: Vec::new(),
            pem_file: OnceLock::new(),
        };
        roots.pem()
    }

    fn nothing() -> TrustSources {
        TrustSources {
            system_bundles: vec![PathBuf::from("/nonexistent/bundle.pem")],
            system_dirs: vec![PathBuf::from("/nonexistent/certs")],
            ..TrustSources::default()
        }
    }

    #[test]
    fn environment_is_added_to_the_system_store() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, mozilla(0..3)).unwrap();
        let file = dir.path().join("file.pem");
        // one new certificate and one the bundle already has
        std::fs::write(&file, [mozilla(3..4), mozilla(0..1)].concat()).unwrap();
        let certs = dir.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        std::fs::write(certs.join("a.pem"), mozilla(4..6)).unwrap();
        std::fs::write(certs.join("README"), "no certificate here").unwrap();
        std::fs::write(
            certs.join("bad.pem"),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        std::fs::create_dir(certs.join("subdir")).unwrap();
        let sources = TrustSources {
            system_bundles: vec![PathBuf::from("/nonexistent/bundle.pem"), bundle],
            system_dirs: vec![],
            cert_file: Some(file),
            cert_dirs: vec![PathBuf::from("/nonexistent/dir"), certs],
        };
        let roots = TrustRoots::load(&sources);
        assert_eq!(roots.certificates().len(), 6, "{}", roots.describe());
        let described = roots.describe();
        assert!(
            described.starts_with("6 certificates: 3 from "),
            "{described}"
        );
        assert!(described.contains("1 from SSL_CERT_FILE="), "{described}");
        assert!(
            described.contains("2 from SSL_CERT_DIR entry "),
            "{described}"
        );
    }

    #[test]
    fn without_a_system_store_the_mozilla_roots_stand_in() {
        let roots = TrustRoots::load(&nothing());
        assert!(roots.certificates().len() > 100, "{}", roots.describe());
        assert!(roots.describe().contains("compiled-in Mozilla roots"));
        // A system directory is the next choice.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("one.pem"), mozilla(7..8)).unwrap();
        let roots = TrustRoots::load(&TrustSources {
            system_dirs: vec![dir.path().to_path_buf()],
            ..nothing()
        });
        assert_eq!(roots.certificates().len(), 1, "{}", roots.describe());
    }

    #[test]
    fn unreadable_sources_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        for cert_file in [dir.path().join("missing.pem"), empty] {
            let roots = TrustRoots::load(&TrustSources {
                cert_file: Some(cert_file),
                cert_dirs: vec![dir.path().join("missing")],
                ..nothing()
            });
            assert!(
                !roots.describe().contains("SSL_CERT"),
                "{}",
                roots.describe()
            );
        }
    }

    #[test]
    fn certificate_errors_are_recognised() {
        let rejected = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = io::Error::new(io::ErrorKind::InvalidData, rejected.clone());
        assert!(is_certificate_error(&io));
        assert!(!is_certificate_error(&io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::DecryptError
        )));
        assert!(!is_certificate_error(&io::Error::from(
            io::ErrorKind::ConnectionRefused
        )));
        assert!(certificate_hint(&rejected.to_string()).contains("SSL_CERT_DIR"));
        assert_eq!(certificate_hint("connection refused"), "");
    }

    #[test]
    fn sources_from_the_environment() {
        let env = |name: &str| match name {
            "SSL_CERT_FILE" => Some(OsString::from("/ca/file.pem")),
            "SSL_CERT_DIR" => Some(OsString::from("/a:/b::/c")),
            _ => None,
        };
        let sources = TrustSources::from_env(&env);
        assert_eq!(sources.cert_file, Some(PathBuf::from("/ca/file.pem")));
        assert_eq!(
            sources.cert_dirs,
            [
                PathBuf::from("/a"),
                PathBuf::from("/b"),
                PathBuf::from("/c")
            ]
        );
        assert_eq!(sources.system_bundles[0], PathBuf::from(SYSTEM_BUNDLES[0]));
        let empty = TrustSources::from_env(&|_| Some(OsString::new()));
        assert_eq!((empty.cert_file, empty.cert_dirs.len()), (None, 0));
    }

    #[test]
    fn every_client_form_holds_the_same_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, mozilla(10..14)).unwrap();
        let roots = TrustRoots::load(&TrustSources {
            system_bundles: vec![bundle],
            ..nothing()
        });
        let from_pem: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&roots.pem())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(from_pem, roots.certificates());
        let path = roots.pem_path().unwrap();
        assert_eq!(std::fs::read(path).unwrap(), roots.pem());
        // read again (the mysql crate opens it on every connection)
        assert_eq!(std::fs::read(path).unwrap(), roots.pem());
        match roots.ureq_root_certs() {
            ureq::tls::RootCerts::Specific(certs) => assert_eq!(certs.len(), 4),
            _ => panic!("expected specific roots"),
        }
    }
}
