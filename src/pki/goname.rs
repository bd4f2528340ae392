//! How Go renders the IP and URI names of a certificate (Go 1.26).
//!
//! Sigstore turns SANs into index keys with `net.IP.String()` and
//! `url.URL.String()`, so a key is Go's *rendering* of the parsed name, not
//! the raw SAN bytes: the URI scheme is lowercased, paths and fragments are
//! re-escaped unless their original escaping is valid, IPv6 is written in
//! RFC 5952 form. `url.Parse` failing also makes the whole certificate a
//! parse error. Neither Rust's `url` crate (WHATWG rules) nor
//! `std::net::Ipv6Addr`'s `Display` reproduce this, hence the port.

/// Go `net.IP.String()` for a 4- or 16-byte SAN address.
pub fn render_ip(ip: &[u8]) -> Option<String> {
    match ip.len() {
        4 => Some(render_v4(ip)),
        16 if ip[..10].iter().all(|&b| b == 0) && ip[10] == 0xff && ip[11] == 0xff => {
            Some(render_v4(&ip[12..]))
        }
        16 => Some(render_v6(ip)),
        _ => None,
    }
}

fn render_v4(ip: &[u8]) -> String {
    format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
}

/// RFC 5952: lowercase hex without leading zeros, the longest run of at
/// least two zero groups (the first on ties) written as `::`.
fn render_v6(ip: &[u8]) -> String {
    let group = |i: usize| u16::from_be_bytes([ip[2 * i], ip[2 * i + 1]]);
    let (mut zero_start, mut zero_end) = (8usize, 8usize);
    for i in 0..8 {
        let mut j = i;
        while j < 8 && group(j) == 0 {
            j += 1;
        }
        if j - i >= 2 && j - i > zero_end - zero_start {
            (zero_start, zero_end) = (i, j);
        }
    }
    let mut out = String::with_capacity(39);
    let mut i = 0;
    while i < 8 {
        if i == zero_start {
            out.push_str("::");
            i = zero_end;
            if i >= 8 {
                break;
            }
        } else if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{:x}", group(i)));
        i += 1;
    }
    out
}

/// Encoding contexts of `net/url` that `Parse` and `String` use
/// (`encodePath`, `encodeHost`, …; the query modes are not needed).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

/// A URL as Go's `url.Parse` leaves it: the fields `String()` reads.
/// Decoded parts are bytes because `%FF` decodes to a non-UTF-8 byte.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoUrl {
    scheme: String,
    opaque: Vec<u8>,
    user: Option<(Vec<u8>, Option<Vec<u8>>)>,
    host: Vec<u8>,
    path: Vec<u8>,
    raw_path: Vec<u8>,
    omit_host: bool,
    force_query: bool,
    raw_query: Vec<u8>,
    fragment: Vec<u8>,
    raw_fragment: Vec<u8>,
}

impl GoUrl {
    /// Go `url.Parse`.
    pub fn parse(raw: &[u8]) -> Result<GoUrl, String> {
        let (u, frag) = match raw.iter().position(|&b| b == b'#') {
            Some(i) => (&raw[..i], Some(&raw[i + 1..])),
            None => (raw, None),
        };
        let mut url = parse_without_fragment(u)?;
        if let Some(frag) = frag.filter(|f| !f.is_empty()) {
            let fragment = unescape(frag, Mode::Fragment)?;
            url.raw_fragment = if escape(&fragment, Mode::Fragment) == frag {
                Vec::new()
            } else {
                frag.to_vec()
            };
            url.fragment = fragment;
        }
        Ok(url)
    }

    /// The decoded host (`u.Host`), possibly with `:port` or brackets.
    pub fn host(&self) -> &[u8] {
        &self.host
    }

