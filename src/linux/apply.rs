//! The only impure Linux step: install what `compile` produced on this
//! process. The caller execs right after.

use landlock::{
    AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, Scope,
};

use super::Artifacts;
use super::landlock::Ruleset as Plan;
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

fn apply_landlock(plan: &Plan) -> Result<()> {
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
    let rules = super::terminals::expand(&plan.rules)
        .map_err(|e| Error::new(format!("cannot list / for the read scope: {e}")))?;
    for a in rules {
        let fd = match PathFd::new(&a.open) {
            Ok(fd) => fd,
            Err(_) if a.optional => continue,
            Err(e) => {
                return Err(Error::new(format!(
                    "cannot open {} ({}): {e}",
                    a.open.display(),
                    a.rule.why
                )));
            }
        };
        created = created
            .add_rule(PathBeneath::new(fd, fs_flags(a.rights.0)?))
            .map_err(landlock_err("adding a rule"))?;
    }
    created
        .restrict_self()
        .map_err(landlock_err("restrict_self"))?;
    Ok(())
}

/// Sets `no_new_privs`, cuts a privileged caller's capabilities, applies
/// Landlock (when available) and the seccomp filter, in that order: seccomp
/// last so nothing it denies is needed after.
pub fn apply(art: &Artifacts) -> Result<()> {
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
    if let Some(rs) = &art.landlock {
        apply_landlock(rs)?;
    }
    let prog: Vec<seccompiler::sock_filter> = art
        .seccomp
        .bpf
        .iter()
        .map(|&(code, jt, jf, k)| seccompiler::sock_filter { code, jt, jf, k })
        .collect();
    seccompiler::apply_filter(&prog)
        .map_err(|e| Error::new(format!("installing the seccomp filter failed: {e}")))?;
    Ok(())
}
