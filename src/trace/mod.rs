//! What `cordon trace` and `cordon learn` make of the failed calls the
//! tracer saw (pure): each is asked of the plan, through the same verdicts
//! `explain` gives, which mechanism denied it and which flag would allow
//! it; then the report (text, JSON) and the learned profile.

pub mod learn;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::enforcement::Kind;
pub use crate::linux::seen::{MAX_DISTINCT, Seen};
pub use crate::plan::fix::{Fix, Want};
use crate::plan::{self, Plan, shown};
use crate::view::View;

/// One distinct denial, attributed.
#[derive(Debug, Clone, Serialize)]
pub struct Denial {
    pub op: String,
    pub syscall: String,
    pub path: Option<String>,
    pub target: Option<String>,
    pub errno: String,
    /// `landlock`, `mount` or `seccomp`.
    pub mechanism: String,
    /// The deciding rule, as `explain` names it.
    pub rule: String,
    /// The flag (or profile line) that would allow it; `null` when none does.
    pub fix: Option<String>,
    pub warning: Option<String>,
    pub count: u64,
    #[serde(skip)]
    pub grant: Option<Fix>,
    #[serde(skip)]
    pub path_buf: Option<PathBuf>,
}

/// How the command ended.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Status {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

/// The whole report; its JSON shape is fixed (docs/trace.md, and a test).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub policy: String,
    pub command: Vec<String>,
    pub status: Status,
    /// Processes of the command outlived it; the trace went on until the
    /// last one exited.
    pub outlived: bool,
    pub denials: Vec<Denial>,
    /// Failures with EACCES/EPERM/EROFS the plan allows: file permissions
    /// or the program's own checks, not the sandbox.
    pub not_sandbox: u64,
    /// Distinct failures beyond the tracer's limit, not reported.
    pub dropped: u64,
}

pub fn errno_name(e: i32) -> String {
    match e {
        libc::EACCES => "EACCES".into(),
        libc::EPERM => "EPERM".into(),
        libc::EROFS => "EROFS".into(),
        libc::ENOSYS => "ENOSYS".into(),
        libc::ENOENT => "ENOENT".into(),
        other => format!("errno {other}"),
    }
}

/// The first word of a verdict's mechanism (`mount (an empty ...)`).
fn short(mechanism: &str) -> String {
    mechanism
        .split_whitespace()
        .next()
        .unwrap_or(mechanism)
        .to_string()
}

/// Attributes one failed call; `None` when the plan allows what failed
/// (not the sandbox).
pub fn attribute(plan: &Plan, view: &View, seen: &Seen, count: u64) -> Option<Denial> {
    let home = plan::fix::plan_home(plan);
    let mut d = Denial {
        op: seen.op.clone(),
        syscall: seen.syscall.clone(),
        path: None,
        target: seen.target.clone(),
        errno: errno_name(seen.errno),
        mechanism: String::new(),
        rule: String::new(),
        fix: None,
        warning: None,
        count,
        grant: None,
        path_buf: None,
    };
    let fix = if let Some((nr, args)) = &seen.seccomp {
        Some(seccomp_denial(plan, view, seen, *nr, args, &mut d))
    } else if seen.want == Want::Nothing {
        match seen.op.as_str() {
            "signal" => Some(signal_denial(&mut d)),
            "connect" | "bind" if seen.target.as_deref().is_some_and(|t| !t.starts_with('/')) => {
                if plan.network.enabled {
                    return None;
                }
                Some(network_denial(plan, seen, &mut d))
            }
            _ => return None,
        }
    } else {
        path_denial(plan, view, seen, &mut d)?
    };
    if let Some(fix) = fix {
        d.fix = fix.flag(home.as_deref());
        d.warning = fix.warning(home.as_deref());
        d.grant = Some(fix);
    }
    Some(d)
}

