//! The network beyond on/off (issue 16; contract §6): TCP ports
//! (`--allow-connect-tcp`, `--allow-bind-tcp`) and domains through cordon's
//! proxy (`--allow-domain`). Loopback only: servers the test starts on
//! 127.0.0.1, the domain `localhost`. Each case runs as root and as nobody,
//! beside a control run without cordon.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::*;

/// A server on 127.0.0.1 that answers every request with `hello NAME` and
/// counts the connections it accepted.
struct Server {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn start(name: &str) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let (h, body) = (Arc::clone(&hits), format!("hello {name}"));
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                h.fetch_add(1, Ordering::SeqCst);
                let body = body.clone();
                std::thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf);
                    let _ = write!(
                        s,
                        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        Server { port, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn p(&self) -> String {
        self.port.to_string()
    }
}

/// The tools a case uses must exist: a missing one fails, never passes.
fn need(tool: &str) -> String {
    for dir in ["/usr/bin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return p.display().to_string();
        }
    }
    if let Ok(p) = which(tool) {
        return p;
    }
    panic!("{tool} is needed by this test and is not installed");
}

fn which(tool: &str) -> Result<String, ()> {
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map_err(drop)?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if s.is_empty() { Err(()) } else { Ok(s) }
}

/// A python3 a user can run (pyenv installs under /root may not be).
fn python(ws: &Ws) -> String {
    let py = need("python3");
    let probe = run_as(ws.user, &ws.work(), &ws.env(), &[&py, "-c", "print(1)"]);
    if probe.status == 0 {
        return py;
    }
    for p in ["/usr/bin/python3", "/usr/local/bin/python3"] {
        if Path::new(p).exists() {
            return p.to_string();
        }
    }
    panic!("no python3 that {:?} can run: {probe:?}", ws.user);
}

/// `urllib.request.urlopen(URL)` with the environment's proxies: prints
/// `STATUS BODY`, the error's status and body for an HTTP error, or `ERR`.
const FETCH: &str = "
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=10)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
except Exception as e:
    print('ERR', e)
";

fn fetch(ws: &Ws, flags: &[&str], url: &str) -> Outcome {
    let py = python(ws);
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend(["--", &py, "-c", FETCH, url]);
    cordon(ws, &args)
}

/// The proxy's process, found by the log file it holds open.
fn proxy_pids(log: &Path) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(e.path().join("fd")) else {
            continue;
        };
        if fds
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == log))
        {
            out.push(pid);
        }
    }
    out
}

