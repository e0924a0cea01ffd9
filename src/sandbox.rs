//! The apply edge: given a plan, compile for this OS, report gaps, apply and
//! exec. Platform `cfg`s live here and in the backends' apply modules only.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::enforcement::Gap;
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

fn chdir(dir: &Option<PathBuf>) -> Result<()> {
    if let Some(d) = dir {
        std::env::set_current_dir(d)
            .map_err(|e| Error::new(format!("cannot enter --cwd {}: {e}", d.display())))?;
    }
    Ok(())
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
    let mut set = exec::sandbox_vars(kind, network_off);
    let proxy_vars = proxy.map(crate::proxy::env_vars).unwrap_or_default();
    set.extend(proxy_vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let env = exec::child_env(&plan.env.vars, &set);
    exec::exec(argv, env, outside)
}

/// A bounded (`permissions`) execution runs with its whole sandbox or not at
/// all: any gap refuses, whatever `--best-effort` says.
fn refuse_bounded_gaps(gaps: &[Gap]) -> Result<()> {
    use crate::linux::summarize;
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

/// The artifacts for `plan` on this host, with its gaps refused or
/// warned about as the launch options say. `run` and `trace` share it.
#[cfg(target_os = "linux")]
fn compile_checked(plan: &Plan, opts: &Launch) -> Result<crate::linux::Artifacts> {
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
    Ok(art)
}

#[cfg(target_os = "linux")]
fn launch_native(plan: &Plan, argv: &[OsString], opts: &Launch) -> Result<i32> {
    use crate::linux;
    let art = compile_checked(plan, opts)?;
    // A bounded execution never accepts a missing namespace.
    let best_effort = opts.best_effort && !opts.bounded;
    // Where PATH leads before the sandbox: a few access(2) calls, so that a
    // program the sandbox hides is not replaced silently by another.
    let outside = argv.first().and_then(|p| exec::locate(p, &plan.env.vars));
    let proxy = linux::launch::enter(
        plan,
        &art,
        best_effort,
        opts.stdio.keeps_terminal,
        opts.chdir.as_deref(),
        opts.proxy_log.as_deref(),
    )?;
    let e = exec_with_proxy(
        plan,
        argv,
        art.sandbox_kind(),
        plan.network.fully_off(),
        outside.as_deref(),
        proxy,
    );
    Err(exec_fix(plan, &art, argv, outside.as_deref(), e))
}

/// A command the sandbox would not execute: the error names the flag that
/// allows it, from the same verdict `explain` gives. Only on this failure
/// path; the run itself never computes a verdict.
#[cfg(target_os = "linux")]
fn exec_fix(
    plan: &Plan,
    art: &crate::linux::Artifacts,
    argv: &[OsString],
    outside: Option<&[u8]>,
    e: Error,
) -> Error {
    use std::os::unix::ffi::OsStrExt;
    if e.exit != crate::error::EXIT_NOT_EXECUTABLE {
        return e;
    }
    let file = match (outside, argv.first()) {
        (Some(found), _) => std::path::PathBuf::from(std::ffi::OsStr::from_bytes(found)),
        (None, Some(p)) if p.as_bytes().contains(&b'/') => std::path::PathBuf::from(p),
        _ => return e,
    };
    let l = crate::plan::lookup(&file, &plan.cwd);
    let mut v = crate::linux::verdict(plan, Some(art), &l, true);
    crate::plan::fix::annotate(plan, &mut v);
    match v.execute.fix.as_ref().or(v.read.fix.as_ref()) {
        Some(fix) => Error::with_exit(
            format!(
                "{}; the sandbox denies it ({}): {fix} would allow it",
                e.message, v.execute.rule
            ),
            e.exit,
        ),
        None => e,
    }
}

/// `cordon trace`: runs `argv` as a child under exactly the sandbox
/// `launch` applies (same plan, same compile, same `enter`), with the two
/// differences the tracer needs (`linux/trace.rs`): the sandbox filter
/// traps instead of answering with an errno, and a trace filter is added
/// last. This process stays outside as the tracer; returns what it saw.
#[cfg(target_os = "linux")]
pub fn trace(
    plan: &Plan,
    argv: &[OsString],
    opts: &Launch,
) -> Result<crate::linux::trace::Outcome> {
    use std::io::{Read, Write};

    use crate::linux::trace;
    if !plan.sandboxed {
        return Err(Error::new(
            "this policy runs without a sandbox (full access), so nothing can be denied; trace a sandboxed profile",
        ));
    }
    let mut art = compile_checked(plan, opts)?;
    art.seccomp.bpf = trace::trapping(&art.seccomp.bpf);
    let best_effort = opts.best_effort && !opts.bounded;
    let outside = argv.first().and_then(|p| exec::locate(p, &plan.env.vars));
    let (ready_r, ready_w) = std::io::pipe()
        .map_err(|e| Error::new(format!("cannot make a pipe for the tracer: {e}")))?;
    let (go_r, go_w) = std::io::pipe()
        .map_err(|e| Error::new(format!("cannot make a pipe for the tracer: {e}")))?;
    // SAFETY: cordon is single-threaded here; the child only runs cordon's
    // own set-up code and then execs or exits.
    match unsafe { nix::unistd::fork() } {
        Err(e) => Err(Error::new(format!("cannot fork the command: {e}"))),
        Ok(nix::unistd::ForkResult::Child) => {
            drop(ready_r);
            drop(go_w);
            let e = traced_child(
                plan,
                &art,
                argv,
                opts,
                best_effort,
                outside.as_deref(),
                ready_w,
                go_r,
            );
            eprintln!("cordon: {}", e.message);
            let _ = std::io::stderr().flush();
            // SAFETY: leaves the forked child without running the parent's
            // exit handlers.
            unsafe { libc::_exit(e.exit) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            drop(ready_w);
            drop(go_r);
            let mut ready_r = ready_r;
            let mut go_w = go_w;
            let mut byte = [0u8; 1];
            // The child failing before the sandbox is up closes the pipe:
            // it has said why, and its status is the answer.
            if ready_r.read_exact(&mut byte).is_ok() {
                if let Err(e) = nix::sys::ptrace::seize(child, trace::options()) {
                    let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                    let _ = nix::sys::wait::waitpid(child, None);
                    return Err(Error::new(format!(
                        "cannot trace the command (ptrace: {e}); this host restricts ptrace (kernel.yama.ptrace_scope, or a seccomp/LSM policy around cordon); nothing ran"
                    )));
                }
                let _ = go_w.write_all(b"1");
            }
            drop(go_w);
            forward_signals(child);
            Ok(trace::follow(child))
        }
    }
}

/// The traced child: what `launch` does, then the handshake with the
/// tracer, the trace filter, exec. Returns only on failure.
#[cfg(target_os = "linux")]
#[allow(clippy::too_many_arguments)]
fn traced_child(
    plan: &Plan,
    art: &crate::linux::Artifacts,
    argv: &[OsString],
    opts: &Launch,
    best_effort: bool,
    outside: Option<&[u8]>,
    mut ready: std::io::PipeWriter,
    mut go: std::io::PipeReader,
) -> Error {
    use std::io::{Read, Write};
    if let Err(e) = stdio::prepare(&opts.stdio) {
        return e;
    }
    let proxy = match crate::linux::launch::enter(
        plan,
        art,
        best_effort,
        opts.stdio.keeps_terminal,
        opts.chdir.as_deref(),
        opts.proxy_log.as_deref(),
    ) {
        Ok(proxy) => proxy,
        Err(e) => return e,
    };
    let mut byte = [0u8; 1];
    if ready.write_all(b"1").is_err() || go.read_exact(&mut byte).is_err() {
        // The tracer said why (or died); nothing ran.
        // SAFETY: as in the caller.
        unsafe { libc::_exit(crate::error::EXIT_CORDON) }
    }
    drop(ready);
    drop(go);
    // Reads can be denied when the read scope is restricted, or when
    // Landlock rather than a mount may hide the deny entries (no namespace
    // under --best-effort): then every open stops.
    let reads_denied = matches!(plan.read, crate::plan::ReadScope::Restricted { .. })
        || (!plan.deny.denied.is_empty() && best_effort);
    if let Err(e) = crate::linux::trace::install_filter(reads_denied) {
        return Error::new(format!(
            "installing the trace filter failed: {e}; nothing ran"
        ));
    }
    exec_with_proxy(
        plan,
        argv,
        art.sandbox_kind(),
        plan.network.fully_off(),
        outside,
        proxy,
    )
}

/// The command's pid, for the signal handler.
#[cfg(target_os = "linux")]
static TRACED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Signals sent to cordon (by `kill`, a supervisor) reach the command, as
/// they would reach it under `run`, which execs. Those from the terminal
/// (^C, ^\\) already reach it, in the same process group: not sent twice.
#[cfg(target_os = "linux")]
fn forward_signals(child: nix::unistd::Pid) {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    extern "C" fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let code = unsafe { (*info).si_code };
        // SI_KERNEL and the terminal's codes are > 0; a process's kill or
        // sigqueue is <= 0.
        if code > 0 {
            return;
        }
        let pid = TRACED.load(std::sync::atomic::Ordering::Relaxed);
        if pid > 0 {
            // SAFETY: kill is async-signal-safe.
            unsafe { libc::kill(pid, sig) };
        }
    }
    TRACED.store(child.as_raw(), std::sync::atomic::Ordering::Relaxed);
    let action = SigAction::new(
        SigHandler::SigAction(forward),
        SaFlags::SA_RESTART | SaFlags::SA_SIGINFO,
        SigSet::empty(),
    );
    for sig in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGHUP,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
    ] {
        // SAFETY: the handler only reads an atomic and calls kill.
        let _ = unsafe { sigaction(sig, &action) };
    }
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
            Some(p) => Some(crate::proxy::open_log(p)?),
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

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn launch_native(_plan: &Plan, _argv: &[OsString], _opts: &Launch) -> Result<i32> {
    Err(Error::new(
        "this OS has no sandbox backend yet; cordon refuses to run unsandboxed",
    ))
}
