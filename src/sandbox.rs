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
    /// Bounded (an approved `permissions` rerun): run with the whole sandbox
    /// or not at all. Gaps refuse even with `best_effort`, dry run included,
    /// and a plan without a sandbox is refused.
    pub bounded: bool,
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
    use std::io::Write;
    let cmd: Vec<_> = argv.iter().map(|a| a.to_string_lossy()).collect();
    // One write, not one per line: stdout is line-buffered, and a plan with
    // thousands of roots would otherwise cost thousands of syscalls.
    let text = format!("{plan}{artifacts}command: {}\n", cmd.join(" "));
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Builds the sandbox for `plan` and execs `argv` in it. Returns only on
/// error, or with 0 after a dry run.
pub fn launch(plan: &Plan, argv: &[OsString], opts: &Launch) -> Result<i32> {
    if !plan.sandboxed {
        if opts.bounded {
            return Err(Error::new(
                "a bounded execution never runs without a sandbox, and this plan has none; nothing ran",
            ));
        }
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
    if opts.bounded && !art.gaps.is_empty() {
        let gaps: Vec<String> = art.gaps.iter().map(|g| g.detail.clone()).collect();
        return Err(Error::new(format!(
            "this host cannot enforce the approved sandbox: {}; a permissions execution runs bounded or not at all, so nothing ran",
            gaps.join("; ")
        )));
    }
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
    chdir(&opts.chdir)?;
    linux::apply(&art)?;
    let kind = if art.landlock.is_some() {
        "landlock"
    } else {
        "none"
    };
    Err(exec_with(argv, kind, !plan.network.enabled))
}

#[cfg(target_os = "macos")]
fn launch_native(plan: &Plan, argv: &[OsString], opts: &Launch) -> Result<i32> {
    use crate::seatbelt;
    let profile = seatbelt::compile(plan)?;
    if opts.dry_run {
        print_dry_run(plan, argv, &profile);
        return Ok(0);
    }
    if seatbelt::apply::already_sandboxed() {
        return Err(Error::new(
            "cordon is already running inside a Seatbelt sandbox, and Seatbelt profiles cannot nest; run cordon outside the sandbox (or run the command without cordon: the outer sandbox applies)",
        ));
    }
    chdir(&opts.chdir)?;
    // sandbox-exec would report a missing command with its own status.
    let program = argv.first().map(OsString::as_os_str).unwrap_or_default();
    exec::check_command(program, &exec::child_env(&[], &[]))?;
    let full = seatbelt::argv(&profile, argv);
    let e = exec_with(&full, "seatbelt", !plan.network.enabled);
    // Only sandbox-exec itself failing gets here: that is cordon's failure.
    Err(Error::new(format!(
        "{}; Seatbelt needs {} (part of macOS)",
        e.message,
        seatbelt::SANDBOX_EXEC
    )))
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn launch_native(_plan: &Plan, _argv: &[OsString], _opts: &Launch) -> Result<i32> {
    Err(Error::new(
        "this OS has no sandbox backend yet; cordon refuses to run unsandboxed",
    ))
}
