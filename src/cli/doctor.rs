//! `cordon doctor [--json]`: what this host can enforce, feature by feature,
//! ending with one line per built-in profile. Profiles go through the same
//! resolve and compile as `cordon run` here, so a profile doctor calls
//! fully enforced is one `run` applies whole. Exit 0 when the default
//! profile is fully enforced, 1 otherwise.

use std::fmt::Write as _;
use std::path::Path;

use clap::Args;
use serde::Serialize;

use super::{PolicyArgs, print_json};
use crate::enforcement::{Gap, Kind};
use crate::error::Result;
use crate::linux::host::{self, Errno};
use crate::plan::{self, Env};
use crate::policy::{BUILTIN_NAMES, DEFAULT_PROFILE, load_profile};
use crate::view::{Platform, View, platform_view};

#[derive(Args)]
pub struct DoctorArgs {
    /// Print JSON (the shape is documented in docs/explain-doctor.md).
    #[arg(long)]
    pub json: bool,
}

/// Landlock features by the ABI that introduced them.
const LANDLOCK_FEATURES: [(&str, u8); 7] = [
    ("filesystem", 1),
    ("refer", 2),
    ("truncate", 3),
    ("tcp", 4),
    ("ioctl_dev", 5),
    ("scopes", 6),
    ("logging", 7),
];

#[derive(Serialize)]
struct Supported {
    name: &'static str,
    abi: u8,
    supported: bool,
}

#[derive(Serialize)]
struct Landlock {
    /// 0 when Landlock is unavailable.
    abi: u8,
    /// The errno of the version query, when it failed.
    error: Option<String>,
    /// `listed`, `not-listed`, or `unknown` (no readable
    /// /sys/kernel/security/lsm).
    lsm: &'static str,
    features: Vec<Supported>,
    /// One sentence for people.
    summary: String,
}

#[derive(Serialize)]
struct Seccomp {
    filters: bool,
    error: Option<String>,
    /// cordon's own seccomp mode (0 none, 2 filter), when readable.
    mode: Option<u32>,
}

#[derive(Serialize)]
struct Probe {
    available: bool,
    /// Mount namespace only: how it was had, `cap_sys_admin` (directly) or
    /// `user_namespace` (inside a new user namespace).
    via: Option<&'static str>,
    error: Option<String>,
    /// The unshare succeeded and the mount after it was refused (mount
    /// namespace only): a restriction such as AppArmor's, named in
    /// `Namespaces::after_unshare`.
    refused_after_unshare: bool,
}

#[derive(Serialize)]
struct Namespaces {
    user: Probe,
    mount: Probe,
    /// Host settings that can forbid namespaces (AppArmor, sysctls, a
    /// seccomp filter on cordon), present whether or not the probes failed.
    restrictions: Vec<String>,
    /// When the mount namespace is made but cannot mount: what restricts
    /// it and the fix.
    after_unshare: Option<String>,
}

/// Where `cordon trace` gets its denials on this host.
#[derive(Serialize)]
struct Trace {
    /// `ptrace`, or `none` when this host forbids it.
    source: &'static str,
    /// Yama's `kernel.yama.ptrace_scope`, when the host has Yama.
    ptrace_scope: Option<u32>,
    /// Landlock audit records (ABI 7): offered by this kernel or not. cordon
    /// trace does not read them: ptrace sees landlock, mount and seccomp
    /// denials alike, without the audit daemon or CAP_AUDIT_READ.
    landlock_audit: bool,
    summary: String,
}

#[derive(Serialize)]
struct Macos {
    sandbox_exec: bool,
    /// `None` where it cannot be told.
    already_sandboxed: Option<bool>,
}

#[derive(Serialize)]
struct Profile {
    name: &'static str,
    default: bool,
    /// `enforced`, `gaps`, `refused`, `unsandboxed`, `unknown` or `error`.
    status: &'static str,
    /// Whether `cordon run` refuses it here without `--best-effort`.
    run_refuses: bool,
    gaps: Vec<Gap>,
    error: Option<String>,
}

#[derive(Serialize)]
struct Report {
    cordon: &'static str,
    os: &'static str,
    arch: &'static str,
    kernel: Option<String>,
    landlock: Landlock,
    seccomp: Seccomp,
    namespaces: Namespaces,
    /// What `--allow-connect-tcp`/`--allow-bind-tcp` and `--allow-domain`
    /// get on this host (docs/network.md).
    network: NetworkSupport,
    container: Option<String>,
    trace: Trace,
    macos: Option<Macos>,
    /// Profiles are resolved in this directory, as `run` would here.
    cwd: String,
    profiles: Vec<Profile>,
    default_profile_enforced: bool,
}

