//! Each feature of the plan next to the part of the compiled artifacts that
//! enforces it (a Landlock rule, right or scope, a seccomp rule), or the gap
//! that says it is not enforced. Read off `Artifacts`; decides nothing new.

use std::path::Path;

use super::Artifacts;
use super::landlock::{FsRights, RuleIndex, Ruleset};
use super::seccomp;
use crate::enforcement::{Feature, Kind};
use crate::plan::{Plan, ReadScope, describe_protected};
use crate::policy::Network;

fn yes(kind: Kind, feature: impl Into<String>, mechanism: impl Into<String>) -> Feature {
    Feature::enforced(kind, feature, mechanism)
}

fn no(kind: Kind, feature: impl Into<String>, why: impl Into<String>) -> Feature {
    Feature::not_enforced(kind, feature, why)
}

/// The Landlock rule on exactly `path` that grants `want`.
fn rule_on(rs: &Ruleset, idx: &RuleIndex, path: &Path, want: FsRights) -> Option<String> {
    idx.on(path, want).map(|r| {
        let missing = FsRights(rs.handled_fs.0 & !r.rights.0);
        let rights = if missing.0 == 0 {
            "all handled rights".to_string()
        } else if missing.names().len() <= 2 {
            format!("all handled rights but {missing}")
        } else {
            r.rights.to_string()
        };
        format!("landlock rule {} ({rights})", r.path.display())
    })
}

/// The seccomp rules that enforce feature `kind`, as `--dry-run` prints
/// them; neighbours with the same condition and errno share one entry
/// (`seccomp a, b if arg0 != 0x0 -> errno 1`). `None` when there is none.
fn seccomp_rules(art: &Artifacts, kind: Kind) -> Option<String> {
    let mut groups: Vec<(Vec<&str>, seccomp::Cond, i32)> = Vec::new();
    for r in art.seccomp.rules.iter().filter(|r| r.feature == kind) {
        match groups.last_mut() {
            Some((names, cond, errno)) if *cond == r.cond && *errno == r.errno => {
                names.push(r.syscall)
            }
            _ => groups.push((vec![r.syscall], r.cond, r.errno)),
        }
    }
    let shown: Vec<String> = groups
        .iter()
        .map(|(names, cond, errno)| format!("seccomp {}{cond} -> errno {errno}", names.join(", ")))
        .collect();
    (!shown.is_empty()).then(|| shown.join("; "))
}

/// Feature `kind`, enforced by its seccomp rules; a missing rule is an
/// internal error shown as not enforced rather than claimed.
fn by_seccomp(art: &Artifacts, kind: Kind, what: &str) -> Feature {
    match seccomp_rules(art, kind) {
        Some(m) => yes(kind, what, m),
        None => no(kind, what, format!("internal: no seccomp rule for {kind}")),
    }
}

fn no_rule(what: &str) -> String {
    format!("internal: no Landlock rule for {what}")
}

fn filesystem(plan: &Plan, art: &Artifacts, rs: &Ruleset, namespace: bool, out: &mut Vec<Feature>) {
    let idx = RuleIndex::new(rs);
    read_scope(plan, rs, &idx, out);
    writable_roots(plan, art, rs, &idx, namespace, out);
    out.push(yes(
        Kind::WritesElsewhere,
        "writes elsewhere",
        "denied by landlock (no rule grants write outside the writable roots and devices)",
    ));
    denied_paths(plan, art, namespace, out);
}