/// A call the sandbox's seccomp filter refused: the filter's rule, and
/// the fix for the feature it belongs to.
fn seccomp_denial(
    plan: &Plan,
    view: &View,
    seen: &Seen,
    nr: i64,
    args: &[u64; 6],
    d: &mut Denial,
) -> Fix {
    let rule = seccomp_rule(view, nr, args);
    d.mechanism = "seccomp".into();
    let (why, feature) = match rule {
        Some((why, kind)) => (why, Some(kind)),
        None => ("denied by the sandbox's seccomp filter", None),
    };
    d.rule = why.into();
    // A socket the filter refuses is no TCP stream (UDP, raw, netlink):
    // no port or domain allows it, only the whole network.
    match feature {
        Some(Kind::Network) if !plan.network.enabled => Fix::Network,
        Some(Kind::UnixSockets) => {
            Fix::ProfileLine("unix_sockets = true under [network] in the profile".into())
        }
        _ => Fix::Never(format!("no flag allows {}: {why}", seen.syscall)),
    }
}

/// A signal refused by Landlock's signal scope.
fn signal_denial(d: &mut Denial) -> Fix {
    d.mechanism = "landlock".into();
    d.rule = "signal scope: the command may signal only processes of its own sandbox (or file permissions)".into();
    Fix::Never("no flag lets a sandboxed command signal processes outside it".into())
}

/// A TCP connect or bind refused by Landlock (the plan has the network
/// off, or only some ports, or only the proxy).
fn network_denial(plan: &Plan, seen: &Seen, d: &mut Denial) -> Fix {
    d.mechanism = "landlock".into();
    if plan.network.proxied() {
        d.rule = "--allow-domain: the command's only way out is the proxy".into();
        Fix::Never(
            "with --allow-domain nothing connects directly: go through the proxy (HTTP_PROXY, ALL_PROXY), which names any host it refuses".into(),
        )
    } else {
        d.rule = if plan.network.connect_tcp.is_empty() && plan.network.bind_tcp.is_empty() {
            "network off".into()
        } else {
            "TCP port not allowed".into()
        };
        match (seen.op.as_str(), seen.target.as_deref().and_then(port_of)) {
            ("connect", Some(p)) => Fix::ConnectTcp(p),
            ("bind", Some(p)) if p != 0 => Fix::BindTcp(p),
            _ => Fix::Network,
        }
    }
}

/// The first of the call's paths the plan refuses for what the call
/// wanted, with its verdict's mechanism and rule, and the fix if a flag
/// gives one; `None` when the plan allows them all (not the sandbox).
fn path_denial(plan: &Plan, view: &View, seen: &Seen, d: &mut Denial) -> Option<Option<Fix>> {
    for path in &seen.paths {
        let l = plan::lookup(path, &plan.cwd);
        let Some(v) = view.verdict(plan, &l) else {
            continue;
        };
        let access = match seen.want {
            Want::Read => &v.read,
            Want::Write => &v.write,
            Want::Execute => &v.execute,
            Want::Nothing => continue,
        };
        if access.allowed {
            continue;
        }
        d.path = Some(shown(path).to_string());
        d.path_buf = Some(path.clone());
        d.mechanism = if seen.errno == libc::EROFS {
            "mount".into()
        } else {
            short(&access.mechanism)
        };
        d.rule = access.rule.clone();
        return Some(plan::fix::for_path(plan, &l, seen.want, access, true));
    }
    None
}

/// The port of an `ADDRESS:PORT` target (`[::1]:80` too).
fn port_of(target: &str) -> Option<u16> {
    target.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

/// A request the domain proxy refused, from its log (docs/network.md).
pub fn proxy_denial(line: &str) -> Option<Denial> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let host = v.get("host")?.as_str()?;
    let port = v.get("port")?.as_u64()?;
    let flag = v.get("flag").and_then(|f| f.as_str());
    let grant = flag
        .and_then(|f| f.strip_prefix("--allow-domain "))
        .map(|h| Fix::Domain(h.to_string()));
    Some(Denial {
        op: "proxy".into(),
        syscall: v.get("protocol")?.as_str()?.to_string(),
        path: None,
        target: Some(format!("{host}:{port}")),
        errno: "refused".into(),
        mechanism: "proxy".into(),
        rule: v.get("reason")?.as_str()?.to_string(),
        fix: flag.map(str::to_string),
        warning: None,
        count: 1,
        grant,
        path_buf: None,
    })
}

