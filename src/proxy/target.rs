//! Which targets the proxy dials: the host decision (a pattern matches the
//! name the client sent) and the address decision (a host that is not
//! listed by exact name never reaches a local or private address, whatever
//! its DNS says), then the connection to an address that passed both.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::policy::{DomainPattern, normalize_host};

/// How long a dial may take per address.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a target was refused, for the client and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub host: String,
    pub port: u16,
    pub reason: String,
    /// The flag that would allow it; `None` when no flag would (a failed
    /// lookup, an unreachable server).
    pub flag: Option<String>,
}

/// The verdict on `host:port` by name: the pattern that allows it (and
/// whether it names the host exactly), or a refusal.
pub fn decide(domains: &[DomainPattern], host: &str, port: u16) -> Result<bool, Refusal> {
    let host = normalize_host(host);
    let refuse = |reason: String| Refusal {
        host: host.clone(),
        port,
        reason,
        flag: Some(DomainPattern::flag_for(&host)),
    };
    if host.is_empty() {
        return Err(Refusal {
            flag: None,
            ..refuse("no host named".into())
        });
    }
    // Only what a host name or address literal holds: anything else
    // (a tab, `#`, a NUL from SOCKS) is no name any resolver should see.
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return Err(Refusal {
            flag: None,
            ..refuse("not a host name or address".into())
        });
    }
    let mut port_only = false;
    for d in domains {
        if d.matches(&host, port) {
            return Ok(!d.wildcard);
        }
        if d.port.is_some()
            && (DomainPattern {
                port: None,
                ..d.clone()
            })
            .matches(&host, port)
        {
            port_only = true;
        }
    }
    if port_only {
        let flag = format!("{}:{port}", DomainPattern::flag_for(&host));
        return Err(Refusal {
            flag: Some(flag),
            ..refuse(format!(
                "port {port} of {host} is not in the allowed domains"
            ))
        });
    }
    Err(refuse(format!("{host} is not in the allowed domains")))
}

/// Addresses a command must not reach through the proxy unless the host
/// was listed by exact name: the host's own services and its networks.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => local_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return local_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) embeds an IPv4 address.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let o = v6.octets();
                return local_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10
                || s[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible ::a.b.c.d
                || s[..2] == [0x2001, 0xdb8] // documentation 2001:db8::/32
        }
    }
}

fn local_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || o[0] == 0 // "this network"
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF 192.0.0/24
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || (o[0] == 192 && o[1] == 0 && o[2] == 2) // documentation 192.0.2/24
        || (o[0] == 198 && o[1] == 51 && o[2] == 100) // documentation 198.51.100/24
        || (o[0] == 203 && o[1] == 0 && o[2] == 113) // documentation 203.0.113/24
        || o[0] >= 240 // reserved
}