/// The read scope: `/` whole, or the `:minimal` set and each readable path
/// with everything else denied.
fn read_scope(plan: &Plan, rs: &Ruleset, idx: &RuleIndex, out: &mut Vec<Feature>) {
    let read = super::landlock::READ.and(rs.handled_fs);
    match &plan.read {
        ReadScope::All => out.push(
            match rule_on(rs, idx, Path::new("/"), read) {
                Some(m) => yes(Kind::ReadScope, "read scope :root (/)", m),
                None => no(Kind::ReadScope, "read scope :root (/)", no_rule("/")),
            }
            .at(Path::new("/")),
        ),
        ReadScope::Restricted { minimal, roots, .. } => {
            if *minimal {
                let n = rs
                    .rules
                    .iter()
                    .filter(|r| r.why.starts_with("read scope :minimal"))
                    .count();
                out.push(yes(
                    Kind::ReadScope,
                    "read scope :minimal",
                    format!("{n} landlock rules (see --dry-run)"),
                ));
            }
            for r in roots {
                let what = format!("readable path {} from {}", r.path.display(), r.origin);
                let f = match rule_on(rs, idx, &r.path, read.and(super::landlock::FILE_ONLY)) {
                    Some(m) => yes(Kind::ReadablePath, what, m),
                    None => no(Kind::ReadablePath, what, no_rule(&r.path.to_string_lossy())),
                };
                out.push(f.at(&r.path));
            }
            out.push(yes(
                Kind::ReadsElsewhere,
                "reads elsewhere",
                "denied by landlock (no rule grants read_file or read_dir there)",
            ));
        }
    }
}

/// Each writable root by its Landlock rule, followed by its protected
/// paths as the mount plan holds them.
fn writable_roots(
    plan: &Plan,
    art: &Artifacts,
    rs: &Ruleset,
    idx: &RuleIndex,
    namespace: bool,
    out: &mut Vec<Feature>,
) {
    // The mount plan holds one entry per protected path, in plan order.
    let mut protections = art.mounts.protections.iter();
    for w in &plan.writable {
        let what = format!(
            "writable root {} from {}",
            w.root.path.display(),
            w.root.origin
        );
        let f = match rule_on(rs, idx, &w.root.path, super::landlock::WRITE_FILE) {
            Some(m) => yes(Kind::WritableRoot, what, m),
            None => no(
                Kind::WritableRoot,
                what,
                no_rule(&w.root.path.to_string_lossy()),
            ),
        };
        out.push(f.at(&w.root.path));
        for p in &w.protected {
            let found = protections
                .next()
                .filter(|m| m.path == p.path && m.target == p.target);
            out.push(protected(art, describe_protected(w, p), found, namespace).at(&p.target));
        }
    }
}

/// A protected path by the mount plan's entry for it, `found`.
fn protected(
    art: &Artifacts,
    what: String,
    found: Option<&super::mounts::Protection>,
    namespace: bool,
) -> Feature {
    let Some(m) = found else {
        return no(Kind::Protected, what, "internal: not in the mount plan");
    };
    let e = art.mounts.explain(m, namespace);
    // By design, not a gap: see mounts::PROJECT_ONLY.
    let kind = if m.mechanism == super::mounts::Mechanism::Unheld {
        Kind::ProtectedUnheld
    } else {
        Kind::Protected
    };
    Feature {
        enforced: e.enforced,
        ..yes(kind, what, e.mechanism)
    }
}

/// Each `[deny]` path, with what lifts parts of it, and each waived one.
fn denied_paths(plan: &Plan, art: &Artifacts, namespace: bool, out: &mut Vec<Feature>) {
    let e = art.deny_enforcement(namespace);
    for d in &plan.deny.denied {
        let mut what = format!("deny {} ({} from {})", d.path.display(), d.entry, d.origin);
        for l in &d.lifted {
            what.push_str(&format!("; {} lifted by {}", l.path.display(), l.by));
        }
        let f = Feature {
            enforced: e.enforced,
            ..yes(Kind::Deny, what, e.mechanism.clone())
        };
        out.push(f.at(&d.path));
    }
    for w in &plan.deny.waived {
        let what = format!("deny {} ({} from {})", w.path.display(), w.entry, w.origin);
        out.push(
            yes(
                Kind::DenyWaived,
                what,
                format!("not applied: {} names it", w.by),
            )
            .at(&w.path),
        );
    }
}

/// A Landlock feature that is a gap below some ABI: enforced unless
/// `compile` reported the gap.
fn abi_feature(
    art: &Artifacts,
    namespace: bool,
    gap: Kind,
    what: &str,
    mechanism: &str,
) -> Feature {
    if let Some(g) = art.mounts.backfills.iter().find(|g| g.feature == gap) {
        // Closed by the read-only world of the mount namespace instead.
        return if namespace {
            yes(
                gap,
                what,
                "mount (read-only / in a private mount namespace)",
            )
        } else {
            no(gap, what, g.detail.clone())
        };
    }
    match art.gaps.iter().find(|g| g.feature == gap) {
        Some(g) => no(gap, what, g.detail.clone()),
        None => yes(gap, what, mechanism),
    }
}

