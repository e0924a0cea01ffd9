//! The apply edge: given a plan, compile for this OS, report gaps, apply and
//! exec. Platform `cfg`s live here and in the backends' apply modules only.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::exec;
use crate::plan::Plan;

/// How to launch: options that are not part of the policy.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub dry_run: bool,
    pub best_effort: bool,
    /// Cap on the Landlock ABI (`--landlock-abi`).
    pub landlock_abi: Option<u8>,
    /// Directory to change into before exec (`-C`).
    pub chdir: Option<PathBuf>,
}

pub const ENV_SANDBOX: &str = "CORDON_SANDBOX";
pub const ENV_NETWORK_DISABLED: &str = "CORDON_SANDBOX_NETWORK_DISABLED";

fn chdir(dir: &Option<PathBuf>) -> Result<()> {
    if let Some(d) = dir {
        std::env::set_current_dir(d)
            .map_err(|e| Error::new(format!("cannot enter --cwd {}: {e}", d.display())))?;
    }
    Ok(())
}

fn exec_with(argv: &[OsString], kind: &str, network_off: bool) -> Error {
    let mut set = vec![(ENV_SANDBOX, kind)];
    if network_off {
        set.push((ENV_NETWORK_DISABLED, "1"));
    }
    exec::exec(argv, exec::child_env(&set, &[]))
}

fn print_dry_run(plan: &Plan, argv: &[OsString], artifacts: &dyn std::fmt::Display) {
    let cmd: Vec<_> = argv.iter().map(|a| a.to_string_lossy()).collect();
    print!("{plan}{artifacts}");
    println!("command: {}", cmd.join(" "));
}

/// Builds the sandbox for `plan` and execs `argv` in it. Returns only on
/// error, or with 0 after a dry run.
pub fn launch(plan: &Plan, argv: &[OsString], opts: &Launch) -> Result<i32> {
    if !plan.sandboxed {
        if opts.dry_run {
            print_dry_run(plan, argv, &"");
            return Ok(0);
        }
        chdir(&opts.chdir)?;
        return Err(exec_with(argv, "none", false));
    }
    launch_native(plan, argv, opts)
}

#[cfg(target_os = "linux")]
fn launch_native(plan: &Plan, argv: &[OsString], opts: &Launch) -> Result<i32> {
    use crate::linux;
    let kernel_abi = linux::host::landlock_abi();
    let abi = opts
        .landlock_abi
        .map_or(kernel_abi, |cap| cap.min(kernel_abi));
    let art = linux::compile(plan, abi)?;
    if opts.dry_run {
        print_dry_run(plan, argv, &art);
        return Ok(0);
    }
    if !art.gaps.is_empty() {
        if !opts.best_effort {
            let gaps: Vec<String> = art.gaps.iter().map(|g| g.detail.clone()).collect();
            return Err(Error::new(format!(
                "this host cannot enforce the policy: {}; pass --best-effort to run anyway with a warning per gap",
                gaps.join("; ")
            )));
        }
        for g in &art.gaps {
            eprintln!("cordon: warning: not enforced: {g}");
        }
    }
    let in_namespace = enter_namespace(&art.mounts, opts.best_effort)?;
    if in_namespace {
        // The cwd still points into the mount below the new ones; entering
        // it again by path picks up the writable (or read-only) bind on top.
        let dir = opts.chdir.clone().unwrap_or_else(|| plan.cwd.clone());
        chdir(&Some(dir))?;
    } else {
        chdir(&opts.chdir)?;
    }
    linux::apply(&art)?;
    let kind = if art.landlock.is_some() {
        "landlock"
    } else {
        "none"
    };
    Err(exec_with(argv, kind, !plan.network.enabled))
}

/// Enters the private mount namespace when the plan needs one. Without it:
/// refused (exit 125), or with `--best-effort` one warning per path left
/// unprotected. Returns whether the namespace was entered.
#[cfg(target_os = "linux")]
fn enter_namespace(mounts: &crate::linux::mounts::Plan, best_effort: bool) -> Result<bool> {
    use crate::linux::namespace;
    if !mounts.needs_namespace() {
        return Ok(false);
    }
    if best_effort {
        // Probe in a child first: a failure after unshare would leave this
        // process half set up, with no way back.
        if let Err(why) = namespace::probe(mounts) {
            for g in mounts.gaps_without_namespace() {
                eprintln!("cordon: warning: not enforced: {g} (no private mount namespace: {why})");
            }
            return Ok(false);
        }
    }
    namespace::enter(mounts).map_err(|e| {
        let gaps: Vec<String> = mounts
            .gaps_without_namespace()
            .iter()
            .map(|g| g.detail.clone())
            .collect();
        let way_out = if mounts.privileged {
            "; as root a profile with protected = [] still needs the namespace for the read-only world"
        } else {
            ", or use a profile with protected = []"
        };
        Error::new(format!(
            "no private mount namespace on this host ({e}), which this plan needs; without it {}; pass --best-effort to run anyway with a warning per unprotected path{way_out}",
            gaps.join("; ")
        ))
    })?;
    Ok(true)
}

#[cfg(not(target_os = "linux"))]
fn launch_native(_plan: &Plan, _argv: &[OsString], _opts: &Launch) -> Result<i32> {
    Err(Error::new(
        "this OS has no sandbox backend yet; cordon refuses to run unsandboxed",
    ))
}