fn landlock() -> Landlock {
    let version = host::landlock_version();
    let abi = version.unwrap_or(0);
    let lsm = match host::lsm_list() {
        Some(list) if list.split(',').any(|m| m == "landlock") => "listed",
        Some(_) => "not-listed",
        None => "unknown",
    };
    let summary = match version {
        Ok(v) => format!("Landlock ABI {v}"),
        Err(Errno(libc::EOPNOTSUPP)) => "Landlock is built into this kernel but not enabled: \
             add `landlock` to the lsm= boot parameter"
            .into(),
        Err(Errno(libc::ENOSYS)) if host::seccomp_mode() == Some(2) => {
            "Landlock is unavailable (ENOSYS): this kernel lacks it, or the seccomp filter cordon \
             runs under hides it"
                .into()
        }
        Err(Errno(libc::ENOSYS)) => {
            "Landlock is unavailable (ENOSYS): needs Linux 5.13+ built with Landlock".into()
        }
        Err(e) => format!("Landlock is unavailable ({e})"),
    };
    Landlock {
        abi,
        error: version.err().map(|e| e.to_string()),
        lsm,
        features: LANDLOCK_FEATURES
            .iter()
            .map(|&(name, since)| Supported {
                name,
                abi: since,
                supported: abi >= since,
            })
            .collect(),
        summary,
    }
}

fn trace(landlock_abi: u8) -> Trace {
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    let is_root = nix::unistd::geteuid().is_root();
    let (source, why) = match scope {
        Some(3) => (
            "none",
            "ptrace is disabled (kernel.yama.ptrace_scope = 3)".to_string(),
        ),
        Some(2) if !is_root => (
            "none",
            "ptrace is for CAP_SYS_PTRACE only (kernel.yama.ptrace_scope = 2)".to_string(),
        ),
        _ => (
            "ptrace",
            "ptrace: a seccomp trace filter stops only the calls a sandbox can refuse".to_string(),
        ),
    };
    let audit = landlock_abi >= 7;
    let summary = format!(
        "{why}; Landlock audit records: {}",
        if audit {
            "offered by this kernel (ABI 7), not used: ptrace sees every mechanism's denials without the audit daemon"
        } else {
            "not offered (needs Landlock ABI 7)"
        }
    );
    Trace {
        source,
        ptrace_scope: scope,
        landlock_audit: audit,
        summary,
    }
}

fn probe(r: std::result::Result<Option<&'static str>, host::NsRefusal>) -> Probe {
    Probe {
        available: r.is_ok(),
        via: r.ok().flatten(),
        error: r.err().map(|e| e.errno.to_string()),
        refused_after_unshare: r.is_err_and(|e| e.after_unshare),
    }
}

fn namespaces() -> Namespaces {
    let user = host::user_namespace()
        .map(|()| None)
        .map_err(|errno| host::NsRefusal {
            errno,
            after_unshare: false,
        });
    let mount = probe(host::mount_namespace().map(Some));
    Namespaces {
        user: probe(user),
        after_unshare: mount
            .refused_after_unshare
            .then(host::after_unshare_restriction),
        mount,
        restrictions: host::userns_restrictions(),
    }
}

/// Off macOS there is nothing to say.
#[cfg(target_os = "macos")]
fn macos() -> Option<Macos> {
    Some(Macos {
        sandbox_exec: Path::new(crate::seatbelt::SANDBOX_EXEC).exists(),
        already_sandboxed: Some(crate::seatbelt::apply::already_sandboxed()),
    })
}

#[cfg(not(target_os = "macos"))]
fn macos() -> Option<Macos> {
    None
}