/// What the private mount namespace enforces besides protected paths, each
/// enforced exactly when the namespace can be had.
fn namespace_features(art: &Artifacts, namespace: bool, out: &mut Vec<Feature>) {
    let m = &art.mounts;
    let feature = |kind, what: &str, how: String| {
        if namespace {
            yes(kind, what, how)
        } else {
            no(
                kind,
                what,
                "needs the private mount namespace, which this host does not give",
            )
        }
    };
    if m.read_only_world() {
        out.push(feature(
            Kind::Metadata,
            "chmod, chown, utime and xattr changes outside the writable roots",
            "mount (read-only / in a private mount namespace: EROFS)".into(),
        ));
    }
    if let Some(dev) = m.ops.iter().find_map(|op| match op {
        super::mounts::MountOp::Dev(d) => Some(d),
        _ => None,
    }) {
        let names: Vec<String> = dev
            .nodes
            .iter()
            .map(|n| n.path.display().to_string())
            .collect();
        out.push(feature(
            Kind::Devices,
            "host devices (block devices, /dev/mem, /dev/kmsg, other terminals' device files)",
            format!(
                "mount (a private /dev holding only {}{})",
                names.join(", "),
                if dev.private_shm {
                    ", and a private /dev/shm"
                } else {
                    ""
                }
            ),
        ));
    }
    out.push(feature(
        Kind::Ipc,
        "SysV IPC and POSIX message queues of processes outside",
        "namespace (a private IPC namespace)".into(),
    ));
    match art.leftovers {
        super::Leftovers::Reaper => out.push(yes(
            Kind::Leftovers,
            "processes the command leaves behind in the sandbox",
            "reaper (kill(-1, SIGKILL) from inside the sandbox when the command exits; Landlock's signal scope limits it to the sandbox)",
        )),
        super::Leftovers::Scan => out.push(feature(
            Kind::Leftovers,
            "processes the command leaves behind in the sandbox",
            "sentinel (killed when the command exits, found by the sandbox's mount namespace; a process forking fast can outrun the scan)".into(),
        )),
        super::Leftovers::Keep => {}
    }
    let id = &art.identity;
    if id.collapsed || id.caps_cleared {
        out.push(yes(
            Kind::Identity,
            "the caller's other uids, gids and capabilities",
            format!(
                "setresuid/setresgid and capset before the sandbox: {}",
                id.to_string().trim_end().trim_start_matches("identity: ")
            ),
        ));
    }
}

/// Why listed ports are not enforced: the `tcp-ports` gap, or its absence.
fn no_tcp_rights(art: &Artifacts) -> String {
    art.gaps
        .iter()
        .find(|g| g.feature == Kind::TcpPorts)
        .map_or("ports: no Landlock TCP rights".to_string(), |g| {
            g.detail.clone()
        })
}

/// One verdict per listed port and domain (`tcp-port`, `domain`), and the
/// TCP left to them (`tcp-other`).
fn network_lists(plan: &Plan, art: &Artifacts, namespace: bool, out: &mut Vec<Feature>) {
    let net = &plan.network;
    let tcp = art.landlock.as_ref().is_some_and(|rs| rs.handle_tcp);
    tcp_ports(net, art, tcp, out);
    if net.proxied() {
        proxied_domains(net, tcp, namespace, out);
    }
}

/// Each listed TCP port, and the other ports denied unless the proxy is on.
fn tcp_ports(net: &Network, art: &Artifacts, tcp: bool, out: &mut Vec<Feature>) {
    for (list, right) in [(&net.connect_tcp, "connect"), (&net.bind_tcp, "bind")] {
        for port in list {
            let what = format!("TCP {right} to port {port} allowed (any host)");
            out.push(match (tcp, net.proxied()) {
                (true, false) => yes(Kind::TcpPort, what, format!("landlock {right}_tcp rule on port {port}")),
                (true, true) => yes(
                    Kind::TcpPort,
                    what,
                    format!("landlock {right}_tcp rule on port {port}; inside the network namespace only loopback exists"),
                ),
                (false, _) => no(Kind::TcpPort, what, no_tcp_rights(art)),
            });
        }
    }
    if net.has_ports() && !net.proxied() {
        out.push(if tcp {
            yes(
                Kind::TcpOther,
                "TCP to and from other ports denied",
                "landlock handles bind_tcp,connect_tcp; no rule for other ports (EACCES)",
            )
        } else {
            no(
                Kind::TcpOther,
                "TCP to and from other ports denied",
                no_tcp_rights(art),
            )
        });
    }
}

