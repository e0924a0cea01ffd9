//! The only impure Linux step after the namespace: install what `compile`
//! produced on this process. The caller execs right after.

use std::os::fd::{FromRawFd, OwnedFd};

use landlock::{
    AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope,
};

use super::Artifacts;
use super::seccomp::Insn;
use crate::error::{Error, Result};

fn fs_flags(bits: u64) -> Result<BitFlags<AccessFs>> {
    BitFlags::<AccessFs>::from_bits(bits)
        .map_err(|_| Error::new(format!("internal: unknown Landlock rights {bits:#x}")))
}

fn landlock_err(what: &str) -> impl Fn(landlock::RulesetError) -> Error + '_ {
    move |e| {
        Error::new(format!(
            "Landlock {what} failed: {e}; run `cordon doctor` to see what this kernel supports"
        ))
    }
}

/// A Landlock ruleset with every rule added, not yet enforced, and the
/// rules to add by name once the namespace exists.
pub struct Prepared(Option<(RulesetCreated, Vec<super::landlock::Rule>)>);

/// Creates the ruleset and adds every rule, from the descriptors planning
/// opened and checked: a name swapped for a symlink since then cannot
/// redirect a rule. Done before the namespace, so the plan's descriptors
/// can be closed before the namespace opens as many again; the rules hold
/// the inodes, not the descriptors.
pub fn prepare(ruleset: Option<&super::landlock::Ruleset>) -> Result<Prepared> {
    let Some(plan) = ruleset else {
        return Ok(Prepared(None));
    };
    // HardRequirement: the ABI was chosen from the kernel's, so anything the
    // kernel then refuses is an error, never a silent downgrade.
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(fs_flags(plan.handled_fs.0)?)
        .map_err(landlock_err("handling filesystem rights"))?;
    if plan.handle_tcp {
        ruleset = ruleset
            .handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)
            .map_err(landlock_err("handling TCP"))?;
    }
    if plan.scopes {
        ruleset = ruleset
            .scope(Scope::AbstractUnixSocket | Scope::Signal)
            .map_err(landlock_err("scoping"))?;
    }
    let mut created = ruleset.create().map_err(landlock_err("ruleset creation"))?;
    for &port in &plan.connect_tcp {
        created = created
            .add_rule(NetPort::new(port, AccessNet::ConnectTcp))
            .map_err(landlock_err("adding a connect_tcp rule"))?;
    }
    for &port in &plan.bind_tcp {
        created = created
            .add_rule(NetPort::new(port, AccessNet::BindTcp))
            .map_err(landlock_err("adding a bind_tcp rule"))?;
    }
    for rule in plan.rules.iter().filter(|r| !r.after_namespace) {
        let rights = fs_flags(rule.rights.0)?;
        let added = rule
            .handle
            .with_fd(|fd| {
                (&mut created)
                    .add_rule(PathBeneath::new(fd, rights))
                    .map(drop)
            })
            .ok_or_else(|| {
                Error::new(format!(
                    "internal: {} ({}) was not held open by the plan",
                    rule.path.display(),
                    rule.why
                ))
            })?;
        added.map_err(landlock_err("adding a rule"))?;
    }
    let late = plan
        .rules
        .iter()
        .filter(|r| r.after_namespace)
        .cloned()
        .collect();
    Ok(Prepared(Some((created, late))))
}

/// Adds the rules on paths cordon itself made in the namespace (the
/// private `/dev/shm`), by name: nothing else can have made them, and the
/// connect rule on the domain proxy's port (`proxy_port`, known only once
/// its listener is bound), then enforces the ruleset.
fn restrict(prepared: Prepared, in_namespace: bool, proxy_port: Option<u16>) -> Result<()> {
    let Some((mut created, late)) = prepared.0 else {
        return Ok(());
    };
    if let Some(port) = proxy_port {
        created = created
            .add_rule(NetPort::new(port, AccessNet::ConnectTcp))
            .map_err(landlock_err("adding the proxy's connect rule"))?;
    }
    let late = late.iter().filter(|r| in_namespace || !r.namespace_only);
    for rule in late {
        let fd = PathFd::new(&rule.path).map_err(|e| {
            Error::new(format!(
                "cannot open {} ({}): {e}",
                rule.path.display(),
                rule.why
            ))
        })?;
        created = created
            .add_rule(PathBeneath::new(fd, fs_flags(rule.rights.0)?))
            .map_err(landlock_err("adding a rule"))?;
    }
    created
        .restrict_self()
        .map_err(landlock_err("restrict_self"))?;
    Ok(())
}