/// One built-in profile, resolved here and compiled as `run` would.
fn profile(name: &'static str, cwd: &Path) -> Profile {
    let mut out = Profile {
        name,
        default: name == DEFAULT_PROFILE,
        status: "enforced",
        run_refuses: false,
        gaps: Vec::new(),
        error: None,
    };
    let view = load_profile(name)
        .and_then(|p| plan::resolve(&p, cwd, &Env::from_process()))
        .and_then(|plan| platform_view(&plan, Platform::host(), None));
    let view = match view {
        Ok(v) => v,
        Err(e) => {
            out.status = "error";
            out.run_refuses = true;
            out.error = Some(e.message);
            return out;
        }
    };
    let linux = match view {
        View::Linux(v) => v,
        View::Macos(m) => {
            out.status = if m.sbpl.is_some() {
                "enforced"
            } else {
                "unsandboxed"
            };
            return out;
        }
    };
    let Some(art) = &linux.artifacts else {
        out.status = "unsandboxed";
        return out;
    };
    // `run` refuses exactly on the compile's gaps; the protected paths it
    // cannot pin are listed too, since nothing enforces them.
    out.gaps.extend(art.gaps.iter().cloned());
    out.run_refuses = !art.gaps.is_empty();
    // The namespace is tried for real (in a throw-away child), exactly as
    // `run --best-effort` does: without it `run` refuses this profile.
    if art.mounts.needs_namespace()
        && let Err(why) = crate::linux::namespace_available(&art.mounts)
    {
        for g in art.mounts.gaps_without_namespace() {
            out.gaps.push(Gap {
                detail: format!("{} (no private mount namespace: {why})", g.detail),
                ..g
            });
        }
        out.run_refuses = true;
    }
    for f in linux
        .features
        .iter()
        .filter(|f| f.kind == Kind::Protected && !f.enforced)
    {
        out.gaps.push(Gap {
            feature: Kind::Protected,
            detail: format!("{}: {}", f.feature, f.mechanism),
        });
    }
    out.status = if art.landlock.is_none() {
        "refused"
    } else if out.gaps.is_empty() {
        "enforced"
    } else {
        "gaps"
    };
    out
}

/// The network beyond on/off: one verdict for ports, one for domains.
#[derive(Serialize)]
struct NetworkSupport {
    tcp_ports: NetVerdict,
    domains: NetVerdict,
}

#[derive(Serialize)]
struct NetVerdict {
    enforced: bool,
    mechanism: String,
}

fn network_support(abi: u8, namespaces: &Namespaces) -> NetworkSupport {
    let macos = cfg!(target_os = "macos");
    let tcp_ports = if macos {
        NetVerdict {
            enforced: true,
            mechanism: "Seatbelt network-outbound/network-bind rules per port".into(),
        }
    } else if abi >= 4 {
        NetVerdict {
            enforced: true,
            mechanism: "Landlock connect_tcp/bind_tcp rules per port (ABI 4+); seccomp lets only TCP sockets through".into(),
        }
    } else {
        NetVerdict {
            enforced: false,
            mechanism: format!(
                "Landlock ABI {abi} < 4 has no TCP rules: runs are refused (tcp-ports gap) unless --best-effort"
            ),
        }
    };
    let ns = namespaces.mount.available;
    let domains = if macos {
        NetVerdict {
            enforced: true,
            mechanism: "Seatbelt allows TCP to localhost:PROXYPORT only; cordon's proxy runs outside the profile".into(),
        }
    } else if ns {
        NetVerdict {
            enforced: true,
            mechanism:
                "a network namespace with only lo; cordon's proxy outside it is the only way out"
                    .into(),
        }
    } else {
        NetVerdict {
            enforced: false,
            mechanism: "needs the network namespace, which this host refuses: runs with --allow-domain are refused".into(),
        }
    };
    NetworkSupport { tcp_ports, domains }
}

fn report() -> Result<Report> {
    let cwd = PolicyArgs::default().cwd()?;
    let profiles: Vec<Profile> = BUILTIN_NAMES.iter().map(|n| profile(n, &cwd)).collect();
    let default_profile_enforced = profiles.iter().any(|p| p.default && p.status == "enforced");
    let seccomp = host::seccomp_filters();
    let namespaces = namespaces();
    Ok(Report {
        cordon: env!("CARGO_PKG_VERSION"),
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_string()),
        trace: trace(host::landlock_version().unwrap_or(0)),
        landlock: landlock(),
        seccomp: Seccomp {
            filters: seccomp.is_ok(),
            error: seccomp.err().map(|e| e.to_string()),
            mode: host::seccomp_mode(),
        },
        network: network_support(crate::linux::host_abi(None), &namespaces),
        namespaces,
        container: host::container(),
        macos: macos(),
        cwd: cwd.display().to_string(),
        profiles,
        default_profile_enforced,
    })
}

fn yes_no(b: bool) -> &'static str {
    if b { "supported" } else { "not supported" }
}

fn probe_text(p: &Probe) -> String {
    match (&p.via, &p.error) {
        (None, Some(e)) if p.refused_after_unshare => {
            format!("unavailable (made, then its first mount got {e})")
        }
        (Some("cap_sys_admin"), _) => "available (directly, with CAP_SYS_ADMIN)".into(),
        (Some(_), _) => "available (inside a new user namespace)".into(),
        (None, None) => "available".into(),
        (None, Some(e)) => format!("unavailable ({e})"),
    }
}