/// With listed domains: the isolation that leaves the proxy the only way
/// out, each domain, and the proxy variables.
fn proxied_domains(net: &Network, tcp: bool, namespace: bool, out: &mut Vec<Feature>) {
    let isolation = if namespace {
        "a network namespace of its own with only lo: the proxy on 127.0.0.1 is the only way out"
    } else {
        "needs the network namespace, which this host does not give (refused)"
    };
    out.push(Feature {
        enforced: namespace,
        ..yes(
            Kind::DomainIsolation,
            "direct connections, UDP and DNS fail; only the proxy reaches out",
            if tcp {
                format!("{isolation}; landlock connect_tcp only to the proxy's port")
            } else {
                isolation.to_string()
            },
        )
    });
    for d in &net.domains {
        let what = match (d.wildcard, d.port) {
            (false, None) => format!(
                "domain {d} reached through the proxy (any port; may resolve to a local address: listed by exact name)"
            ),
            (false, Some(p)) => format!("domain {d} reached through the proxy (port {p} only)"),
            (true, None) => format!(
                "domain {d} reached through the proxy (any port; never a local or private address)"
            ),
            (true, Some(p)) => format!(
                "domain {d} reached through the proxy (port {p} only; never a local or private address)"
            ),
        };
        out.push(Feature {
            enforced: namespace,
            ..yes(
                Kind::Domain,
                what,
                "cordon's proxy (HTTP CONNECT, absolute-URI HTTP, SOCKS5) outside the sandbox; other hosts get 403 / SOCKS 0x02",
            )
        });
    }
    out.push(yes(
        Kind::ProxyEnv,
        format!("{} point at the proxy", crate::proxy::ENV_NAMES.join(" ")),
        "set by cordon after the [env] policy (no exclude pattern removes them)",
    ));
}

/// Every feature of `plan` with its mechanism under `art`; `namespace`:
/// whether this host gives the private mount namespace.
pub fn features(plan: &Plan, art: &Artifacts, namespace: bool) -> Vec<Feature> {
    let mut out = Vec::new();
    match &art.landlock {
        Some(rs) => filesystem(plan, art, rs, namespace, &mut out),
        None => out.push(no(
            Kind::Filesystem,
            "filesystem",
            art.gaps
                .iter()
                .find(|g| g.feature == Kind::Landlock)
                .map_or("Landlock is unavailable".into(), |g| g.detail.clone()),
        )),
    }
    network(plan, art, namespace, &mut out);
    host_sockets(plan, art, namespace, &mut out);
    out.push(by_seccomp(art, Kind::IoUring, "io_uring off"));
    out.push(by_seccomp(
        art,
        Kind::TerminalInjection,
        &format!(
            "terminal injection (TIOCSTI {:#x}, TIOCLINUX {:#x})",
            seccomp::TIOCSTI,
            seccomp::TIOCLINUX
        ),
    ));
    out.extend(super::terminals::features(plan, art, namespace));
    namespace_features(art, namespace, &mut out);
    out.extend(capabilities(art));
    kernel_interfaces(art, &mut out);
    if art.landlock.is_some() {
        landlock_abi_features(art, namespace, &mut out);
    }
    out.push(no(
        Kind::Macos,
        "macos extensions",
        "carried for Seatbelt; nothing on Linux enforces them",
    ));
    out
}