    /// Go `(*url.URL).String()`. Always ASCII: every decoded part is
    /// re-escaped and the verbatim parts (opaque, query) come from an
    /// IA5 (ASCII) SAN.
    pub fn render(&self) -> String {
        let mut buf: Vec<u8> = Vec::new();
        if !self.scheme.is_empty() {
            buf.extend_from_slice(self.scheme.as_bytes());
            buf.push(b':');
        }
        if !self.opaque.is_empty() {
            buf.extend_from_slice(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                if self.omit_host && self.host.is_empty() && self.user.is_none() {
                    // omit empty host
                } else {
                    if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                        buf.extend_from_slice(b"//");
                    }
                    if let Some((name, password)) = &self.user {
                        buf.extend_from_slice(&escape(name, Mode::UserPassword));
                        if let Some(password) = password {
                            buf.push(b':');
                            buf.extend_from_slice(&escape(password, Mode::UserPassword));
                        }
                        buf.push(b'@');
                    }
                    if !self.host.is_empty() {
                        buf.extend_from_slice(&escape(&self.host, Mode::Host));
                    }
                }
            }
            let path = self.escaped_path();
            if path.first().is_some_and(|&c| c != b'/') && !self.host.is_empty() {
                buf.push(b'/');
            }
            if buf.is_empty() {
                let segment = path.split(|&c| c == b'/').next().unwrap_or_default();
                if segment.contains(&b':') {
                    buf.extend_from_slice(b"./");
                }
            }
            buf.extend_from_slice(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            buf.push(b'?');
            buf.extend_from_slice(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push(b'#');
            buf.extend_from_slice(&self.escaped_fragment());
        }
        String::from_utf8_lossy(&buf).into_owned()
    }

    fn escaped_path(&self) -> Vec<u8> {
        if !self.raw_path.is_empty() && valid_encoded(&self.raw_path, Mode::Path) {
            if let Ok(p) = unescape(&self.raw_path, Mode::Path) {
                if p == self.path {
                    return self.raw_path.clone();
                }
            }
        }
        if self.path == b"*" {
            return b"*".to_vec();
        }
        escape(&self.path, Mode::Path)
    }

    fn escaped_fragment(&self) -> Vec<u8> {
        if !self.raw_fragment.is_empty() && valid_encoded(&self.raw_fragment, Mode::Fragment) {
            if let Ok(f) = unescape(&self.raw_fragment, Mode::Fragment) {
                if f == self.fragment {
                    return self.raw_fragment.clone();
                }
            }
        }
        escape(&self.fragment, Mode::Fragment)
    }
}

/// Go's unexported `parse(rawURL, viaRequest=false)`.
fn parse_without_fragment(raw: &[u8]) -> Result<GoUrl, String> {
    if raw.iter().any(|&b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut url = GoUrl::default();
    if raw == b"*" {
        url.path = b"*".to_vec();
        return Ok(url);
    }
    let (scheme, mut rest) = get_scheme(raw)?;
    url.scheme = String::from_utf8_lossy(scheme).to_ascii_lowercase();

    let question_marks = rest.iter().filter(|&&b| b == b'?').count();
    if rest.last() == Some(&b'?') && question_marks == 1 {
        url.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some(i) = rest.iter().position(|&b| b == b'?') {
        url.raw_query = rest[i + 1..].to_vec();
        rest = &rest[..i];
    }

    if !rest.starts_with(b"/") {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_vec();
            return Ok(url);
        }
        let segment = rest.split(|&c| c == b'/').next().unwrap_or_default();
        if segment.contains(&b':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }

    if (!url.scheme.is_empty() || !rest.starts_with(b"///")) && rest.starts_with(b"//") {
        let mut authority = &rest[2..];
        rest = b"";
        if let Some(i) = authority.iter().position(|&b| b == b'/') {
            rest = &authority[i..];
            authority = &authority[..i];
        }
        let (user, host) = parse_authority(authority)?;
        url.user = user;
        url.host = host;
    } else if !url.scheme.is_empty() && rest.starts_with(b"/") {
        url.omit_host = true;
    }

    let path = unescape(rest, Mode::Path)?;
    url.raw_path = if escape(&path, Mode::Path) == rest {
        Vec::new()
    } else {
        rest.to_vec()
    };
    url.path = path;
    Ok(url)
}

/// `scheme:` prefix, if any (`[a-zA-Z][a-zA-Z0-9+-.]*:`).
fn get_scheme(raw: &[u8]) -> Result<(&[u8], &[u8]), String> {
    for (i, &c) in raw.iter().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i == 0 => return Ok((b"", raw)),
            b'0'..=b'9' | b'+' | b'-' | b'.' => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok((b"", raw)),
        }
    }
    Ok((b"", raw))
}

type UserInfo = Option<(Vec<u8>, Option<Vec<u8>>)>;

fn parse_authority(authority: &[u8]) -> Result<(UserInfo, Vec<u8>), String> {
    let at = authority.iter().rposition(|&b| b == b'@');
    let host = parse_host(at.map_or(authority, |i| &authority[i + 1..]))?;
    let Some(i) = at else {
        return Ok((None, host));
    };
    let userinfo = &authority[..i];
    if !valid_userinfo(userinfo) {
        return Err("net/url: invalid userinfo".into());
    }
    let user = match userinfo.iter().position(|&b| b == b':') {
        None => (unescape(userinfo, Mode::UserPassword)?, None),
        Some(c) => (
            unescape(&userinfo[..c], Mode::UserPassword)?,
            Some(unescape(&userinfo[c + 1..], Mode::UserPassword)?),
        ),
    };
    Ok((Some(user), host))
}

fn valid_userinfo(s: &[u8]) -> bool {
    // Go ranges over runes; input here is ASCII (IA5), so bytes suffice,
    // and any non-ASCII byte is rejected just like a non-ASCII rune.
    s.iter().all(|&c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b':'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'%'
                    | b'@'
            )
    })
}