/// Waits until no process holds `log` open; the pids still there after
/// `limit` are returned.
fn gone_within(log: &Path, limit: Duration) -> Vec<i32> {
    let start = Instant::now();
    loop {
        let left = proxy_pids(log);
        if left.is_empty() || start.elapsed() > limit {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn log_path(ws: &Ws, name: &str) -> PathBuf {
    ws.join(&format!("outside/{name}.jsonl"))
}

#[test]
fn allowed_host_is_reached_through_the_proxy() {
    for user in users() {
        let ws = Ws::new(user);
        let srv = Server::start("allowed");
        let url = format!("http://localhost:{}/x", srv.port);
        // Control: python reaches it directly.
        let py = python(&ws);
        let control = run_as(user, &ws.work(), &ws.env(), &[&py, "-c", FETCH, &url]);
        assert_eq!(control.stdout.trim(), "200 hello allowed", "{control:?}");
        let before = srv.hits();
        let out = fetch(&ws, &["--allow-domain", "localhost"], &url);
        assert_eq!(out.stdout.trim(), "200 hello allowed", "{user:?} {out:?}");
        assert_eq!(srv.hits(), before + 1, "{user:?}");
        // CONNECT (curl -p) and SOCKS5 with a host name, on the same port.
        let curl = need("curl");
        for how in [
            "-p -x \"$HTTP_PROXY\"",
            "--socks5-hostname \"${HTTP_PROXY#http://}\"",
        ] {
            let out = sandboxed_sh(
                &ws,
                &["--allow-domain", "localhost"],
                &format!("{curl} -sS {how} {url}"),
            );
            assert_eq!(out.stdout, "hello allowed", "{user:?} {how}: {out:?}");
        }
    }
}

#[test]
fn refused_host_gets_403_and_its_server_sees_nothing() {
    for user in users() {
        let ws = Ws::new(user);
        let srv = Server::start("refused");
        let log = log_path(&ws, "refusals");
        let log_s = log.display().to_string();
        let flags = ["--allow-domain", "example.invalid", "--proxy-log", &log_s];
        // By name, and by the loopback address in its usual and numeric
        // spellings (decimal, hex, short): no pattern lists them.
        for host in ["localhost", "127.0.0.1", "2130706433", "0x7f.1", "127.1"] {
            let url = format!("http://{host}:{}/", srv.port);
            let out = fetch(&ws, &flags, &url);
            let want = format!("403 cordon: the proxy refused {host}:{}", srv.port);
            assert!(out.stdout.starts_with(&want), "{user:?} {host}: {out:?}");
            assert!(
                out.stdout
                    .contains(&format!("allow it with --allow-domain {host}")),
                "{out:?}"
            );
        }
        // CONNECT and SOCKS5 are refused the same way (SOCKS reply 2).
        let curl = need("curl");
        let url = format!("http://localhost:{}/", srv.port);
        let out = sandboxed_sh(
            &ws,
            &flags,
            &format!("{curl} -sS -p -x \"$HTTP_PROXY\" {url}"),
        );
        assert!(out.stderr.contains("403"), "{user:?} {out:?}");
        let out = sandboxed_sh(
            &ws,
            &flags,
            &format!("{curl} -sS --socks5-hostname \"${{HTTP_PROXY#http://}}\" {url}"),
        );
        assert_ne!(out.status, 0, "{user:?} {out:?}");
        assert!(out.stderr.contains("SOCKS"), "{user:?} {out:?}");
        assert_eq!(
            srv.hits(),
            0,
            "{user:?}: the refused server saw a connection"
        );
        // Each refusal is a JSON line for `cordon trace`.
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 7, "{lines:?}");
        assert_eq!(lines[0]["host"], "localhost");
        assert_eq!(lines[0]["port"], srv.port);
        assert_eq!(lines[0]["protocol"], "http");
        assert_eq!(lines[0]["flag"], "--allow-domain localhost");
        assert_eq!(lines[5]["protocol"], "http-connect");
        assert_eq!(lines[6]["protocol"], "socks5");
    }
}

/// A listed host on another port than the pattern's, and a Host header that
/// names another host than the URI, are refused; the server sees nothing.
#[test]
fn port_patterns_and_host_header_mismatch() {
    for user in users() {
        let ws = Ws::new(user);
        let srv = Server::start("p");
        let other = Server::start("other");
        let pattern = format!("localhost:{}", other.port);
        let out = fetch(
            &ws,
            &["--allow-domain", &pattern],
            &format!("http://localhost:{}/", srv.port),
        );
        let want = format!("allow it with --allow-domain localhost:{}", srv.port);
        assert!(
            out.stdout.starts_with("403 ") && out.stdout.contains(&want),
            "{out:?}"
        );
        let curl = need("curl");
        let out = sandboxed_sh(
            &ws,
            &["--allow-domain", "localhost"],
            &format!(
                "{curl} -sS -o /dev/null -w '%{{http_code}}' -x \"$HTTP_PROXY\" -H 'Host: evil.example' http://localhost:{}/",
                srv.port
            ),
        );
        assert_eq!(out.stdout, "400", "{user:?} {out:?}");
        assert_eq!(srv.hits(), 0, "{user:?}");
        // SOCKS5 by IP address (curl resolves, then sends 127.0.0.1): an
        // address is allowed only when a pattern lists it.
        let by_ip = format!(
            "{curl} -sS --socks5 \"${{HTTP_PROXY#http://}}\" http://localhost:{}/",
            srv.port
        );
        let out = sandboxed_sh(&ws, &["--allow-domain", "localhost"], &by_ip);
        assert_ne!(out.status, 0, "{user:?} {out:?}");
        assert_eq!(srv.hits(), 0, "{user:?}");
        let out = sandboxed_sh(&ws, &["--allow-domain", "127.0.0.1"], &by_ip);
        assert_eq!(out.stdout, "hello p", "{user:?} {out:?}");
        assert_eq!(srv.hits(), 1, "{user:?}");
        // A wildcard never reaches a local address: `*.0.0.1` matches the
        // name `127.0.0.1`, which is loopback, and is refused.
        let out = fetch(
            &ws,
            &["--allow-domain", "*.0.0.1"],
            &format!("http://127.0.0.1:{}/", srv.port),
        );
        assert!(
            out.stdout.starts_with("403 ")
                && out
                    .stdout
                    .contains("resolves to a local or private address (127.0.0.1)"),
            "{out:?}"
        );
        assert_eq!(
            srv.hits(),
            1,
            "{user:?}: only the SOCKS5 run that listed 127.0.0.1"
        );
    }
}

/// Nothing leaves but through the proxy: direct TCP (even to loopback, even
/// to the host's resolver), UDP and DNS fail, with and without Landlock's
/// TCP rules (`--landlock-abi 3` leaves the network namespace alone).
#[test]
fn direct_connections_udp_and_dns_fail() {
    let resolver = std::fs::read_to_string("/etc/resolv.conf")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("nameserver ").map(|s| s.trim().to_string()))
        })
        .filter(|s| s.parse::<std::net::Ipv4Addr>().is_ok())
        .unwrap_or_else(|| "10.0.0.1".into());
    for user in users() {
        let ws = Ws::new(user);
        let srv = Server::start("direct");
        let p = srv.p();
        control(&ws, &["connect-tcp", "127.0.0.1", &p]).assert_ok();
        control(&ws, &["connect-udp", &resolver, "53"]).assert_ok();
        let flags = ["--allow-domain", "localhost"];
        sandboxed(&ws, &flags, &["connect-tcp", "127.0.0.1", &p]).assert_errno("EACCES");
        sandboxed(&ws, &flags, &["connect-udp", &resolver, "53"]).assert_errno("EPERM");
        sandboxed(&ws, &flags, &["connect-udp", "127.0.0.1", "53"]).assert_errno("EPERM");
        // The namespace alone: loopback there has nothing on the port, and
        // there is no route anywhere else.
        let ns = [
            "--allow-domain",
            "localhost",
            "--landlock-abi",
            "3",
            "--best-effort",
        ];
        sandboxed(&ws, &ns, &["connect-tcp", "127.0.0.1", &p]).assert_errno("ECONNREFUSED");
        sandboxed(&ws, &ns, &["connect-tcp", &resolver, "53"]).assert_errno("ENETUNREACH");
        assert_eq!(srv.hits(), 1, "{user:?}: only the control connected");
    }
}