/// The network switch with its lists, unix sockets, socket pairs and vsock.
fn network(plan: &Plan, art: &Artifacts, namespace: bool, out: &mut Vec<Feature>) {
    if plan.network.enabled {
        out.push(yes(Kind::Network, "network on", "nothing to enforce"));
    } else if plan.network.partial() {
        out.push(by_seccomp(
            art,
            Kind::Network,
            "network off but for TCP: no UDP, raw, ICMP, SCTP, MPTCP, netlink, packet or TCP Fast Open",
        ));
        network_lists(plan, art, namespace, out);
    } else {
        let mut f = by_seccomp(art, Kind::Network, "network off");
        if f.enforced && art.landlock.as_ref().is_some_and(|rs| rs.handle_tcp) {
            f.mechanism
                .push_str("; landlock handles bind_tcp,connect_tcp with no rule");
        }
        out.push(f);
    }
    out.push(if plan.network.unix_sockets {
        yes(
            Kind::UnixSockets,
            "unix sockets allowed",
            "nothing to enforce",
        )
    } else {
        by_seccomp(art, Kind::UnixSockets, "unix sockets denied")
    });
    out.push(yes(
        Kind::LocalIpc,
        "socketpair(AF_UNIX) and pipes allowed",
        "nothing to enforce: a connected pair reaches nothing outside the sandbox",
    ));
    out.push(by_seccomp(
        art,
        Kind::Vsock,
        "vsock sockets (a channel to the hypervisor host)",
    ));
}

/// The host daemons' sockets, masked or inside a writable root, and with
/// unix sockets allowed, the pathname sockets nothing masks.
fn host_sockets(plan: &Plan, art: &Artifacts, namespace: bool, out: &mut Vec<Feature>) {
    for d in &art.mounts.daemon_sockets {
        let what = format!("host daemon socket {}", d.path.display());
        let f = match &d.allowed_by {
            Some(root) => yes(
                Kind::DaemonSocket,
                what,
                format!("allowed: inside the writable root {}", root.display()),
            ),
            None if namespace => yes(
                Kind::DaemonSocket,
                what,
                "mount (/dev/null bound over it in a private mount namespace: connect fails \
                 with ECONNREFUSED)",
            ),
            None => no(
                Kind::DaemonSocket,
                what,
                "needs the private mount namespace, which this host does not give",
            ),
        };
        out.push(f.at(&d.path));
    }
    if plan.network.unix_sockets {
        out.push(no(
            Kind::UnixConnect,
            "connect(2) to other pathname unix sockets",
            "Landlock has no right for it: the well-known host daemon sockets are masked \
             (daemon-socket), but others the command can reach, such as an ssh-agent or X11 \
             socket under a writable /tmp, stay reachable",
        ));
    }
}

/// The capabilities kept from a privileged caller, when any are.
fn capabilities(art: &Artifacts) -> Option<Feature> {
    let keep = art.caps.filter(|k| k.0 != 0)?;
    Some(yes(
        Kind::Capabilities,
        "capabilities of a privileged caller (reboot, kernel modules, clock, host name, \
         network admin, other processes' memory maps...)",
        format!(
            "PR_CAPBSET_DROP and capset: only {} are kept",
            keep.names().join(",")
        ),
    ))
}

/// The kernel interfaces seccomp closes whatever the policy says.
fn kernel_interfaces(art: &Artifacts, out: &mut Vec<Feature>) {
    out.push(by_seccomp(
        art,
        Kind::MountChanges,
        "mount, chroot and setns (the filesystem view stays as set up)",
    ));
    out.push(by_seccomp(
        art,
        Kind::OpenByHandle,
        "open_by_handle_at (opens files past read-only binds and Landlock)",
    ));
    out.push(by_seccomp(
        art,
        Kind::UserNamespaces,
        "nested user namespaces",
    ));
    out.push(by_seccomp(
        art,
        Kind::Keyrings,
        "the kernel keyrings (session, user)",
    ));
    out.push(by_seccomp(
        art,
        Kind::ProcessTargets,
        "resource limits, priority, scheduling, CPU affinity, I/O priority and memory \
         placement of any process but the caller itself (its own children and threads \
         included)",
    ));
}

