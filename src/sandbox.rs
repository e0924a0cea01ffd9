//! The apply edge: given a plan, compile for this OS, report gaps, apply and
//! exec. Platform `cfg`s live here and in the backends' apply modules only.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::exec;
use crate::plan::Plan;
use crate::stdio::{self, Stdio};
use crate::view;

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
    /// Descriptors kept past exec (`--keep-fd`).
    pub stdio: Stdio,
    /// Where the domain proxy appends its refusals as JSON lines
    /// (`--proxy-log`; docs/network.md).
    pub proxy_log: Option<PathBuf>,
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

/// The variables cordon sets for the command (contract §4); `explain`
/// prints the same list.
pub fn sandbox_vars(kind: &'static str, network_off: bool) -> Vec<(&'static str, &'static str)> {
    let mut set = vec![(ENV_SANDBOX, kind)];
    if network_off {
        set.push((ENV_NETWORK_DISABLED, "1"));
    }
    set
}

/// Execs `argv` with the plan's environment plus cordon's own variables;
/// `outside` is where PATH led before the sandbox (`exec::locate`).
fn exec_with(
    plan: &Plan,
    argv: &[OsString],
    kind: &'static str,
    network_off: bool,
    outside: Option<&[u8]>,
) -> Error {
    exec_with_proxy(plan, argv, kind, network_off, outside, None)
}

/// [`exec_with`], plus the proxy variables when cordon runs the domain
/// proxy on `proxy`: set last, over whatever the `[env]` policy kept.
fn exec_with_proxy(
    plan: &Plan,
    argv: &[OsString],
    kind: &'static str,
    network_off: bool,
    outside: Option<&[u8]>,
    proxy: Option<u16>,
) -> Error {
    let mut set = sandbox_vars(kind, network_off);
    let proxy_vars = proxy.map(crate::proxy::env_vars).unwrap_or_default();
    set.extend(proxy_vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let env = exec::child_env(&plan.env.vars, &set);
    exec::exec(argv, env, outside)
}

/// A bounded (`permissions`) execution runs with its whole sandbox or not at
/// all: any gap refuses, whatever `--best-effort` says.
fn refuse_bounded_gaps(gaps: &[crate::linux::Gap]) -> Result<()> {
    use crate::linux::launch::summarize;
    if gaps.is_empty() {
        return Ok(());
    }
    let gaps: Vec<String> = gaps.iter().map(|g| g.detail.clone()).collect();
    Err(Error::new(format!(
        "this host cannot enforce the approved sandbox: {}; a permissions execution runs bounded or not at all, so nothing ran",
        summarize(&gaps)
    )))
}

/// Builds the sandbox for `plan` and execs `argv` in it. Returns only on
/// error, or with 0 after a dry run.
pub fn launch(plan: &Plan, argv: &[OsString], opts: &Launch) -> Result<i32> {
    if opts.bounded && !plan.sandboxed {
        return Err(Error::new(
            "a bounded execution never runs without a sandbox, and this plan has none; nothing ran",
        ));
    }
    if opts.dry_run {
        let view = view::platform_view(plan, view::Platform::host(), opts.landlock_abi)?;
        if opts.bounded {
            refuse_bounded_gaps(view.gaps())?;
        }
        print!("{}", view.dry_run_text(plan, &opts.stdio.describe(), argv));
        return Ok(0);
    }
    // Every run, sandboxed or not (contract §4).
    stdio::prepare(&opts.stdio)?;
    if !plan.sandboxed {
        chdir(&opts.chdir)?;
        return Err(exec_with(plan, argv, "none", false, None));
    }
    launch_native(plan, argv, opts)
}

#[cfg(target_os = "linux")]
fn launch_native(plan: &Plan, argv: &[OsString], opts: &Launch) -> Result<i32> {
    use crate::linux::{self, launch::summarize};
    let art = linux::compile(plan, linux::host_abi(opts.landlock_abi))?;
    if opts.bounded {
        refuse_bounded_gaps(&art.gaps)?;
    }
    if !art.gaps.is_empty() {
        if !opts.best_effort {
            let gaps: Vec<String> = art.gaps.iter().map(|g| g.detail.clone()).collect();
            return Err(Error::new(format!(
                "this host cannot enforce the policy: {}; pass --best-effort to run anyway with a warning per gap",
                summarize(&gaps)
            )));
        }
        for g in &art.gaps {
            eprintln!("cordon: warning: not enforced: {g}");
        }
    }
    // A bounded execution never accepts a missing namespace.
    let best_effort = opts.best_effort && !opts.bounded;
    // Where PATH leads before the sandbox: a few access(2) calls, so that a
    // program the sandbox hides is not replaced silently by another.
    let outside = argv.first().and_then(|p| exec::locate(p, &plan.env.vars));
    let proxy = linux::launch::enter(
        plan,
        &art,
        best_effort,
        opts.chdir.as_deref(),
        opts.proxy_log.as_deref(),
    )?;
    Err(exec_with_proxy(
        plan,
        argv,
        art.sandbox_kind(),
        plan.network.fully_off(),
        outside.as_deref(),
        proxy,
    ))
}

#[cfg(target_os = "macos")]
fn launch_native(plan: &Plan, argv: &[OsString], opts: &Launch) -> Result<i32> {
    use crate::seatbelt;
    // Checked first: a profile that cannot be made starts no proxy.
    seatbelt::compile(plan)?;
    if seatbelt::apply::already_sandboxed() {
        return Err(Error::new(
            "cordon is already running inside a Seatbelt sandbox, and Seatbelt profiles cannot nest; run cordon outside the sandbox (or run the command without cordon: the outer sandbox applies)",
        ));
    }
    chdir(&opts.chdir)?;
    // sandbox-exec would report a missing command with its own status.
    let program = argv.first().map(OsString::as_os_str).unwrap_or_default();
    exec::check_command(program, &exec::child_env(&plan.env.vars, &[]))?;
    // Domains: the proxy on the host's loopback, outside the profile,
    // which then allows TCP to its port only.
    let proxied = plan.network.proxied() && !plan.network.enabled;
    let (port, middle) = if proxied {
        let log = match &opts.proxy_log {
            Some(p) => Some(open_proxy_log(p)?),
            None => None,
        };
        let (port, middle) = seatbelt::proxy::start(&plan.network.domains, log)
            .map_err(|e| Error::new(format!("cannot start the domain proxy: {e}; nothing ran")))?;
        (Some(port), Some(middle))
    } else {
        (None, None)
    };
    let profile = seatbelt::compile_with(plan, port)?;
    let full = seatbelt::argv(&profile, argv);
    drop(middle);
    let e = exec_with_proxy(
        plan,
        &full,
        "seatbelt",
        plan.network.fully_off(),
        None,
        port,
    );
    // Only sandbox-exec itself failing gets here: that is cordon's failure.
    Err(Error::new(format!(
        "{}; Seatbelt needs {} (part of macOS)",
        e.message,
        seatbelt::SANDBOX_EXEC
    )))
}

/// The proxy's refusal log: appended to, private to the caller.
#[cfg(target_os = "macos")]
fn open_proxy_log(p: &std::path::Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(p)
        .map_err(|e| {
            Error::new(format!(
                "--proxy-log {}: {e}; name a file cordon can append to",
                p.display()
            ))
        })
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn launch_native(_plan: &Plan, _argv: &[OsString], _opts: &Launch) -> Result<i32> {
    Err(Error::new(
        "this OS has no sandbox backend yet; cordon refuses to run unsandboxed",
    ))
}