/// The proxy ends with the command: after a normal exit, and after
/// `kill -9` of the command.
#[test]
fn no_proxy_is_left_after_the_command() {
    for user in users() {
        let ws = Ws::new(user);
        let log = log_path(&ws, "life");
        let log_s = log.display().to_string();
        let flags = ["--allow-domain", "localhost", "--proxy-log", &log_s];
        let out = sandboxed_sh(&ws, &flags, "echo ran");
        assert_eq!(out.stdout, "ran\n", "{out:?}");
        assert_eq!(gone_within(&log, Duration::from_secs(2)), Vec::<i32>::new());
        // kill -9: the command is cordon's own pid (exec in place).
        let mut argv = vec![cordon_bin().to_str().unwrap(), "run"];
        argv.extend_from_slice(&flags);
        argv.extend(["--", "sleep", "30"]);
        let mut child = command_as(user, &ws.work(), &ws.env(), &argv)
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // The log is open in cordon and in the middle process of the
        // proxy's double fork for a moment: wait for one holder, the same
        // in two reads in a row.
        let start = Instant::now();
        let mut last = Vec::new();
        let proxy = loop {
            assert!(start.elapsed() < Duration::from_secs(5), "no proxy started");
            std::thread::sleep(Duration::from_millis(20));
            let now = proxy_pids(&log);
            if now.len() == 1 && now == last {
                break now;
            }
            last = now;
        };
        // It is no child of the command.
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", proxy[0])).unwrap();
        let ppid: i32 = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert_ne!(ppid, child.id() as i32);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(gone_within(&log, Duration::from_secs(2)), Vec::<i32>::new());
    }
}

