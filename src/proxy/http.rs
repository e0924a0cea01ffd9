//! The HTTP side of the proxy: `CONNECT host:port` and absolute-URI
//! requests (`GET http://host/path`), parsed with `httparse`.

use std::io::{Read, Write};
use std::net::TcpStream;

/// Longest request head the proxy reads.
pub const MAX_HEAD: usize = 64 * 1024;

/// What the client asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Ask {
    /// A tunnel to `host:port`.
    Connect { host: String, port: u16 },
    /// A plain HTTP request; `head` is the request to send upstream
    /// (origin-form, proxy headers removed, `Connection: close`), `rest`
    /// the bytes of the body already read.
    Forward {
        host: String,
        port: u16,
        head: Vec<u8>,
        rest: Vec<u8>,
    },
}

/// A request the proxy will not serve: status and reason.
#[derive(Debug, PartialEq, Eq)]
pub struct Bad(pub u16, pub String);

/// Reads the request head (up to `MAX_HEAD`): `first` is the byte already
/// peeked. Returns the head bytes and whatever followed.
pub fn read_head(s: &mut TcpStream) -> Result<(Vec<u8>, usize), Bad> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = s
            .read(&mut chunk)
            .map_err(|e| Bad(400, format!("reading the request failed: {e}")))?;
        if n == 0 {
            return Err(Bad(400, "the connection closed before a request".into()));
        }
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf[from..], b"\r\n\r\n") {
            return Ok((buf, from + end + 4));
        }
        // Bare LF line ends (which httparse takes): the head ends at the
        // first empty line either way, not at the 30 s timeout.
        let lf_from = buf.len().saturating_sub(n + 1);
        if let Some(end) = find(&buf[lf_from..], b"\n\n") {
            return Ok((buf, lf_from + end + 2));
        }
        if buf.len() > MAX_HEAD {
            return Err(Bad(431, "request head too large".into()));
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits `host[:port]` / `[v6][:port]`; `default` when no port.
pub fn split_authority(a: &str, default: Option<u16>) -> Result<(String, u16), Bad> {
    let bad = || Bad(400, format!("bad host `{}`", a.escape_debug()));
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        // Brackets hold an IPv6 literal and nothing else (`[localhost]`
        // and `[::1]x` are no authority).
        let (h, after) = rest.split_once(']').ok_or_else(bad)?;
        if h.parse::<std::net::Ipv6Addr>().is_err() || !(after.is_empty() || after.starts_with(':'))
        {
            return Err(bad());
        }
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p)),
            Some(_) => return Err(bad()),
            None => (a.to_string(), None),
        }
    };
    let port = match (port, default) {
        // Digits only, no sign and no leading zero (`+443`, `0443`: one
        // port, more than one spelling).
        (Some(p), _) if p.bytes().all(|b| b.is_ascii_digit()) && !p.starts_with('0') => {
            p.parse::<u16>().ok().ok_or_else(bad)?
        }
        (Some(_), _) => return Err(bad()),
        (None, Some(d)) => d,
        (None, None) => return Err(bad()),
    };
    if host.is_empty() || host.contains(['@', '/', '\\', ' ', '%']) {
        return Err(bad());
    }
    Ok((host, port))
}

/// Parses a request head.
pub fn parse(buf: &[u8], head_len: usize) -> Result<Ask, Bad> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(&buf[..head_len]) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(Bad(400, "incomplete request".into())),
        Err(e) => return Err(Bad(400, format!("malformed request: {e}"))),
    }
    let method = req.method.unwrap_or_default();
    let target = req.path.unwrap_or_default();
    let version = req.version.unwrap_or(1);
    if method.eq_ignore_ascii_case("CONNECT") {
        let (host, port) = split_authority(target, None)?;
        return Ok(Ask::Connect { host, port });
    }
    let uri = Uri::parse(target)?;
    let head = origin_head(method, version, &uri, req.headers)?;
    Ok(Ask::Forward {
        host: uri.host,
        port: uri.port,
        head,
        rest: buf[head_len..].to_vec(),
    })
}

/// An absolute `http://` request target, split.
struct Uri<'a> {
    host: String,
    port: u16,
    /// As written (`host[:port]`).
    authority: &'a str,
    /// `/` when the URI has none.
    path: &'a str,
}

impl<'a> Uri<'a> {
    fn parse(target: &'a str) -> Result<Self, Bad> {
        let Some(rest) = target
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("http://"))
            .map(|_| &target[7..])
        else {
            return Err(Bad(
                400,
                format!(
                    "only absolute http:// URIs and CONNECT are served (got `{}`); for https use CONNECT (HTTPS_PROXY)",
                    target.escape_debug()
                ),
            ));
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.contains('@') {
            return Err(Bad(400, "a user part in the URI is not served".into()));
        }
        let (host, port) = split_authority(authority, Some(80))?;
        let path = match &rest[end..] {
            "" => "/",
            p if p.starts_with('/') => p,
            p => return Err(Bad(400, format!("bad path `{}`", p.escape_debug()))),
        };
        Ok(Uri {
            host,
            port,
            authority,
            path,
        })
    }
}