/// The seccomp rule that matches a trapped call: its reason and feature.
fn seccomp_rule(view: &View, nr: i64, args: &[u64; 6]) -> Option<(&'static str, Kind)> {
    #[cfg(target_os = "linux")]
    {
        let View::Linux(v) = view else {
            return None;
        };
        let art = v.artifacts.as_ref()?;
        let name = crate::linux::seccomp::name_of(nr)?;
        art.seccomp
            .rules
            .iter()
            .find(|r| r.syscall == name && r.cond.matches(args))
            .map(|r| (r.why, r.feature))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (view, nr, args);
        None
    }
}

/// Builds the report from the tracer's distinct failures; `view` (the
/// compiled plan, as `explain` has it) is needed only when there are some.
pub fn report(
    plan: &Plan,
    view: Option<&View>,
    command: &[std::ffi::OsString],
    seen: &BTreeMap<Seen, u64>,
    status: Status,
    outlived: bool,
    dropped: u64,
) -> Report {
    let mut denials: Vec<Denial> = Vec::new();
    let mut not_sandbox = 0;
    let attributed = seen
        .iter()
        .filter_map(|(s, n)| view.map(|view| (attribute(plan, view, s, *n), *n)));
    for (d, n) in attributed {
        match d {
            Some(d) => {
                // The same denial reached by different calls (open and
                // openat) is one line.
                match denials.iter_mut().find(|x| {
                    x.op == d.op && x.path == d.path && x.target == d.target && x.errno == d.errno
                }) {
                    Some(x) => x.count += d.count,
                    None => denials.push(d),
                }
            }
            None => not_sandbox += n,
        }
    }
    Report {
        version: 1,
        policy: plan.policy_name.clone(),
        command: command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        status,
        outlived,
        denials,
        not_sandbox,
        dropped,
    }
}

impl Report {
    /// The text form: a heading, then one line per denial.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let ended = match (self.status.code, self.status.signal) {
            (_, Some(s)) => format!("was killed by signal {s}"),
            (Some(c), _) => format!("exited with status {c}"),
            _ => "ended".into(),
        };
        let n = self.denials.len();
        out.push_str(&format!(
            "cordon trace: the command {ended}; {} denied by the sandbox ({}){}\n",
            match n {
                0 => "nothing was".to_string(),
                1 => "1 operation was".to_string(),
                n => format!("{n} operations were"),
            },
            self.policy,
            if n > 0 { ":" } else { "" }
        ));
        for d in &self.denials {
            let what = match (&d.path, &d.target) {
                (Some(p), _) => p.clone(),
                (None, Some(t)) => t.clone(),
                (None, None) => d.syscall.clone(),
            };
            let times = if d.count > 1 {
                format!(" ({} times)", d.count)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {} {}: {} by {} ({}){times}\n",
                d.op,
                escape(&what),
                d.errno,
                d.mechanism,
                d.rule
            ));
            match &d.fix {
                Some(f) => out.push_str(&format!("    fix: {f}\n")),
                None => out.push_str("    fix: none\n"),
            }
            if let Some(w) = &d.warning {
                out.push_str(&format!("    note: {w}\n"));
            }
        }
        if self.not_sandbox > 0 {
            out.push_str(&format!(
                "  ({} other failed calls with EACCES/EPERM/EROFS that the sandbox allows: file permissions or the program's own checks)\n",
                self.not_sandbox
            ));
        }
        if self.dropped > 0 {
            out.push_str(&format!(
                "  ({} further distinct failures not recorded: over the limit of {})\n",
                self.dropped, MAX_DISTINCT
            ));
        }
        if self.outlived {
            out.push_str(
                "  (processes of the command outlived it; traced until the last one exited)\n",
            );
        }
        out
    }
}

/// Control characters from the command's paths never reach the terminal.
fn escape(s: &str) -> String {
    shown(Path::new(s)).to_string()
}
