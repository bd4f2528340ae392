//! `--mysql-dsn`: the go-sql-driver DSN that Rekor's Go tools take
//! (`user:pass@tcp(host:port)/db?params`), so existing deployment configs work
//! unchanged, plus the `mysql://user:pass@host:port/db?params` URL form.
//!
//! The Go form is split exactly like go-sql-driver's `ParseDSN` does: at the
//! LAST `/` (the database name), then at the last `@` before it (so the
//! password may contain `:`, `@` and `/`), then the user at the first `:`.
//! Parameters that only matter to Go (`parseTime`, `interpolateParams`,
//! `charset`, `loc`, …) are accepted and ignored; `tls` and the timeouts are
//! honoured.
//!
//! Error messages never quote the part of the text where the password may be
//! (see [`Echo`]), even when the DSN is malformed and the split went wrong.

use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use super::address::{percent_decode, split_host_port, strip_prefix_ignore_case};
use crate::duration::parse_go_duration;
use crate::redact::Secret;

/// Connect timeout when the DSN sets none, so a dead server fails the run
/// instead of hanging it.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Read/write timeout when the DSN sets none: generous for a 1 MiB insert,
/// short enough that a stuck server surfaces as an error.
const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MysqlAddress {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

/// The `tls` parameter, with go-sql-driver's meanings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MysqlTls {
    /// `tls=false` or absent: plain TCP.
    Disabled,
    /// `tls=true`: TLS with certificate and host name verification.
    Verify,
    /// `tls=skip-verify`: TLS without any certificate check.
    SkipVerify,
    /// `tls=preferred`: TLS without certificate check if the server offers
    /// it, plain TCP otherwise.
    Preferred,
}

/// A parsed `--mysql-dsn`. `Debug` is safe to log: the password is a [`Secret`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MysqlDsn {
    pub user: String,
    /// Empty means "no password".
    pub password: Secret,
    pub address: MysqlAddress,
    pub database: String,
    pub tls: MysqlTls,
    /// `None` means no timeout (the DSN said `timeout=0`).
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    pub write_timeout: Option<Duration>,
}

impl MysqlDsn {
    /// Parses either form. The error names the problem and never contains
    /// the password.
    pub fn parse(text: &str) -> Result<MysqlDsn, String> {
        let echo = Echo::new(text);
        let result = match strip_prefix_ignore_case(text, "mysql://") {
            Some(rest) => parse_url(text, text.len() - rest.len(), &echo),
            None => parse_go(text, &echo),
        };
        result.map_err(|why| format!("invalid --mysql-dsn: {why}"))
    }

    /// A human description without secrets, e.g. `mysql test@127.0.0.1:13306/test`.
    pub fn describe(&self) -> String {
        let address = match &self.address {
            MysqlAddress::Tcp { host, port } => crate::sink::host_port(host, *port),
            MysqlAddress::Unix(path) => format!("unix({})", path.display()),
        };
        let user = if self.user.is_empty() {
            String::new()
        } else {
            format!("{}@", self.user)
        };
        let tls = match self.tls {
            MysqlTls::Disabled => "",
            MysqlTls::Verify => " (tls)",
            MysqlTls::SkipVerify => " (tls, skip-verify)",
            MysqlTls::Preferred => " (tls preferred)",
        };
        format!("mysql {user}{address}/{}{tls}", self.database)
    }
}

/// Quotes fragments of the DSN in error messages, unless they overlap the
/// span where a password could be: from the first `:` after the scheme to
/// the last `@` of the whole text. That span is a superset of the password
/// under either form, also when a malformed DSN was split in the wrong place.
struct Echo<'a> {
    text: &'a str,
    secret_span: Range<usize>,
}