/// Puts the command in a Landlock domain nested in the reaper's: one more
/// layer, scopes only. Landlock refuses signals and ptrace towards a parent
/// domain, so the command can neither kill the reaper (and keep its
/// leftovers alive) nor attach to it (the reaper carries no seccomp
/// filter); the reaper's kill(-1) still reaches every process of the
/// nested domain, and of domains nested further.
///
/// Every Landlock layer denies `refer` (renaming or linking a file into
/// another directory) unless a rule of that layer grants it, even a layer
/// that handles no filesystem right: without the rule on `/` here, every
/// cross-directory rename in a writable root failed with EXDEV (rustc's
/// `.rmeta`, git's objects). The outer layer still decides where `refer`
/// is allowed.
fn shield_reaper() -> Result<()> {
    let slash = PathFd::new("/").map_err(|e| {
        Error::new(format!(
            "cannot open / for the command's nested domain: {e}"
        ))
    })?;
    Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::Refer)
        .map_err(landlock_err(
            "handling refer in the command's nested domain",
        ))?
        .scope(Scope::AbstractUnixSocket | Scope::Signal)
        .map_err(landlock_err("scoping the command apart from the reaper"))?
        .create()
        .map_err(landlock_err("creating the command's nested domain"))?
        .add_rule(PathBeneath::new(slash, AccessFs::Refer))
        .map_err(landlock_err(
            "allowing refer in the command's nested domain",
        ))?
        .restrict_self()
        .map_err(landlock_err("entering the command's nested domain"))?;
    Ok(())
}

/// Installs a classic-BPF seccomp program with `flags`; returns the
/// kernel's answer (a descriptor with `SECCOMP_FILTER_FLAG_NEW_LISTENER`).
/// Raw syscall: no library installs a program with flags (the listener).
pub(super) fn install_filter(prog: &[Insn], flags: libc::c_ulong) -> std::io::Result<i64> {
    const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;
    let mut filter: Vec<libc::sock_filter> = prog
        .iter()
        .map(|&(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
        .collect();
    let fprog = libc::sock_fprog {
        len: u16::try_from(filter.len())
            .map_err(|_| std::io::Error::other("seccomp program too long"))?,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: a valid program of `len` instructions that outlives the call.
    let rc = unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(rc)
}

/// Installs the sandbox's filter. With `listener`, asks for the filter's
/// notification descriptor (SECCOMP_FILTER_FLAG_NEW_LISTENER): no rule
/// notifies, but it reports POLLHUP once no process holds the filter, which
/// is how the sentinel learns the sandbox is empty. Only one filter in a
/// process's stack may have a listener (EBUSY, e.g. cordon inside cordon):
/// then it is installed without one, and `None` returned.
fn apply_seccomp(prog: &[Insn], listener: bool) -> Result<Option<OwnedFd>> {
    const SECCOMP_FILTER_FLAG_NEW_LISTENER: libc::c_ulong = 1 << 3;
    let failed =
        |e: std::io::Error| Error::new(format!("installing the seccomp filter failed: {e}"));
    if listener {
        match install_filter(prog, SECCOMP_FILTER_FLAG_NEW_LISTENER) {
            // SAFETY: a fresh descriptor returned by the kernel.
            Ok(fd) => return Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
            Err(e) => return Err(failed(e)),
        }
    }
    install_filter(prog, 0).map_err(failed)?;
    Ok(None)
}

/// Sets `no_new_privs`, cuts the capabilities of a command that runs as
/// uid 0, applies Landlock (when available) and the seccomp filter, in
/// that order: seccomp last so nothing it denies is needed after. Returns
/// the filter's listener when `listener` asks for one.
pub fn apply(
    art: &Artifacts,
    landlock: Prepared,
    in_namespace: bool,
    listener: bool,
    proxy_port: Option<u16>,
) -> Result<Applied> {
    // SAFETY: plain prctl with constant arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(Error::new(format!(
            "prctl(PR_SET_NO_NEW_PRIVS) failed: {}",
            std::io::Error::last_os_error()
        )));
    }
    if let Some(keep) = art.caps {
        super::caps::restrict(keep)
            .map_err(|e| Error::new(format!("dropping capabilities failed: {e}; nothing ran")))?;
    }
    // Only when the ruleset handles TCP (ABI 4+): a rule on an unhandled
    // right is an error.
    let proxy_port = proxy_port.filter(|_| art.landlock.as_ref().is_some_and(|rs| rs.proxy_port));
    restrict(landlock, in_namespace, proxy_port)?;
    // The reaper needs only the Landlock domain (its kill(-1) is scoped by
    // it), so it is forked now and finishes forking while the filter loads.
    let reaper = (art.leftovers == super::Leftovers::Reaper)
        .then(super::sentinel::start_reaper)
        .transpose()
        .map_err(|e| Error::new(format!("cannot start the reaper process: {e}; nothing ran")))?;
    if reaper.is_some() {
        shield_reaper()?;
    }
    Ok(Applied {
        listener: apply_seccomp(&art.seccomp.bpf, listener)?,
        _reaper: reaper,
    })
}

/// What `apply` leaves for the last steps before exec.
pub struct Applied {
    /// The seccomp filter's listener, for the sentinel.
    pub listener: Option<OwnedFd>,
    /// Reaped when dropped, just before exec.
    _reaper: Option<super::helper::Middle>,
}