/// The command can neither signal nor ptrace the proxy (Landlock: ptrace
/// towards a process outside the domain, and the signal scope).
#[test]
fn the_command_cannot_kill_or_trace_the_proxy() {
    for user in users() {
        let ws = Ws::new(user);
        let log = log_path(&ws, "shield");
        let log_s = log.display().to_string();
        let pidfile = ws.join("outside/proxy.pid");
        let script = format!(
            "while [ ! -s {pf} ]; do sleep 0.02; done; pid=$(cat {pf}); \
             $P kill $pid 9; $P ptrace-attach $pid; $P kill $pid 0",
            pf = pidfile.display()
        );
        let mut argv = vec![
            cordon_bin().to_str().unwrap().to_string(),
            "run".into(),
            "--allow-domain".into(),
            "localhost".into(),
            "--proxy-log".into(),
            log_s.clone(),
            "--".into(),
            "sh".into(),
            "-c".into(),
            format!("P={}; {script}", probe_bin().display()),
        ];
        let child = command_as(user, &ws.work(), &ws.env(), &argv)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let pid = loop {
            if let Some(&p) = proxy_pids(&log).first() {
                break p;
            }
            assert!(start.elapsed() < Duration::from_secs(5), "no proxy started");
            std::thread::sleep(Duration::from_millis(20));
        };
        // Control: the same user outside the sandbox may signal it.
        control(&ws, &["kill", &pid.to_string(), "0"]).assert_ok();
        std::fs::write(&pidfile, pid.to_string()).unwrap();
        let out = child.wait_with_output().unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        for l in &lines {
            assert_eq!(l["error"], "EPERM", "{user:?} {l}");
        }
        argv.clear();
        let _ = std::fs::remove_file(&pidfile);
    }
}

/// The proxy variables are set after the `[env]` policy: an exclude
/// pattern does not remove them, a caller's own proxy does not win.
#[test]
fn proxy_variables_survive_the_env_policy() {
    for user in users() {
        let ws = Ws::new(user);
        let out = sandboxed_sh(
            &ws,
            &["--allow-domain", "localhost", "--unsetenv", "*PROXY*"],
            "$P env HTTP_PROXY; $P env no_proxy; $P env all_proxy",
        );
        let lines: Vec<serde_json::Value> = out
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{out:?}");
        let url = lines[0]["value"].as_str().unwrap_or_default().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{out:?}");
        assert_eq!(lines[1]["value"], "", "{out:?}");
        assert_eq!(lines[2]["value"], url.as_str(), "{out:?}");
        // Without domains nothing is set.
        let out = sandboxed(&ws, &[], &["env", "HTTP_PROXY"]);
        assert_eq!(out.json()["value"], serde_json::Value::Null, "{out:?}");
    }
}

/// Ports: TCP to exactly the listed ports; every other port EACCES
/// (Landlock), UDP, MPTCP, SCTP and raw sockets EPERM (seccomp), and TCP
/// Fast Open, which connects without connect(2), EPERM.
#[test]
fn tcp_ports_allow_exactly_the_listed_ports() {
    for user in users() {
        let ws = Ws::new(user);
        let allowed = Server::start("a");
        let other = Server::start("b");
        let (a, b) = (allowed.p(), other.p());
        let flags = ["--allow-connect-tcp", &a];
        for op in [
            vec!["connect-tcp", "127.0.0.1", &a],
            vec!["connect-tcp", "127.0.0.1", &b],
            vec!["connect-udp", "127.0.0.1", "53"],
            vec!["bind-tcp", "127.0.0.1", "0"],
        ] {
            control(&ws, &op).assert_ok();
        }
        sandboxed(&ws, &flags, &["connect-tcp", "127.0.0.1", &a]).assert_ok();
        sandboxed(&ws, &flags, &["connect-tcp", "::1", &a]).assert_errno("ECONNREFUSED");
        sandboxed(&ws, &flags, &["connect-tcp", "127.0.0.1", &b]).assert_errno("EACCES");
        sandboxed(&ws, &flags, &["sendto-fastopen", "127.0.0.1", &b]).assert_errno("EPERM");
        sandboxed(&ws, &flags, &["connect-udp", "127.0.0.1", "53"]).assert_errno("EPERM");
        sandboxed(&ws, &flags, &["bind-tcp", "127.0.0.1", "0"]).assert_errno("EACCES");
        for sock in [
            vec!["socket", "inet", "stream", "mptcp"],
            vec!["socket", "inet6", "stream", "mptcp"],
            vec!["socket", "inet", "stream", "132"],
            vec!["socket", "inet", "dgram"],
            vec!["socket", "inet6", "dgram"],
            vec!["socket", "inet", "raw", "icmp"],
            vec!["socket", "inet", "seqpacket", "132"],
            // IPPROTO_SMC (Linux 6.11+): an inet stream socket that is not TCP.
            vec!["socket", "inet", "stream", "256"],
            vec!["socket", "netlink", "dgram"],
            vec!["socket", "packet", "dgram"],
        ] {
            sandboxed(&ws, &flags, &sock).assert_errno("EPERM");
        }
        sandboxed(&ws, &flags, &["socket", "inet6", "stream", "tcp"]).assert_ok();
        sandboxed(&ws, &flags, &["socketpair"]).assert_ok();
        assert_eq!(other.hits(), 1, "{user:?}: only the control reached it");
        // A bind port: bound and listened on; another is not.
        let free = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port().to_string();
        drop(free);
        let flags = ["--allow-bind-tcp", &port];
        sandboxed(&ws, &flags, &["bind-tcp", "127.0.0.1", &port]).assert_ok();
        sandboxed(&ws, &flags, &["connect-tcp", "127.0.0.1", &a]).assert_errno("EACCES");
    }
}

