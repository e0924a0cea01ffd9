//! SOCKS5 (RFC 1928), the CONNECT command only, no authentication. Small
//! enough to parse by hand: a greeting, one request.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, TcpStream};

/// Reply codes used.
pub const OK: u8 = 0x00;
pub const GENERAL_FAILURE: u8 = 0x01;
pub const NOT_ALLOWED: u8 = 0x02;
pub const HOST_UNREACHABLE: u8 = 0x04;
pub const COMMAND_NOT_SUPPORTED: u8 = 0x07;
pub const ADDRESS_NOT_SUPPORTED: u8 = 0x08;

/// Reads the greeting and the request; returns the target, or the reply
/// code to fail with (`None`: the client is gone or not speaking SOCKS5).
pub fn handshake(s: &mut TcpStream) -> Result<(String, u16), Option<u8>> {
    let mut two = [0u8; 2];
    s.read_exact(&mut two).map_err(|_| None)?;
    if two[0] != 5 {
        return Err(None);
    }
    let mut methods = vec![0u8; usize::from(two[1])];
    s.read_exact(&mut methods).map_err(|_| None)?;
    if !methods.contains(&0) {
        let _ = s.write_all(&[5, 0xff]);
        return Err(None);
    }
    s.write_all(&[5, 0]).map_err(|_| None)?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).map_err(|_| None)?;
    if head[0] != 5 {
        return Err(None);
    }
    let host = match head[3] {
        1 => {
            let mut a = [0u8; 4];
            s.read_exact(&mut a).map_err(|_| None)?;
            Ipv4Addr::from(a).to_string()
        }
        4 => {
            let mut a = [0u8; 16];
            s.read_exact(&mut a).map_err(|_| None)?;
            Ipv6Addr::from(a).to_string()
        }
        3 => {
            let mut n = [0u8; 1];
            s.read_exact(&mut n).map_err(|_| None)?;
            let mut name = vec![0u8; usize::from(n[0])];
            s.read_exact(&mut name).map_err(|_| None)?;
            String::from_utf8(name).map_err(|_| Some(ADDRESS_NOT_SUPPORTED))?
        }
        _ => return Err(Some(ADDRESS_NOT_SUPPORTED)),
    };
    let mut port = [0u8; 2];
    s.read_exact(&mut port).map_err(|_| None)?;
    if head[1] != 1 {
        return Err(Some(COMMAND_NOT_SUPPORTED));
    }
    let port = u16::from_be_bytes(port);
    if port == 0 || host.is_empty() || host.contains(['/', '@', ' ', '%', '\0']) {
        return Err(Some(ADDRESS_NOT_SUPPORTED));
    }
    Ok((host, port))
}

/// Sends a reply; the bound address is not disclosed (zeros).
pub fn reply(s: &mut TcpStream, code: u8) {
    let _ = s.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
}
