//! The network vocabulary beyond on/off (contract §6): TCP ports the command
//! may connect to or bind, and host patterns it may reach through cordon's
//! proxy. Parsing and validation only; the backends decide how.

use std::fmt;

use serde::Serialize;

use super::error::{EntryError, entry_faults};

/// Why a port or a domain pattern is refused; displays as the one-line
/// message, `origin` (the list or flag) first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// Not a number from 1 to 65535.
    Port { origin: String, text: String },
    /// A `--allow-domain` pattern, and what is wrong with it.
    Domain(EntryError<DomainFault>),
    /// The network on in full and a port or domain list that would
    /// restrict it (`domains`: the list is of domains).
    FullAndListed { domains: bool },
}

entry_faults! {
    /// What is wrong with a domain pattern.
    pub enum DomainFault: "domain pattern" {
        Empty => "is empty; give a host such as `crates.io` or `*.npmjs.org`",
        Scheme => "has a scheme; give the host alone, e.g. `crates.io` (add `:443` to limit the port)",
        PathPart => "has a path, query or user part; give the host alone, e.g. `crates.io`",
        UnclosedBracket => "has an unclosed `[`; write an IPv6 address as `[::1]`",
        AfterBracket => "has text after `]`; write `[::1]:PORT`",
        BareIpv6 => "looks like a bare IPv6 address; write it in brackets, `[::1]` or `[::1]:443`",
        Port => "has a port outside 1-65535; give e.g. `crates.io:443`",
        Wildcard => "may hold `*` only as a leading `*.` before a domain, e.g. `*.npmjs.org`",
        BadIpv6 => "is not a valid IPv6 address",
        NotHostName => "is not a host name (letters, digits, `-`, `_` and dots; non-ASCII names in their xn-- form)",
        TopLevel => "matches a whole top-level domain; name a registered domain, e.g. `*.npmjs.org`",
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Port { origin, text } => write!(
                f,
                "{origin}: port `{}` is not a TCP port; give a number from 1 to 65535",
                text.escape_debug()
            ),
            NetError::Domain(e) => e.fmt(f),
            NetError::FullAndListed { domains } => {
                let what = if *domains {
                    "--allow-domain / [network] domains"
                } else {
                    "--allow-connect-tcp / --allow-bind-tcp / [network] connect_tcp, bind_tcp"
                };
                write!(
                    f,
                    "the network is on in full (`--network` or `enabled = true`) and {what} would restrict it; drop one: pass --no-network to keep only the listed ports and domains"
                )
            }
        }
    }
}

impl std::error::Error for NetError {}

/// A TCP port from a profile list or a flag: 1..=65535.
pub fn parse_port(text: &str, origin: &str) -> Result<u16, NetError> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(NetError::Port {
            origin: origin.to_string(),
            text: text.to_string(),
        }),
    }
}

/// A port from a TOML/JSON list, where it is a number.
pub fn check_port(n: i64, origin: &str) -> Result<u16, NetError> {
    parse_port(&n.to_string(), origin)
}

/// `[::1]:443`, `host:443`, `host`: the host and the port's text. A bare
/// IPv6 literal has several colons.
fn split_port(t: &str) -> Result<(&str, Option<&str>), DomainFault> {
    if let Some(rest) = t.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or(DomainFault::UnclosedBracket)?;
        return match after {
            "" => Ok((h, None)),
            p => match p.strip_prefix(':') {
                Some(p) => Ok((h, Some(p))),
                None => Err(DomainFault::AfterBracket),
            },
        };
    }
    match t.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Ok((h, Some(p))),
        Some(_) => Err(DomainFault::BareIpv6),
        None => Ok((t, None)),
    }
}

/// One `--allow-domain` pattern: `crates.io`, `*.npmjs.org`, `host:443`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DomainPattern {
    /// Lower case, without a trailing dot; for a wildcard, the suffix
    /// without `*.`.
    pub host: String,
    /// `*.suffix`: any host strictly below `suffix` (not `suffix` itself).
    pub wildcard: bool,
    /// Only this port, when given.
    pub port: Option<u16>,
}