/// The host's own interface addresses, read at each dial (interfaces
/// change): a public address on an interface reaches the host's own
/// services as loopback would (an adversarial pass reached a server bound
/// to 0.0.0.0 through a wildcard name resolving to eth0's address).
fn host_addresses() -> nix::Result<Vec<IpAddr>> {
    let list = nix::ifaddrs::getifaddrs()?;
    Ok(list
        .filter_map(|i| i.address)
        .filter_map(|a| match (a.as_sockaddr_in(), a.as_sockaddr_in6()) {
            (Some(v4), _) => Some(IpAddr::V4(v4.ip())),
            (_, Some(v6)) => Some(plain(IpAddr::V6(v6.ip()))),
            _ => None,
        })
        .collect())
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn plain(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Resolves `host` (the proxy does the lookup; the command has no DNS) and
/// connects to the first address that is allowed: any address for a host
/// listed by exact name, public ones only otherwise. Connecting to the
/// address that was checked leaves no window for a second lookup to
/// answer differently (DNS rebinding).
pub fn dial(host: &str, port: u16, exact: bool) -> Result<TcpStream, Refusal> {
    let host = normalize_host(host);
    let fail = |reason: String, flag: Option<String>| Refusal {
        host: host.clone(),
        port,
        reason,
        flag,
    };
    let addrs: Vec<SocketAddr> = match (host.as_str(), port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => return Err(fail(format!("cannot resolve {host}: {e}"), None)),
    };
    let own = match exact {
        true => Vec::new(),
        false => host_addresses().map_err(|e| {
            fail(
                format!("cannot read this host's own addresses to keep {host} off them: {e}"),
                None,
            )
        })?,
    };
    let (ok, local): (Vec<SocketAddr>, Vec<SocketAddr>) = addrs
        .into_iter()
        .partition(|a| exact || !(is_local(a.ip()) || own.contains(&plain(a.ip()))));
    if ok.is_empty() {
        let shown: Vec<String> = local.iter().map(|a| a.ip().to_string()).collect();
        return Err(fail(
            format!(
                "{host} resolves to a local or private address ({}), reached only when the host is listed by exact name",
                shown.join(", ")
            ),
            Some(DomainPattern::flag_for(&host)),
        ));
    }
    let mut last = None;
    for a in &ok {
        match TcpStream::connect_timeout(a, CONNECT_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    let e = last.map_or_else(|| "no address".to_string(), |e| e.to_string());
    Err(fail(format!("cannot connect to {host}:{port}: {e}"), None))
}

/// `true` for an IPv6 literal (the bracketed form is normalized away).
pub fn is_v6_literal(host: &str) -> bool {
    host.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(list: &[&str]) -> Vec<DomainPattern> {
        list.iter()
            .map(|s| DomainPattern::parse(s, "t").unwrap())
            .collect()
    }

    #[test]
    fn decisions_by_name() {
        let d = pats(&["localhost", "*.example.com", "api.test:443"]);
        assert_eq!(decide(&d, "LOCALHOST.", 80), Ok(true));
        assert_eq!(decide(&d, "a.example.com", 80), Ok(false));
        assert!(decide(&d, "example.com", 80).is_err());
        let r = decide(&d, "api.test", 80).unwrap_err();
        assert_eq!(r.flag.as_deref(), Some("--allow-domain api.test:80"));
        let r = decide(&d, "evil.org", 443).unwrap_err();
        assert_eq!(r.flag.as_deref(), Some("--allow-domain evil.org"));
        // Numeric spellings of loopback are names no pattern lists.
        for h in [
            "127.0.0.1",
            "2130706433",
            "0x7f.1",
            "0177.0.0.1",
            "[::1]",
            "127.1",
        ] {
            assert!(decide(&d, h, 80).is_err(), "{h}");
        }
    }

    /// Odd bytes in a name (SOCKS5 sends any) are no name at all.
    #[test]
    fn odd_bytes_are_no_name() {
        let d = pats(&["*.example.com"]);
        for h in [
            "a#.example.com",
            "a\t.example.com",
            "a b.example.com",
            "x\0.example.com",
        ] {
            let r = decide(&d, h, 80).unwrap_err();
            assert_eq!(r.flag, None, "{h}");
        }
        assert_eq!(decide(&d, "a_b-c.example.com", 80), Ok(false));
    }

    #[test]
    fn local_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
            "192.0.2.2",
            "198.51.100.7",
            "203.0.113.9",
            "2001:db8::1",
        ] {
            assert!(is_local(a.parse().unwrap()), "{a}");
        }
        for a in ["1.1.1.1", "8.8.8.8", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert!(!is_local(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn the_hosts_own_addresses_are_read() {
        let own = host_addresses().unwrap();
        assert!(own.contains(&"127.0.0.1".parse().unwrap()), "{own:?}");
    }

    #[test]
    fn unlisted_names_never_reach_loopback() {
        // `localhost` resolves to loopback: allowed only when exact.
        let r = dial("localhost", 9, false).unwrap_err();
        assert!(r.reason.contains("local or private"), "{r:?}");
    }
}
