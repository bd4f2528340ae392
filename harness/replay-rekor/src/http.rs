//! Just enough HTTP/1.1 for a Rekor client: a request line, headers, a body
//! sized by `Content-Length` or chunked, and keep-alive.
//!
//! Hand-written rather than taken from a server crate so that faults can
//! reach below HTTP: a test can close the socket instead of answering, or cut
//! a response in the middle of its body.

use std::io::{self, BufRead, Read, Write};

/// Longest request line or header line accepted.
const MAX_LINE: u64 = 16 * 1024;
/// Most headers accepted in one request.
const MAX_HEADERS: usize = 100;
/// Largest request body accepted (a batch request is a few hundred bytes).
const MAX_BODY: usize = 1 << 20;

/// One parsed request.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The raw query string, without the `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the client may send another request on this connection.
    pub keep_alive: bool,
    /// HTTP/1.0 clients need `Connection: keep-alive` echoed to keep the
    /// connection open.
    pub http10: bool,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter of that name, undecoded (Rekor's
    /// parameters are plain integers).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed the connection between requests: the normal end
    /// of a keep-alive connection.
    Closed,
    /// The socket failed or timed out.
    Io(io::Error),
    /// The client sent something that is not HTTP/1.x; answer 400 and close.
    Bad(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

/// Reads one line ending in LF; `Ok(None)` on end of stream before any byte.
fn read_line(r: &mut impl BufRead) -> Result<Option<String>, ReadError> {
    let mut buf = Vec::new();
    let n = r.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(if n as u64 == MAX_LINE {
            ReadError::Bad("line too long".into())
        } else {
            ReadError::Io(io::ErrorKind::UnexpectedEof.into())
        });
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| ReadError::Bad("non-UTF-8 header line".into()))
}

fn read_nonempty_line(r: &mut impl BufRead) -> Result<String, ReadError> {
    read_line(r)?.ok_or_else(|| ReadError::Io(io::ErrorKind::UnexpectedEof.into()))
}

/// Reads the next request from a connection.
pub fn read_request(r: &mut impl BufRead) -> Result<Request, ReadError> {
    // Tolerate empty lines between requests (RFC 9112 §2.2).
    let request_line = loop {
        match read_line(r)? {
            None => return Err(ReadError::Closed),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(format!("bad request line {request_line:?}")));
    };
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(ReadError::Bad(format!("unsupported version {version:?}"))),
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));

    let mut headers = Vec::new();
    loop {
        let line = read_nonempty_line(r)?;
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(ReadError::Bad("too many headers".into()));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Bad(format!("bad header line {line:?}")));
        };
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }

    let mut request = Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: Vec::new(),
        keep_alive: false,
        http10,
    };
    let connection = request.header("connection").map(str::to_ascii_lowercase);
    request.keep_alive = match connection.as_deref() {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => !http10,
    };

    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        request.body = read_chunked(r)?;
    } else if let Some(len) = request.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| ReadError::Bad(format!("bad Content-Length {len:?}")))?;
        if len > MAX_BODY {
            return Err(ReadError::Bad("body too large".into()));
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        request.body = body;
    }
    Ok(request)
}

fn read_chunked(r: &mut impl BufRead) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = read_nonempty_line(r)?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Bad(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_nonempty_line(r)?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(ReadError::Bad("body too large".into()));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        if !read_nonempty_line(r)?.is_empty() {
            return Err(ReadError::Bad("chunk not followed by CRLF".into()));
        }
    }
}

/// A response, always with a JSON (or empty) body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A Rekor-style error body: `{"code":N,"message":"..."}`.
    pub fn error(status: u16, message: &str) -> Response {
        let body = serde_json::json!({ "code": status, "message": message }).to_string();
        Response::json(status, body)
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// Status line and headers, ending with the empty line.
    fn head(&self, keep_alive: bool, http10: bool) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.status,
            reason(self.status),
            self.body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        if !keep_alive {
            head.push_str("Connection: close\r\n");
        } else if http10 {
            head.push_str("Connection: keep-alive\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    /// Writes the whole response in one `write_all`, so a small response
    /// leaves in one segment.
    pub fn write_to(&self, w: &mut impl Write, keep_alive: bool, http10: bool) -> io::Result<()> {
        let mut out = self.head(keep_alive, http10);
        out.extend_from_slice(&self.body);
        w.write_all(&out)?;
        w.flush()
    }

    /// Writes the head (announcing the full length) and only half of the
    /// body: the caller then closes the connection, as a server that dies
    /// mid-response would.
    pub fn write_truncated(&self, w: &mut impl Write) -> io::Result<()> {
        let mut out = self.head(true, false);
        out.extend_from_slice(&self.body[..self.body.len() / 2]);
        w.write_all(&out)?;
        w.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Request, ReadError> {
        read_request(&mut io::BufReader::new(raw.as_bytes()))
    }

    #[test]
    fn get_with_query_and_keep_alive() {
        let req =
            parse("GET /api/v1/log/entries?logIndex=42&x HTTP/1.1\r\nHost: a\r\nX-K: v\r\n\r\n")
                .unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/api/v1/log/entries");
        assert_eq!(req.query_param("logIndex"), Some("42"));
        assert_eq!(req.query_param("x"), Some(""));
        assert_eq!(req.query_param("y"), None);
        assert_eq!(req.header("x-k"), Some("v"));
        assert!(req.keep_alive);
        assert!(!req.http10);
    }

    #[test]
    fn connection_close_and_http10() {
        assert!(
            !parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
                .unwrap()
                .keep_alive
        );
        let old = parse("GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!old.keep_alive && old.http10);
        assert!(
            parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
                .unwrap()
                .keep_alive
        );
    }

    #[test]
    fn bodies_by_length_and_chunked() {
        let req = parse("POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello").unwrap();
        assert_eq!(req.body, b"hello");
        let req = parse(
            "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nT: x\r\n\r\n",
        )
        .unwrap();
        assert_eq!(req.body, b"hello");
    }

    #[test]
    fn two_requests_on_one_stream_then_closed() {
        let raw = "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
        let mut r = io::BufReader::new(raw.as_bytes());
        assert_eq!(read_request(&mut r).unwrap().path, "/a");
        assert_eq!(read_request(&mut r).unwrap().body, b"hi");
        assert!(matches!(read_request(&mut r), Err(ReadError::Closed)));
    }

    #[test]
    fn malformed_requests() {
        assert!(matches!(parse("NONSENSE\r\n\r\n"), Err(ReadError::Bad(_))));
        assert!(matches!(
            parse("GET / HTTP/2\r\n\r\n"),
            Err(ReadError::Bad(_))
        ));
        assert!(matches!(
            parse("GET / HTTP/1.1\r\nno-colon\r\n\r\n"),
            Err(ReadError::Bad(_))
        ));
        assert!(matches!(
            parse("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Err(ReadError::Bad(_))
        ));
        // Truncated body: the stream ends early.
        assert!(matches!(
            parse("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab"),
            Err(ReadError::Io(_))
        ));
    }

    #[test]
    fn response_bytes() {
        let resp = Response::json(503, "{}").with_header("Retry-After", "1");
        let mut out = Vec::new();
        resp.write_to(&mut out, false, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
             Content-Length: 2\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{}"
        );
        let mut out = Vec::new();
        Response::json(200, "0123456789")
            .write_truncated(&mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Content-Length: 10\r\n"));
        assert!(text.ends_with("\r\n\r\n01234"));
    }
}