fn parse_host(host: &[u8]) -> Result<Vec<u8>, String> {
    match host.iter().rposition(|&b| b == b'[') {
        Some(open) if open > 0 => Err("invalid IP-literal".into()),
        Some(_) => {
            let close = host
                .iter()
                .rposition(|&b| b == b']')
                .ok_or("missing ']' in host")?;
            let colon_port = &host[close + 1..];
            if !valid_optional_port(colon_port) {
                return Err("invalid port after host".into());
            }
            let unescaped_port = unescape(colon_port, Mode::Host)?;
            // `close` may sit before `open` in malformed input; Go would
            // panic slicing host[1:close] when close == 0 ("]["), which
            // cannot be reached: rposition('[') == 0 means close > 0 or no ']'.
            let hostname = host.get(1..close).ok_or("invalid IP-literal")?;
            let unescaped = match find(hostname, b"%25") {
                Some(zone) => {
                    let mut h = unescape(&hostname[..zone], Mode::Host)?;
                    h.extend(unescape(&hostname[zone..], Mode::Zone)?);
                    h
                }
                None => unescape(hostname, Mode::Host)?,
            };
            match netip_parse_addr(&unescaped) {
                None => Err("invalid host".into()),
                Some(IpKind::V4) => Err("invalid IP-literal".into()),
                Some(IpKind::V6) => {
                    let mut out = Vec::with_capacity(unescaped.len() + 2 + unescaped_port.len());
                    out.push(b'[');
                    out.extend(unescaped);
                    out.push(b']');
                    out.extend(unescaped_port);
                    Ok(out)
                }
            }
        }
        None => {
            // Rekor's go.mod says `go 1.25`, so the GODEBUG default is
            // urlstrictcolons=0: the port starts at the last colon, for
            // every scheme (Go 1.26 modules default to a stricter rule).
            if let Some(last) = host.iter().rposition(|&b| b == b':') {
                if !valid_optional_port(&host[last..]) {
                    return Err("invalid port after host".into());
                }
            }
            unescape(host, Mode::Host)
        }
    }
}