/// The Landlock rights and scopes that newer ABIs add.
fn landlock_abi_features(art: &Artifacts, namespace: bool, out: &mut Vec<Feature>) {
    for (gap, what, mechanism) in [
        (
            Kind::Truncate,
            "truncate outside writable roots",
            "landlock right truncate",
        ),
        (Kind::IoctlDev, "device ioctls", "landlock right ioctl_dev"),
        (
            Kind::SignalScope,
            "signals to processes outside the sandbox",
            "landlock scope signal",
        ),
        (
            Kind::AbstractUnixScope,
            "abstract unix sockets outside the sandbox",
            "landlock scope abstract_unix_socket",
        ),
    ] {
        out.push(abi_feature(art, namespace, gap, what, mechanism));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::compile_for;
    use crate::linux::identity::Caller;
    use crate::plan::{Env, resolve};
    use crate::policy::parse_profile_toml;

    /// `extra`: more `[network]` lines (ports, domains).
    fn features_with(network: bool, unix: bool, extra: &str) -> (Artifacts, Vec<Feature>) {
        let dir = tempfile::tempdir().unwrap();
        let toml = format!(
            "[file_system]\nwrite = [\":cwd\"]\n[network]\nenabled = {network}\nunix_sockets = {unix}\n{extra}"
        );
        let policy = parse_profile_toml(&toml, "test").unwrap();
        let plan = resolve(&policy, dir.path(), &Env::default()).unwrap();
        let art = compile_for(&plan, 7, &Caller::plain(65534).identity(), &[], &[]).unwrap();
        let f = features(&plan, &art, true);
        (art, f)
    }

    /// Item 13 of the attack review: `explain` said "unix sockets denied"
    /// while `run` emitted no rule. Every rule now belongs to a feature
    /// that names it, and every seccomp feature has rules.
    #[test]
    fn every_seccomp_rule_is_reported_by_its_feature_and_back() {
        let cases = [
            (false, ""),
            (true, ""),
            (false, "connect_tcp = [443]\n"),
            (false, "domains = [\"crates.io\"]\n"),
        ];
        for (network, extra) in cases {
            for unix in [false, true] {
                let (art, features) = features_with(network, unix, extra);
                let ctx = format!("network={network} unix_sockets={unix} {extra}");
                for r in &art.seccomp.rules {
                    let f = features
                        .iter()
                        .find(|f| f.kind == r.feature)
                        .unwrap_or_else(|| panic!("{ctx}: no feature {} for {r:?}", r.feature));
                    assert!(f.enforced, "{ctx}: {f:?}");
                    // One `seccomp a, b{cond} -> errno N` entry names it.
                    let tail = format!("{} -> errno {}", r.cond, r.errno);
                    let listed = f.mechanism.split("; ").any(|entry| {
                        entry.strip_prefix("seccomp ").is_some_and(|e| {
                            e.strip_suffix(&tail)
                                .is_some_and(|names| names.split(", ").any(|n| n == r.syscall))
                        })
                    });
                    assert!(listed, "{ctx}: {r:?} not in {f:?}");
                }
                for f in features
                    .iter()
                    .filter(|f| f.mechanism.starts_with("seccomp"))
                {
                    assert!(
                        art.seccomp.rules.iter().any(|r| r.feature == f.kind),
                        "{ctx}: {f:?} has no rule"
                    );
                }
                let unix_f = features
                    .iter()
                    .find(|f| f.kind == Kind::UnixSockets)
                    .unwrap();
                assert_eq!(unix_f.mechanism.starts_with("seccomp"), !unix, "{ctx}");
                let denied_unix = art.seccomp.rules.iter().any(|r| {
                    r.syscall == "socket"
                        && matches!(r.cond, seccomp::Cond::ArgEq(0, seccomp::AF_UNIX))
                });
                assert_eq!(denied_unix, !unix, "{ctx}");
                // socketpair(AF_UNIX) is never denied.
                assert!(!art.seccomp.rules.iter().any(|r| {
                    r.syscall == "socketpair"
                        && !matches!(r.cond, seccomp::Cond::ArgNe(0, seccomp::AF_UNIX))
                }));
                let vsock = features.iter().find(|f| f.kind == Kind::Vsock).unwrap();
                assert!(vsock.enforced && vsock.mechanism.contains("if arg0 == 0x28"));
                let targets = features.iter().find(|f| f.kind == Kind::ProcessTargets);
                assert!(targets.is_some_and(|f| f.enforced), "{ctx}");
            }
        }
    }
}