/// The request head sent upstream: origin-form, the client's headers
/// without the hop-by-hop and proxy ones, a Host header, and
/// `Connection: close`.
fn origin_head(
    method: &str,
    version: u8,
    uri: &Uri,
    headers: &[httparse::Header],
) -> Result<Vec<u8>, Bad> {
    let Uri {
        host,
        port,
        authority,
        path,
    } = uri;
    // A Host header naming another host would make the allowed server
    // answer for that one (virtual hosting, CDNs): refused.
    let mut out = format!("{method} {path} HTTP/1.{version}\r\n").into_bytes();
    for h in headers {
        let name = h.name;
        if name.eq_ignore_ascii_case("host") {
            let v = std::str::from_utf8(h.value).unwrap_or("");
            let (hh, hp) = split_authority(v.trim(), Some(80))
                .map_err(|_| Bad(400, "bad Host header".into()))?;
            if !hh.eq_ignore_ascii_case(host) || hp != *port {
                return Err(Bad(
                    400,
                    format!("the Host header ({v}) names another host than the URI ({authority})"),
                ));
            }
        }
        if name.eq_ignore_ascii_case("connection")
            || name.eq_ignore_ascii_case("keep-alive")
            || name.to_ascii_lowercase().starts_with("proxy-")
        {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value);
        out.extend_from_slice(b"\r\n");
    }
    if !headers.iter().any(|h| h.name.eq_ignore_ascii_case("host")) {
        out.extend_from_slice(format!("Host: {authority}\r\n").as_bytes());
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    Ok(out)
}

/// Writes an error response with a one-line body.
pub fn respond(s: &mut TcpStream, status: u16, body: &str) {
    let reason = match status {
        403 => "Forbidden",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        _ => "Bad Request",
    };
    let msg = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(msg.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Ask, Bad> {
        let b = text.as_bytes();
        let end = find(b, b"\r\n\r\n").unwrap() + 4;
        parse(b, end)
    }

    /// A head with bare LF line ends parses (it used to wait for the
    /// head timeout: adversarial pass 6).
    #[test]
    fn bare_lf_heads_parse() {
        let text = b"GET http://localhost:1/ HTTP/1.1\nHost: localhost:1\n\n";
        let ask = parse(text, text.len()).unwrap();
        assert!(format!("{ask:?}").contains("localhost"), "{ask:?}");
    }

    /// One spelling per authority (adversarial pass 6 found `[localhost]`,
    /// `+18001` and `018001` taken).
    #[test]
    fn authorities_have_one_spelling() {
        assert_eq!(
            split_authority("localhost:8080", None).unwrap(),
            ("localhost".into(), 8080)
        );
        assert_eq!(
            split_authority("[::1]:443", None).unwrap(),
            ("::1".into(), 443)
        );
        assert_eq!(
            split_authority("[::1]", Some(80)).unwrap(),
            ("::1".into(), 80)
        );
        for bad in [
            "[localhost]:80",
            "[::1]x",
            "localhost:+8080",
            "localhost:08080",
            "localhost:0",
            "localhost:65536",
            "localhost:",
            "localhost:8 0",
        ] {
            assert!(split_authority(bad, Some(80)).is_err(), "{bad}");
        }
    }

    #[test]
    fn connect_and_forward() {
        assert_eq!(
            p("CONNECT crates.io:443 HTTP/1.1\r\nHost: crates.io:443\r\n\r\n"),
            Ok(Ask::Connect {
                host: "crates.io".into(),
                port: 443
            })
        );
        assert_eq!(
            p("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n"),
            Ok(Ask::Connect {
                host: "::1".into(),
                port: 8443
            })
        );
        match p(
            "GET http://localhost:8080/a?b HTTP/1.1\r\nHost: localhost:8080\r\nProxy-Connection: keep-alive\r\n\r\nBODY",
        ) {
            Ok(Ask::Forward {
                host,
                port,
                head,
                rest,
            }) => {
                assert_eq!((host.as_str(), port), ("localhost", 8080));
                let head = String::from_utf8(head).unwrap();
                assert!(head.starts_with("GET /a?b HTTP/1.1\r\n"), "{head}");
                assert!(!head.contains("Proxy-"), "{head}");
                assert!(head.ends_with("Connection: close\r\n\r\n"));
                assert_eq!(rest, b"BODY");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refusals() {
        for bad in [
            "CONNECT crates.io HTTP/1.1\r\n\r\n",
            "CONNECT crates.io:0 HTTP/1.1\r\n\r\n",
            "GET /relative HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET https://x/ HTTP/1.1\r\n\r\n",
            "GET http://user:pw@x/ HTTP/1.1\r\n\r\n",
            "GET http://allowed/ HTTP/1.1\r\nHost: evil\r\n\r\n",
            "GET http://allowed/ HTTP/1.1\r\nHost: allowed:81\r\n\r\n",
            "GET http://::1/ HTTP/1.1\r\n\r\n",
        ] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
    }
}