/// The report for people: the host, then one section per mechanism, then
/// the profiles.
fn text(r: &Report) -> String {
    let mut o = String::new();
    let kernel = r.kernel.as_deref().unwrap_or("unknown");
    let _ = writeln!(
        o,
        "cordon {} on {} {} (kernel {kernel})",
        r.cordon, r.os, r.arch
    );
    kernel_text(&mut o, r);
    namespaces_text(&mut o, &r.namespaces);
    network_text(&mut o, &r.network);
    let _ = writeln!(
        o,
        "container: {}",
        r.container.as_deref().unwrap_or("none detected")
    );
    let _ = writeln!(o, "trace: denials from {}", r.trace.summary);
    if let Some(m) = &r.macos {
        let sandboxed = match m.already_sandboxed {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        };
        let _ = writeln!(
            o,
            "macos: /usr/bin/sandbox-exec {}; already sandboxed: {sandboxed}",
            if m.sandbox_exec { "present" } else { "MISSING" }
        );
    }
    profiles_text(&mut o, r);
    o
}

/// Landlock and seccomp.
fn kernel_text(o: &mut String, r: &Report) {
    let l = &r.landlock;
    let _ = writeln!(o, "landlock: {}", l.summary);
    for f in &l.features {
        let _ = writeln!(o, "  {} (ABI {}): {}", f.name, f.abi, yes_no(f.supported));
    }
    let lsm = match l.lsm {
        "listed" => "landlock is listed",
        "not-listed" => "landlock is NOT listed",
        _ => "unknown (/sys/kernel/security/lsm is not readable)",
    };
    let _ = writeln!(o, "  boot lsm= list: {lsm}");
    let s = &r.seccomp;
    let own = match s.mode {
        Some(0) => "cordon itself runs under no filter",
        Some(2) => "cordon itself already runs under a filter",
        Some(_) => "cordon itself runs in seccomp strict mode",
        None => "cordon's own mode is unknown",
    };
    match &s.error {
        None => {
            let _ = writeln!(o, "seccomp: filters supported ({own})");
        }
        Some(e) => {
            let _ = writeln!(o, "seccomp: filters NOT supported ({e}; {own})");
        }
    }
}

fn namespaces_text(o: &mut String, n: &Namespaces) {
    let _ = writeln!(o, "namespaces:");
    let _ = writeln!(o, "  user namespace: {}", probe_text(&n.user));
    let _ = writeln!(o, "  mount namespace: {}", probe_text(&n.mount));
    if let Some(r) = &n.after_unshare {
        let _ = writeln!(o, "  restricted: {r}");
    } else if !(n.user.available && n.mount.available) {
        for why in &n.restrictions {
            let _ = writeln!(o, "  likely cause: {why}");
        }
    }
}

fn network_text(o: &mut String, net: &NetworkSupport) {
    let verdict = |v: &NetVerdict| {
        format!(
            "{}: {}",
            if v.enforced {
                "enforced"
            } else {
                "NOT ENFORCED"
            },
            v.mechanism
        )
    };
    let _ = writeln!(o, "network beyond on/off:");
    let _ = writeln!(
        o,
        "  tcp ports (--allow-connect-tcp, --allow-bind-tcp): {}",
        verdict(&net.tcp_ports)
    );
    let _ = writeln!(o, "  domains (--allow-domain): {}", verdict(&net.domains));
}

fn profiles_text(o: &mut String, r: &Report) {
    let _ = writeln!(o, "profiles (resolved in {}):", r.cwd);
    for p in &r.profiles {
        let default = if p.default { " (default)" } else { "" };
        let mut names: Vec<&str> = p.gaps.iter().map(|g| g.feature.as_str()).collect();
        names.dedup();
        let line = match p.status {
            "enforced" => "fully enforced".to_string(),
            "unsandboxed" => "no sandbox (full access by design)".to_string(),
            "refused" => {
                "refused: Landlock is unavailable, so the filesystem cannot be confined".to_string()
            }
            "gaps" => format!("enforced with gaps: {}", names.join(", ")),
            other => format!("{other}: {}", p.error.as_deref().unwrap_or("")),
        };
        let _ = writeln!(o, "  {}{default}: {line}", p.name);
        for g in &p.gaps {
            let _ = writeln!(o, "    {}: {}", g.feature, g.detail);
        }
        if p.run_refuses && p.status != "error" {
            let _ = writeln!(
                o,
                "    `cordon run` refuses it without --best-effort (which warns once per gap)"
            );
        }
    }
}

pub fn doctor(args: DoctorArgs) -> Result<i32> {
    let r = report()?;
    if args.json {
        print_json(&r)?;
    } else {
        print!("{}", text(&r));
    }
    Ok(if r.default_profile_enforced { 0 } else { 1 })
}
