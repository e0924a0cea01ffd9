//! The domain proxy (`--allow-domain`): a process cordon leaves outside the
//! sandbox, the command's only way to the network. One listener serves
//! HTTP (CONNECT and absolute-URI requests) and SOCKS5, told apart by the
//! first byte (5 is SOCKS5's version; no HTTP method starts with it).
//! Threads and blocking IO: a connection is a thread that reads a head,
//! decides, dials and then copies both ways. No runtime to start, so the
//! cost is paid only by runs that give a domain.
//!
//! Refusals are written as JSON lines to the log (when there is one):
//! `{"host","port","protocol","reason","flag"}` (docs/network.md), which
//! `cordon trace` reads to suggest `--allow-domain HOST`.

pub mod http;
pub mod socks;
pub mod target;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::policy::DomainPattern;
use target::Refusal;

/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// Copy buffer per direction: large enough that a bulk transfer costs a
/// few system calls per megabyte.
const BUF: usize = 256 * 1024;
/// Stack of a connection thread (the buffers live on the heap).
const STACK: usize = 128 * 1024;
/// Connections served at once; more are closed at accept. Bounds the
/// proxy's memory (each costs two threads and two buffers), which lives
/// outside the sandbox's own limits.
const MAX_CONNECTIONS: usize = 1024;

/// Counts a connection while it lives.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the proxy allows, and where it records refusals.
pub struct Config {
    pub domains: Vec<DomainPattern>,
    pub log: Option<Mutex<File>>,
}