impl<'a> Echo<'a> {
    fn new(text: &'a str) -> Echo<'a> {
        let start =
            strip_prefix_ignore_case(text, "mysql://").map_or(0, |rest| text.len() - rest.len());
        let secret_span = match (text[start..].find(':'), text.rfind('@')) {
            (Some(colon), Some(at)) if start + colon < at => start + colon..at,
            _ => 0..0,
        };
        Echo { text, secret_span }
    }

    /// `"fragment"` or a placeholder; `range` is a byte range of the text.
    fn quote(&self, range: Range<usize>) -> String {
        let overlaps = range.start < self.secret_span.end && self.secret_span.start < range.end;
        if overlaps {
            "(not shown: it may contain the password)".to_string()
        } else {
            format!("{:?}", &self.text[range])
        }
    }

    /// Byte range of `part`, which must be a subslice of the text.
    fn range_of(&self, part: &str) -> Range<usize> {
        let start = part.as_ptr() as usize - self.text.as_ptr() as usize;
        start..start + part.len()
    }

    fn quote_part(&self, part: &str) -> String {
        self.quote(self.range_of(part))
    }
}

/// `[user[:password]@][net[(addr)]]/dbname[?param1=value1&...]`, split like
/// go-sql-driver's `ParseDSN`.
fn parse_go(text: &str, echo: &Echo) -> Result<MysqlDsn, String> {
    let Some(slash) = text.rfind('/') else {
        return Err(
            "missing '/' before the database name (expected [user[:password]@][net[(addr)]]/dbname[?params] or mysql://user:password@host:port/dbname)"
                .to_string(),
        );
    };
    let before = &text[..slash];
    let (user, password, net_addr) = match before.rfind('@') {
        Some(at) => {
            let user_info = &before[..at];
            let (user, password) = user_info.split_once(':').unwrap_or((user_info, ""));
            (user, password, &before[at + 1..])
        }
        None => ("", "", before),
    };
    let (net, addr) = match net_addr.find('(') {
        Some(open) => {
            let Some(inner) = net_addr[open + 1..].strip_suffix(')') else {
                return Err(if net_addr[open + 1..].contains(')') {
                    "text after the closing ')' of the address; did you forget to escape a parameter value containing '/'?".to_string()
                } else {
                    "network address not terminated (missing closing ')')".to_string()
                });
            };
            (&net_addr[..open], inner)
        }
        None => (net_addr, ""),
    };
    let after = &text[slash + 1..];
    let (db, params) = after.split_once('?').unwrap_or((after, ""));
    let database = percent_decode(db, false)
        .map_err(|why| format!("database name {}: {why}", echo.quote_part(db)))?;

    let address = match net {
        "" | "tcp" | "tcp4" | "tcp6" => {
            let addr = if addr.is_empty() {
                "127.0.0.1:3306"
            } else {
                addr
            };
            tcp(addr)?
        }
        "unix" => MysqlAddress::Unix(PathBuf::from(if addr.is_empty() {
            "/tmp/mysql.sock"
        } else {
            addr
        })),
        // Neither the network nor the address is quoted: in a malformed DSN
        // they may be pieces of the password.
        _ => {
            return Err(
                "unsupported network (use tcp(host:port) or unix(/path/to/socket))".to_string(),
            )
        }
    };
    with_params(
        user.to_string(),
        password.to_string(),
        address,
        database,
        params,
        echo,
    )
}

/// A DSN with the driver's defaults, then the `?params` applied: the one
/// place both syntaxes end.
fn with_params(
    user: String,
    password: String,
    address: MysqlAddress,
    database: String,
    params: &str,
    echo: &Echo,
) -> Result<MysqlDsn, String> {
    let mut dsn = MysqlDsn {
        user,
        password: Secret::new(password),
        address,
        database,
        tls: MysqlTls::Disabled,
        connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
        read_timeout: Some(DEFAULT_IO_TIMEOUT),
        write_timeout: Some(DEFAULT_IO_TIMEOUT),
    };
    apply_params(&mut dsn, params, echo)?;
    Ok(dsn)
}

/// `mysql://[user[:password]@]host[:port][/dbname][?params]`, with
/// percent-encoded user, password and database name. `start` is where the
/// text after the scheme begins.
fn parse_url(text: &str, start: usize, echo: &Echo) -> Result<MysqlDsn, String> {
    let rest = &text[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let (user_info, host_port) = match authority.rfind('@') {
        Some(at) => (&authority[..at], &authority[at + 1..]),
        None => ("", authority),
    };
    let (user, password) = user_info.split_once(':').unwrap_or((user_info, ""));
    let user = percent_decode(user, false).map_err(|why| format!("user name: {why}"))?;
    // The reason for a bad password encoding is generic on purpose: it must
    // not quote the offending bytes.
    let password = percent_decode(password, false)
        .map_err(|_| "password: invalid percent-encoding".to_string())?;
    if host_port.is_empty() {
        return Err("missing host after mysql://".to_string());
    }
    let address = tcp(host_port)?;

    let after = &rest[authority_end..];
    let after = after.split_once('#').map_or(after, |(before, _)| before);
    let (path, params) = after.split_once('?').unwrap_or((after, ""));
    let db = path.strip_prefix('/').unwrap_or(path);
    if db.contains('/') {
        return Err(format!(
            "database name {} contains '/'",
            echo.quote_part(db)
        ));
    }
    let database = percent_decode(db, false)
        .map_err(|why| format!("database name {}: {why}", echo.quote_part(db)))?;
    with_params(user, password, address, database, params, echo)
}

/// A TCP address; a missing port means 3306 (go-sql-driver appends it the
/// same way).
fn tcp(addr: &str) -> Result<MysqlAddress, String> {
    let (host, port) = split_host_port(addr, 3306)?;
    Ok(MysqlAddress::Tcp { host, port })
}

/// Parameters go-sql-driver understands that do not change how this tool
/// connects or writes. Accepted silently so Go DSNs work as they are.
const IGNORED_PARAMS: &[&str] = &[
    "allowAllFiles",
    "allowCleartextPasswords",
    "allowFallbackToPlaintext",
    "allowNativePasswords",
    "allowOldPasswords",
    "charset",
    "checkConnLiveness",
    "clientFoundRows",
    "collation",
    "columnsWithAlias",
    "compress",
    "connectionAttributes",
    "interpolateParams",
    "loc",
    "maxAllowedPacket",
    "multiStatements",
    "parseTime",
    "rejectReadOnly",
    "serverPubKey",
    "timeTruncate",
];

fn apply_params(dsn: &mut MysqlDsn, params: &str, echo: &Echo) -> Result<(), String> {
    for pair in params.split('&') {
        // Like go-sql-driver, a part without '=' is skipped.
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        match name {
            "tls" => {
                dsn.tls = match value.to_ascii_lowercase().as_str() {
                    "true" | "1" => MysqlTls::Verify,
                    "false" | "0" => MysqlTls::Disabled,
                    "skip-verify" => MysqlTls::SkipVerify,
                    "preferred" => MysqlTls::Preferred,
                    _ => {
                        return Err(format!(
                            "tls={}: named TLS configurations are not supported; use true, skip-verify, preferred or false",
                            echo.quote_part(value)
                        ))
                    }
                }
            }
            "timeout" | "readTimeout" | "writeTimeout" => {
                let duration = parse_go_duration(value)
                    .map_err(|why| format!("{name}={}: {why}", echo.quote_part(value)))?;
                let timeout = (!duration.is_zero()).then_some(duration);
                match name {
                    "timeout" => dsn.connect_timeout = timeout,
                    "readTimeout" => dsn.read_timeout = timeout,
                    _ => dsn.write_timeout = timeout,
                }
            }
            _ if IGNORED_PARAMS.contains(&name) => {}
            _ => log::debug!(
                "--mysql-dsn: ignoring unknown parameter {}",
                echo.quote_part(name)
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> MysqlAddress {
        MysqlAddress::Tcp {
            host: host.to_string(),
            port,
        }
    }

    #[test]
    fn go_form_as_rekor_uses_it() {
        let dsn = MysqlDsn::parse(
            "test:zaphod@tcp(127.0.0.1:13306)/test?parseTime=true&interpolateParams=true",
        )
        .unwrap();
        assert_eq!(dsn.user, "test");
        assert_eq!(dsn.password.expose(), "zaphod");
        assert_eq!(dsn.address, tcp("127.0.0.1", 13306));
        assert_eq!(dsn.database, "test");
        assert_eq!(dsn.tls, MysqlTls::Disabled);
        assert_eq!(dsn.connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
        assert_eq!(dsn.describe(), "mysql test@127.0.0.1:13306/test");
    }

    #[test]
    fn go_form_defaults() {
        let dsn = MysqlDsn::parse("/db").unwrap();
        assert_eq!(dsn.user, "");
        assert!(dsn.password.is_empty());
        assert_eq!(dsn.address, tcp("127.0.0.1", 3306));
        assert_eq!(dsn.database, "db");
        let dsn = MysqlDsn::parse("root@tcp(db.example)/").unwrap();
        assert_eq!(dsn.user, "root");
        assert_eq!(dsn.address, tcp("db.example", 3306));
        assert_eq!(dsn.database, "");
        let dsn = MysqlDsn::parse("u:p@/x").unwrap();
        assert_eq!(dsn.address, tcp("127.0.0.1", 3306));
        let dsn = MysqlDsn::parse("u@tcp([::1]:3307)/x").unwrap();
        assert_eq!(dsn.address, tcp("::1", 3307));
        assert_eq!(dsn.describe(), "mysql u@[::1]:3307/x");
        let dsn = MysqlDsn::parse("u@tcp(::1)/x").unwrap();
        assert_eq!(dsn.address, tcp("::1", 3306));
    }

    #[test]
    fn go_form_unix_socket() {
        let dsn = MysqlDsn::parse("user:pw@unix(/run/mysqld/mysqld.sock)/rekor").unwrap();
        assert_eq!(
            dsn.address,
            MysqlAddress::Unix(PathBuf::from("/run/mysqld/mysqld.sock"))
        );
        assert_eq!(
            dsn.describe(),
            "mysql user@unix(/run/mysqld/mysqld.sock)/rekor"
        );
        let dsn = MysqlDsn::parse("user@unix/rekor").unwrap();
        assert_eq!(
            dsn.address,
            MysqlAddress::Unix(PathBuf::from("/tmp/mysql.sock"))
        );
    }

    #[test]
    fn go_form_password_with_separators() {
        // go-sql-driver splits at the last '@' before the last '/', and the
        // user at the first ':'.
        let dsn = MysqlDsn::parse("us:p@ss:w/rd@@tcp(h:1)/db").unwrap();
        assert_eq!(dsn.user, "us");
        assert_eq!(dsn.password.expose(), "p@ss:w/rd@");
        assert_eq!(dsn.address, tcp("h", 1));
        assert_eq!(dsn.database, "db");
    }

    #[test]
    fn url_form() {
        let dsn =
            MysqlDsn::parse("mysql://te%40st:p%3Aa%2Fss@db.local:3307/re%20kor?tls=skip-verify")
                .unwrap();
        assert_eq!(dsn.user, "te@st");
        assert_eq!(dsn.password.expose(), "p:a/ss");
        assert_eq!(dsn.address, tcp("db.local", 3307));
        assert_eq!(dsn.database, "re kor");
        assert_eq!(dsn.tls, MysqlTls::SkipVerify);
        assert_eq!(
            dsn.describe(),
            "mysql te@st@db.local:3307/re kor (tls, skip-verify)"
        );
        let dsn = MysqlDsn::parse("MySQL://[::1]/x").unwrap();
        assert_eq!(dsn.address, tcp("::1", 3306));
        let dsn = MysqlDsn::parse("mysql://u:a@b@host").unwrap();
        assert_eq!(dsn.password.expose(), "a@b");
        assert_eq!(dsn.address, tcp("host", 3306));
        assert_eq!(dsn.database, "");
    }

    #[test]
    fn params() {
        let dsn = MysqlDsn::parse(
            "u@tcp(h:1)/d?tls=true&timeout=1m30s&readTimeout=500ms&writeTimeout=0&charset=utf8mb4&bogus=1&novalue",
        )
        .unwrap();
        assert_eq!(dsn.tls, MysqlTls::Verify);
        assert_eq!(dsn.connect_timeout, Some(Duration::from_secs(90)));
        assert_eq!(dsn.read_timeout, Some(Duration::from_millis(500)));
        assert_eq!(dsn.write_timeout, None);
        for (value, tls) in [
            ("1", MysqlTls::Verify),
            ("FALSE", MysqlTls::Disabled),
            ("0", MysqlTls::Disabled),
            ("Skip-Verify", MysqlTls::SkipVerify),
            ("preferred", MysqlTls::Preferred),
        ] {
            let dsn = MysqlDsn::parse(&format!("/d?tls={value}")).unwrap();
            assert_eq!(dsn.tls, tls, "tls={value}");
        }
        let err = MysqlDsn::parse("/d?tls=custom").unwrap_err();
        assert!(err.contains("tls=\"custom\""), "{err}");
        let err = MysqlDsn::parse("/d?timeout=5").unwrap_err();
        assert!(err.contains("missing unit"), "{err}");
        let err = MysqlDsn::parse("/d?readTimeout=-1s").unwrap_err();
        assert!(err.contains("readTimeout"), "{err}");
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            ("no-slash-at-all", "missing '/'"),
            ("u:p@tcp(h:1/db", "not terminated"),
            ("u:p@tcp(h:1)/db?loc=Europe/Berlin", "escape"),
            ("u:p@udp(h:1)/db", "unsupported network"),
            ("u:p@tcp(h:99999)/db", "bad port in the address"),
            ("u:p@tcp([::1)/db", "bad address"),
            ("u:p@tcp(h:0)/db", "bad port"),
            ("u:p@tcp(:5)/db", "missing host"),
            ("mysql://u:p@/db", "missing host"),
            ("mysql://u:p@h:x/db", "bad port"),
            ("/d%zz", "invalid percent-encoding"),
        ];
        for (dsn, expected) in cases {
            let err = MysqlDsn::parse(dsn).unwrap_err();
            assert!(err.starts_with("invalid --mysql-dsn: "), "{dsn}: {err}");
            assert!(err.contains(expected), "{dsn}: {err}");
        }
    }

    #[test]
    fn errors_never_contain_the_password() {
        let password = "S3cr3t-P@ss:w/rd";
        let encoded = "S3cr3t-P%40ss%3Aw%2Frd";
        let bad = [
            format!("test:{password}@tcp(127.0.0.1:13306"),
            format!("test:{password}@udp(127.0.0.1:13306)/test"),
            format!("test:{password}@tcp(127.0.0.1:999999)/test"),
            format!("test:{password}@tcp(127.0.0.1:1)/test?tls=mine"),
            format!("test:{password}@tcp(127.0.0.1:1)/te%st"),
            // no '/db': the split happens inside the password
            format!("test:{password}@tcp(127.0.0.1:13306)"),
            format!("test:{password}"),
            // the password's own '@' looks like the host separator
            format!("test:{password}?tls=bad"),
            format!("mysql://test:{encoded}@127.0.0.1:x/test"),
            format!("mysql://test:{password}@127.0.0.1:13306/test"),
            "mysql://test:S3cr3t%zz@h/test".to_string(),
        ];
        for dsn in &bad {
            let err = MysqlDsn::parse(dsn).unwrap_err();
            for secret in [
                password, encoded, "S3cr3t", "rd@tcp", "w/rd", "ss:w", "\"ss",
            ] {
                assert!(!err.contains(secret), "{dsn}: {err}");
            }
        }
    }

    #[test]
    fn debug_redacts_the_password() {
        let dsn = MysqlDsn::parse("test:zaphod@tcp(127.0.0.1:13306)/test").unwrap();
        let debug = format!("{dsn:?}");
        assert!(!debug.contains("zaphod"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(!dsn.describe().contains("zaphod"));
    }
}