/// A host without Landlock's TCP rights (ABI < 4) cannot hold ports to the
/// list: refused with 125, or run with a warning under --best-effort.
#[test]
fn ports_without_landlock_abi_4_are_a_gap() {
    for user in users() {
        let ws = Ws::new(user);
        let ran = ws.s("work/ran");
        // A port list on a kernel that Landlock gives no TCP rights.
        let abi3 = |rest: &[&str]| {
            let mut argv = vec!["run", "--allow-connect-tcp", "443", "--landlock-abi", "3"];
            argv.extend_from_slice(rest);
            cordon(&ws, &argv)
        };
        let out = abi3(&["--", "touch", &ran]);
        out.assert_refused(
            "TCP would reach every port, not only the listed ones (Landlock ABI 3 < 4",
        );
        assert!(!Path::new(&ran).exists());
        let out = abi3(&["--best-effort", "--", "true"]);
        assert_eq!(out.status, 0, "{out:?}");
        assert!(
            out.stderr.contains("warning: not enforced: tcp-ports"),
            "{out:?}"
        );
    }
}

/// explain and --dry-run give one verdict per port and per domain.
#[test]
fn explain_gives_a_verdict_per_port_and_domain() {
    let ws = Ws::new(User::Root);
    let out = cordon(
        &ws,
        &[
            "explain",
            "--json",
            "--allow-connect-tcp",
            "443",
            "--allow-bind-tcp",
            "8080",
            "--allow-domain",
            "*.npmjs.org",
            "--allow-domain",
            "localhost:8000",
        ],
    );
    assert_eq!(out.status, 0, "{out:?}");
    let text = &out.stdout;
    for needle in [
        "TCP connect to port 443 allowed",
        "TCP bind to port 8080 allowed",
        "domain *.npmjs.org reached through the proxy",
        "domain localhost:8000 reached through the proxy (port 8000 only)",
        "direct connections, UDP and DNS fail",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let out = cordon(
        &ws,
        &[
            "run",
            "--dry-run",
            "--allow-domain",
            "localhost",
            "--",
            "true",
        ],
    );
    assert!(
        out.stdout.contains("mount+ipc+net namespace; lo up"),
        "{out:?}"
    );
    let out = cordon(&ws, &["explain", "--allow-domain", "localhost"]);
    assert!(
        out.stdout.contains("HTTP_PROXY=http://127.0.0.1:PORT"),
        "{out:?}"
    );
    assert!(
        !out.stdout.contains("CORDON_SANDBOX_NETWORK_DISABLED"),
        "{out:?}"
    );
}

/// No descriptor of the proxy's (its listener, host-network sockets, the
/// socket pair to it, its log) reaches the command: it holds 0-2 only.
#[test]
fn the_command_holds_no_socket_of_the_proxy() {
    for user in users() {
        let ws = Ws::new(user);
        let log = log_path(&ws, "fds");
        let log_s = log.display().to_string();
        let out = sandboxed(
            &ws,
            &["--allow-domain", "localhost", "--proxy-log", &log_s],
            &["list-fds"],
        );
        let fds: Vec<i64> = out.json()["fds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fd"].as_i64().unwrap())
            .collect();
        assert_eq!(fds, vec![0, 1, 2], "{user:?} {out:?}");
    }
}
