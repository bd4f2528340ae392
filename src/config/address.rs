//! Pieces of connection strings shared by `--mysql-dsn` and `--redis-url`:
//! `host:port` and percent-encoding. Errors never quote the input, because
//! in a malformed string the part being parsed may be a piece of a password.

/// `host:port`, `[v6]:port`, `host` or a bare IPv6 address; a missing port
/// is `default_port`.
pub fn split_host_port(addr: &str, default_port: u16) -> Result<(String, u16), String> {
    const BAD: &str = "bad address (expected host, host:port or [ipv6]:port)";
    let (host, port) = if let Some(bracketed) = addr.strip_prefix('[') {
        let (host, rest) = bracketed.split_once(']').ok_or(BAD)?;
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':').ok_or(BAD)?)),
        }
    } else {
        match addr.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => (addr, None), // bare IPv6
            Some((host, port)) => (host, Some(port)),
            None => (addr, None),
        }
    };
    if host.is_empty() {
        return Err("missing host in the address".to_string());
    }
    let port = match port {
        None => default_port,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or("bad port in the address (expected 1 to 65535)")?,
    };
    Ok((host.to_string(), port))
}

/// `%XX` decoding; with `plus_is_space`, `+` means a space (query strings).
pub fn percent_decode(text: &str, plus_is_space: bool) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("invalid percent-encoding")?;
                out.push(hex);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "percent-encoding does not decode to UTF-8".to_string())
}

pub fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        let ok = |addr, default| split_host_port(addr, default).unwrap();
        assert_eq!(ok("h:1", 9), ("h".to_string(), 1));
        assert_eq!(ok("h", 9), ("h".to_string(), 9));
        assert_eq!(ok("[::1]:7", 9), ("::1".to_string(), 7));
        assert_eq!(ok("[::1]", 9), ("::1".to_string(), 9));
        assert_eq!(ok("::1", 9), ("::1".to_string(), 9));
        assert!(split_host_port(":1", 9)
            .unwrap_err()
            .contains("missing host"));
        assert!(split_host_port("h:0", 9).unwrap_err().contains("bad port"));
        assert!(split_host_port("[::1", 9)
            .unwrap_err()
            .contains("bad address"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%40b%2F+", false).unwrap(), "a@b/+");
        assert_eq!(percent_decode("a+b", true).unwrap(), "a b");
        assert!(percent_decode("%zz", false).is_err());
        assert!(percent_decode("%ff", false).is_err());
    }
}