impl DomainPattern {
    /// Parses a pattern. A scheme, path, userinfo, query, empty pattern,
    /// bad port or a `*` anywhere but a leading `*.` is refused: each
    /// would either never match or match more than written.
    pub fn parse(text: &str, origin: &str) -> Result<DomainPattern, NetError> {
        Self::parse_text(text)
            .map_err(|fault| NetError::Domain(EntryError::new(origin, text, fault)))
    }

    fn parse_text(text: &str) -> Result<DomainPattern, DomainFault> {
        let t = text.trim();
        if t.is_empty() {
            return Err(DomainFault::Empty);
        }
        if t.contains("://") {
            return Err(DomainFault::Scheme);
        }
        if t.contains(['/', '?', '#', '@', '\\']) || t.chars().any(char::is_whitespace) {
            return Err(DomainFault::PathPart);
        }
        let (host, port) = split_port(t)?;
        let port = match port {
            Some(p) => Some(parse_port(p, "").map_err(|_| DomainFault::Port)?),
            None => None,
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let (wildcard, host) = match host.strip_prefix("*.") {
            Some(rest) => (true, rest.to_string()),
            None => (false, host),
        };
        if host.is_empty() || host.contains('*') {
            return Err(DomainFault::Wildcard);
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        let is_v6 = host.contains(':') || t.starts_with('[');
        if is_v6 {
            if wildcard || host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(DomainFault::BadIpv6);
            }
        } else if !host.split('.').all(label_ok) {
            return Err(DomainFault::NotHostName);
        }
        if wildcard && !host.contains('.') {
            return Err(DomainFault::TopLevel);
        }
        Ok(DomainPattern {
            host,
            wildcard,
            port,
        })
    }

    /// Whether `host` (as the client named it, normalized by
    /// [`normalize_host`]) on `port` matches.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        if self.wildcard {
            host.len() > self.host.len() + 1
                && host.ends_with(&self.host)
                && host.as_bytes()[host.len() - self.host.len() - 1] == b'.'
        } else {
            host == self.host
        }
    }

    /// The flag that allows `host` (for refusals).
    pub fn flag_for(host: &str) -> String {
        if host.contains(':') {
            format!("--allow-domain [{host}]")
        } else {
            format!("--allow-domain {host}")
        }
    }
}

/// A host as a client sends it, made comparable with patterns: lower case,
/// no trailing dot, IPv6 brackets removed.
pub fn normalize_host(host: &str) -> String {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h);
    h.trim_end_matches('.').to_ascii_lowercase()
}

impl fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            write!(f, "*.")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            write!(f, "{}", self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> DomainPattern {
        DomainPattern::parse(s, "t").unwrap()
    }

    #[test]
    fn patterns_parse_and_match() {
        assert!(p("crates.io").matches("crates.io", 443));
        assert!(!p("crates.io").matches("static.crates.io", 443));
        assert!(p("*.npmjs.org").matches("registry.npmjs.org", 80));
        assert!(!p("*.npmjs.org").matches("npmjs.org", 80));
        assert!(!p("*.npmjs.org").matches("evilnpmjs.org", 80));
        assert!(p("Crates.IO.").matches("crates.io", 1));
        assert!(p("localhost:8080").matches("localhost", 8080));
        assert!(!p("localhost:8080").matches("localhost", 8081));
        assert!(p("[::1]:443").matches("::1", 443));
        assert_eq!(p("*.a.b:9").to_string(), "*.a.b:9");
        assert_eq!(normalize_host("[::1]"), "::1");
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "",
            "  ",
            "https://x/",
            "x/y",
            "user@host",
            "x:0",
            "x:70000",
            "x:",
            "*",
            "*.com",
            "a*.b.c",
            "a.*.c",
            "::1",
            "[::1",
            "[zz]",
            "x y",
            "héllo.com",
        ] {
            assert!(DomainPattern::parse(bad, "t").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("443", "t"), Ok(443));
        for bad in ["0", "70000", "-1", "x", ""] {
            assert!(parse_port(bad, "t").is_err(), "{bad}");
        }
    }
}
