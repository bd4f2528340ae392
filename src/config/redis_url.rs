//! `--redis-url redis[s]://[user[:password]@]host[:port][/db]`, the form
//! Redis clients and deployment tools use. It is the only way to name an
//! ACL user (Redis 6+) and a database number: the `--redis-*` flags of
//! Rekor's Go tools have neither, so both are dropped there.
//!
//! User and password are percent-decoded. Error messages never quote the
//! URL: in a malformed one, any part may be a piece of the password.

use super::address::{percent_decode, split_host_port, strip_prefix_ignore_case};
use crate::redact::Secret;

/// Redis' own default port.
const DEFAULT_PORT: u16 = 6379;

/// A parsed `--redis-url`. `Debug` is safe to log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisUrl {
    /// `rediss://`.
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// The ACL user; `None` is Redis' `default` user.
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// The logical database (`SELECT`), 0 when the URL has no path.
    pub db: u32,
}

impl RedisUrl {
    pub fn parse(text: &str) -> Result<RedisUrl, String> {
        parse(text).map_err(|why| format!("invalid --redis-url: {why}"))
    }
}

fn parse(text: &str) -> Result<RedisUrl, String> {
    let (tls, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "rediss://") {
        (true, rest)
    } else if let Some(rest) = strip_prefix_ignore_case(text, "redis://") {
        (false, rest)
    } else {
        return Err(
            "expected redis://[user[:password]@]host[:port][/db] or rediss://… (TLS)".to_string(),
        );
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    // A '/', '?' or '#' in an unencoded password ends the authority early;
    // the '@' then shows up after it.
    let hint = if after.contains('@') {
        " (a '/', '?' or '#' in the user name or password must be percent-encoded)"
    } else {
        ""
    };
    let (user_info, host_port) = match authority.rfind('@') {
        Some(at) => (&authority[..at], &authority[at + 1..]),
        None => ("", authority),
    };
    let (user, password) = match user_info.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (user_info, None),
    };
    let username = percent_decode(user, false).map_err(|why| format!("user name: {why}"))?;
    // Generic on purpose: the reason must not quote the password's bytes.
    let password = password
        .map(|p| percent_decode(p, false).map_err(|_| "password: invalid percent-encoding"))
        .transpose()?;
    if host_port.is_empty() {
        return Err(format!("missing host{hint}"));
    }
    let (host, port) =
        split_host_port(host_port, DEFAULT_PORT).map_err(|why| format!("{why}{hint}"))?;
    if after.contains(['?', '#']) {
        return Err(format!(
            "query parameters and fragments are not supported (the database number goes in the path: redis://host:6379/2){hint}"
        ));
    }
    let path = after.strip_prefix('/').unwrap_or(after);
    let db = match path {
        "" => 0,
        _ => path.parse::<u32>().map_err(|_| {
            format!("the path must be a database number, as in redis://host:6379/2{hint}")
        })?,
    };
    Ok(RedisUrl {
        tls,
        host,
        port,
        username: Some(username).filter(|u| !u.is_empty()),
        password: password.filter(|p| !p.is_empty()).map(Secret::new),
        db,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_form() {
        let url = RedisUrl::parse("rediss://rekor%40idx:p%2Fa%3Ass@redis.example:6380/3").unwrap();
        assert!(url.tls);
        assert_eq!(url.host, "redis.example");
        assert_eq!(url.port, 6380);
        assert_eq!(url.username.as_deref(), Some("rekor@idx"));
        assert_eq!(url.password.as_ref().map(Secret::expose), Some("p/a:ss"));
        assert_eq!(url.db, 3);
        assert!(!format!("{url:?}").contains("p/a:ss"));
    }

    #[test]
    fn defaults_and_short_forms() {
        let url = RedisUrl::parse("redis://localhost").unwrap();
        assert!(!url.tls);
        assert_eq!(
            (url.host.as_str(), url.port, url.db),
            ("localhost", 6379, 0)
        );
        assert_eq!((url.username, url.password), (None, None));
        let url = RedisUrl::parse("REDIS://:only-pw@[::1]:7000/").unwrap();
        assert_eq!((url.host.as_str(), url.port, url.db), ("::1", 7000, 0));
        assert_eq!(url.username, None);
        assert_eq!(url.password.as_ref().map(Secret::expose), Some("only-pw"));
        let url = RedisUrl::parse("redis://user@h/15").unwrap();
        assert_eq!(url.username.as_deref(), Some("user"));
        assert_eq!((url.password, url.db), (None, 15));
        // the last '@' separates the host, as in the DSN
        let url = RedisUrl::parse("redis://u:a@b@h").unwrap();
        assert_eq!(url.password.as_ref().map(Secret::expose), Some("a@b"));
        assert_eq!(url.host, "h");
    }

    #[test]
    fn errors_name_the_problem_and_never_the_password() {
        let cases = [
            ("http://h", "expected redis://"),
            ("h:6379", "expected redis://"),
            ("redis://", "missing host"),
            ("redis://u:p@", "missing host"),
            ("redis://h:0", "bad port"),
            ("redis://h:x", "bad port"),
            ("redis://h/x", "database number"),
            ("redis://h/-1", "database number"),
            ("redis://h/0?protocol=resp3", "query parameters"),
            ("redis://u:S3cr/et@h", "percent-encoded"),
            ("redis://u:S3cr?et@h:1", "percent-encoded"),
            (
                "redis://u:S3cr%zzet@h",
                "password: invalid percent-encoding",
            ),
        ];
        for (text, expected) in cases {
            let err = RedisUrl::parse(text).unwrap_err();
            assert!(err.starts_with("invalid --redis-url: "), "{text}: {err}");
            assert!(err.contains(expected), "{text}: {err}");
            assert!(
                !err.contains("S3cr") && !err.contains("et@"),
                "{text}: {err}"
            );
        }
    }
}