/// Accepts connections until the process ends (the caller ends it when the
/// command exits). Never returns.
pub fn serve(listener: TcpListener, config: Config) -> ! {
    let config = Arc::new(config);
    let live = Arc::new(AtomicUsize::new(0));
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                if live.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    live.fetch_sub(1, Ordering::SeqCst);
                    continue;
                }
                let slot = Slot(Arc::clone(&live));
                let c = Arc::clone(&config);
                let spawned = std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn(move || {
                        let _slot = slot;
                        handle(s, &c)
                    });
                // Out of threads: the connection is dropped, the client sees
                // a reset and may retry.
                drop(spawned);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // EMFILE and the like: back off rather than spin.
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn log(config: &Config, r: &Refusal, protocol: &str) {
    let Some(file) = &config.log else { return };
    let line = serde_json::json!({
        "host": r.host,
        "port": r.port,
        "protocol": protocol,
        "reason": r.reason,
        "flag": r.flag,
    });
    if let Ok(mut f) = file.lock() {
        // One write per line: O_APPEND keeps lines whole between writers.
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

/// The text a refused client gets: the host and the flag that allows it.
fn refusal_text(r: &Refusal) -> String {
    match &r.flag {
        Some(flag) => format!(
            "cordon: the proxy refused {}:{}: {}; allow it with {flag}\n",
            r.host, r.port, r.reason
        ),
        None => format!(
            "cordon: the proxy could not reach {}:{}: {}\n",
            r.host, r.port, r.reason
        ),
    }
}

/// Decides by name, then dials.
fn open(config: &Config, host: &str, port: u16) -> Result<TcpStream, Refusal> {
    let exact = target::decide(&config.domains, host, port)?;
    target::dial(host, port, exact)
}

fn handle(client: TcpStream, config: &Config) {
    let _ = client.set_nodelay(true);
    let _ = client.set_read_timeout(Some(HEAD_TIMEOUT));
    let mut first = [0u8; 1];
    match client.peek(&mut first) {
        Ok(1) => {}
        _ => return,
    }
    match first[0] {
        5 => socks5(client, config),
        // A SOCKS4 request: its "rejected" reply, at once, not the head
        // timeout of an HTTP request that never ends.
        4 => {
            let mut client = client;
            let _ = client.write_all(&[0, 0x5b, 0, 0, 0, 0, 0, 0]);
        }
        b if b.is_ascii_uppercase() => http_request(client, config),
        _ => {
            let mut client = client;
            http::respond(
                &mut client,
                400,
                "cordon: proxy: neither HTTP nor SOCKS5 (the proxy serves HTTP CONNECT, absolute-URI HTTP and SOCKS5)\n",
            );
        }
    }
}

fn socks5(mut client: TcpStream, config: &Config) {
    let (host, port) = match socks::handshake(&mut client) {
        Ok(t) => t,
        Err(Some(code)) => return socks::reply(&mut client, code),
        Err(None) => return,
    };
    match open(config, &host, port) {
        Ok(up) => {
            socks::reply(&mut client, socks::OK);
            relay(client, up, &[]);
        }
        Err(r) => {
            log(config, &r, "socks5");
            let code = if r.flag.is_some() {
                socks::NOT_ALLOWED
            } else {
                socks::HOST_UNREACHABLE
            };
            socks::reply(&mut client, code);
        }
    }
}

fn http_request(mut client: TcpStream, config: &Config) {
    let (buf, head_len) = match http::read_head(&mut client) {
        Ok(h) => h,
        Err(http::Bad(code, why)) => {
            return http::respond(&mut client, code, &format!("cordon: proxy: {why}\n"));
        }
    };
    let ask = match http::parse(&buf, head_len) {
        Ok(a) => a,
        Err(http::Bad(code, why)) => {
            return http::respond(&mut client, code, &format!("cordon: proxy: {why}\n"));
        }
    };
    let (host, port, protocol) = match &ask {
        http::Ask::Connect { host, port } => (host.clone(), *port, "http-connect"),
        http::Ask::Forward { host, port, .. } => (host.clone(), *port, "http"),
    };
    let mut up = match open(config, &host, port) {
        Ok(up) => up,
        Err(r) => {
            log(config, &r, protocol);
            let status = if r.flag.is_some() { 403 } else { 502 };
            return http::respond(&mut client, status, &refusal_text(&r));
        }
    };
    match ask {
        http::Ask::Connect { .. } => {
            // Bytes the client sent after the head (a TLS hello sent
            // early) go up first.
            let early = buf[head_len..].to_vec();
            if client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .is_err()
            {
                return;
            }
            relay(client, up, &early);
        }
        http::Ask::Forward { head, rest, .. } => {
            if up.write_all(&head).is_err() {
                return;
            }
            relay(client, up, &rest);
        }
    }
}

/// Copies both ways until both sides are done; `early` goes upstream first.
fn relay(client: TcpStream, mut up: TcpStream, early: &[u8]) {
    let _ = client.set_read_timeout(None);
    let _ = up.set_nodelay(true);
    if !early.is_empty() && up.write_all(early).is_err() {
        return;
    }
    let (Ok(c2), Ok(u2)) = (client.try_clone(), up.try_clone()) else {
        return;
    };
    let back = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || pump(u2, c2));
    pump(client, up);
    if let Ok(t) = back {
        let _ = t.join();
    }
}

/// One direction: read until EOF, then half-close the other side.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0u8; BUF];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

/// `--proxy-log FILE`: the proxy's refusal log, appended to, made private
/// to the caller (mode 0600 when created), opened by cordon before the
/// proxy forks.
pub fn open_log(p: &std::path::Path) -> crate::error::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(p)
        .map_err(|e| {
            crate::error::Error::new(format!(
                "--proxy-log {}: {e}; name a file cordon can append to",
                p.display()
            ))
        })
}

/// The variables that point the command at the proxy (contract §6). Set
/// after the `[env]` policy, which cannot remove them.
pub fn env_vars(port: u16) -> Vec<(String, String)> {
    let url = format!("http://127.0.0.1:{port}");
    let mut v = Vec::with_capacity(8);
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        v.push((name.to_string(), url.clone()));
        v.push((name.to_ascii_lowercase(), url.clone()));
    }
    v.push(("NO_PROXY".into(), String::new()));
    v.push(("no_proxy".into(), String::new()));
    v
}

/// The names [`env_vars`] sets, for `explain`.
pub const ENV_NAMES: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];