fn valid_optional_port(port: &[u8]) -> bool {
    match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

/// Go `shouldEscape` (the function `net/url`'s lookup table is generated from).
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => return false,
            Mode::Host | Mode::Zone => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Go `unescape`.
fn unescape(s: &[u8], mode: Mode) -> Result<Vec<u8>, String> {
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                if i + 2 >= s.len()
                    || !s[i + 1].is_ascii_hexdigit()
                    || !s[i + 2].is_ascii_hexdigit()
                {
                    return Err("invalid URL escape".into());
                }
                let is_25 = &s[i..i + 3] == b"%25";
                if mode == Mode::Host && unhex(s[i + 1]) < 8 && !is_25 {
                    return Err("invalid URL escape".into());
                }
                if mode == Mode::Zone {
                    let v = unhex(s[i + 1]) << 4 | unhex(s[i + 2]);
                    if !is_25 && v != b' ' && should_escape(v, Mode::Host) {
                        return Err("invalid URL escape".into());
                    }
                }
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err("invalid character in host name".into());
                }
                i += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                out.push(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Go `escape`.
fn escape(s: &[u8], mode: Mode) -> Vec<u8> {
    const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        if should_escape(c, mode) {
            out.extend_from_slice(&[
                b'%',
                UPPER_HEX[usize::from(c >> 4)],
                UPPER_HEX[usize::from(c & 15)],
            ]);
        } else {
            out.push(c);
        }
    }
    out
}

/// Go `validEncoded`.
fn valid_encoded(s: &[u8], mode: Mode) -> bool {
    s.iter().all(|&c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c, mode)
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Go `net.ParseIP(s) != nil`: an IPv4 or IPv6 literal without a zone.
pub fn parses_as_ip(s: &[u8]) -> bool {
    !s.contains(&b'%') && netip_parse_addr(s).is_some()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IpKind {
    V4,
    V6,
}

/// Go `netip.ParseAddr`, reduced to "valid, and which family".
fn netip_parse_addr(s: &[u8]) -> Option<IpKind> {
    for &c in s {
        match c {
            b'.' => return ipv4_fields(s).map(|_| IpKind::V4),
            b':' => return ipv6_valid(s).then_some(IpKind::V6),
            b'%' => return None,
            _ => {}
        }
    }
    None
}

/// Go `parseIPv4Fields`: four decimal octets, no leading zeros.
fn ipv4_fields(s: &[u8]) -> Option<[u8; 4]> {
    let mut fields = [0u8; 4];
    let (mut val, mut pos, mut digits) = (0u32, 0usize, 0usize);
    for (i, &c) in s.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                if digits == 1 && val == 0 {
                    return None;
                }
                val = val * 10 + u32::from(c - b'0');
                digits += 1;
                if val > 255 {
                    return None;
                }
            }
            b'.' => {
                if i == 0 || i == s.len() - 1 || s[i - 1] == b'.' || pos == 3 {
                    return None;
                }
                fields[pos] = val as u8;
                pos += 1;
                val = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if pos < 3 {
        return None;
    }
    fields[3] = val as u8;
    Some(fields)
}

/// Go `parseIPv6`, acceptance only.
fn ipv6_valid(input: &[u8]) -> bool {
    let mut s = input;
    if let Some(p) = s.iter().position(|&b| b == b'%') {
        if p + 1 == s.len() {
            return false; // empty zone
        }
        s = &s[..p];
    }
    let mut ellipsis: Option<usize> = None;
    if s.starts_with(b"::") {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return true;
        }
    }
    let mut i = 0usize;
    while i < 16 {
        let mut off = 0usize;
        let mut acc: u32 = 0;
        while off < s.len() {
            let Some(d) = (s[off] as char).to_digit(16) else {
                break;
            };
            acc = (acc << 4) + d;
            if off > 3 || acc > 0xffff {
                return false;
            }
            off += 1;
        }
        if off == 0 {
            return false;
        }
        if off < s.len() && s[off] == b'.' {
            if (ellipsis.is_none() && i != 12) || i + 4 > 16 {
                return false;
            }
            if ipv4_fields(s).is_none() {
                return false;
            }
            s = b"";
            i += 4;
            break;
        }
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' || s.len() == 1 {
            return false;
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return false;
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return false;
    }
    match ellipsis {
        None => i == 16,
        Some(_) => i < 16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(s: &str) -> Result<String, String> {
        GoUrl::parse(s.as_bytes()).map(|u| u.render())
    }

    #[test]
    fn ipv4_and_rfc5952_ipv6() {
        assert_eq!(render_ip(&[10, 0, 0, 1]).unwrap(), "10.0.0.1");
        let v6 = |s: &str| render_ip(&s.parse::<std::net::Ipv6Addr>().unwrap().octets()).unwrap();
        assert_eq!(v6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
        assert_eq!(
            v6("2001:0db8:0000:0000:0000:0000:0002:0001"),
            "2001:db8::2:1"
        );
        assert_eq!(v6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("1::"), "1::");
        assert_eq!(v6("FE80:0:0:0:0:0:0:ABCD"), "fe80::abcd");
        // IPv4-mapped renders dotted, like net.IP.To4.
        assert_eq!(v6("::ffff:1.2.3.4"), "1.2.3.4");
        // Deprecated IPv4-compatible stays hex (Rust's Display differs).
        assert_eq!(v6("::102:304"), "::102:304");
        assert_eq!(render_ip(&[1, 2, 3]), None);
    }

    #[test]
    fn common_sigstore_uris_render_identically() {
        for s in [
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
            "https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main",
            "spiffe://example.org/ns/default/sa/builder",
            "https://accounts.google.com",
            "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
            "mailto:someone@example.com",
        ] {
            assert_eq!(render(s).unwrap(), s);
        }
    }

    #[test]
    fn go_rendering_quirks() {
        // Scheme lowercased.
        assert_eq!(
            render("HTTPS://Example.com/A").unwrap(),
            "https://Example.com/A"
        );
        // Invalid original escaping of the path is replaced.
        assert_eq!(render("https://h/a{b}").unwrap(), "https://h/a%7Bb%7D");
        assert_eq!(render("https://h/a%2fb").unwrap(), "https://h/a%2fb");
        assert_eq!(render("https://h/a%41").unwrap(), "https://h/a%41");
        assert_eq!(render("https://h/a b").unwrap(), "https://h/a%20b");
        // Query verbatim, fragment re-escaped only when needed.
        assert_eq!(
            render("https://h/p?x={y}#f g").unwrap(),
            "https://h/p?x={y}#f%20g"
        );
        assert_eq!(render("https://h?").unwrap(), "https://h?");
        assert_eq!(render("file:///etc").unwrap(), "file:///etc");
        assert_eq!(render("https://u:p%40@h/").unwrap(), "https://u:p%40@h/");
        assert_eq!(render("https:/only/path").unwrap(), "https:/only/path");
        assert_eq!(
            render("https://[FE80::1%25en0]:8080/").unwrap(),
            "https://[FE80::1%25en0]:8080/"
        );
    }

    #[test]
    fn go_parse_errors() {
        assert!(render("https://h/%zz").is_err());
        assert!(render("https://h:port/").is_err());
        // GODEBUG urlstrictcolons=0 (go 1.25 module): last colon starts the port.
        assert!(render("https://a:1:2/").is_ok());
        assert!(render("https://a:b:2/").is_ok());
        assert!(render("https://a:1:b/").is_err());
        assert!(render("https://[1.2.3.4]/").is_err());
        assert!(render("https://x[::1]/").is_err());
        assert!(render("https://h%41/").is_err());
        assert!(render("https://h\u{7f}/").is_err());
        assert!(render(":nope").is_err());
        assert!(render("a:b/c").is_ok());
        assert!(render("/a:b").is_ok());
        assert!(render("https://us er@h/").is_err());
    }
}
