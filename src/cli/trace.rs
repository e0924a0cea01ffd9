//! `cordon trace` and `cordon learn`: run CMD under `run`'s sandbox as a
//! traced child, then report each distinct denial with the flag that
//! would allow it (trace) or write a profile granting them (learn).

use std::ffi::OsString;
use std::io::Write;
#[cfg(target_os = "linux")]
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use clap::Args;

use super::{LaunchArgs, PolicyArgs};
use crate::error::{Error, Result};

/// What `trace` and `learn` share with `run`.
#[derive(Args)]
pub struct TraceOpts {
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub launch: LaunchArgs,
    /// The command and its arguments (after `--`).
    #[arg(trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

#[derive(Args)]
pub struct TraceArgs {
    /// Write the report as JSON (the shape is in docs/trace.md).
    #[arg(long)]
    pub json: bool,
    /// Write the report to FILE instead of stderr.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub opts: TraceOpts,
}

#[derive(Args)]
pub struct LearnArgs {
    /// The profile to write (TOML); it extends the traced profile.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "PROFILE.toml",
        required = true
    )]
    pub output: PathBuf,
    #[command(flatten)]
    pub opts: TraceOpts,
}

pub const TRACE_ABOUT: &str = "Run CMD under the sandbox `run` would apply, follow it and its descendants, and report each denied operation with the flag that would allow it.";
pub const LEARN_ABOUT: &str = "Run CMD as `trace` does, then write a profile that extends the given one with grants for what was denied.";

/// Where `-o` goes.
enum Output {
    /// A pipe, terminal or other stream: written as is.
    Stream(std::fs::File),
    /// A regular file, or a new one: replaced at the end by a rename from a
    /// fresh file made beside it, through the directory opened now. The
    /// path may lie in a writable root, where the command could remove,
    /// refill or swap it while it runs (an adversarial pass made `learn`'s
    /// profile say `extends = "full-access"` that way); a file cordon makes
    /// after the command ended and renames into place is cordon's alone.
    Replace {
        dir: std::os::fd::OwnedFd,
        name: std::ffi::OsString,
    },
}

/// Opens `-o` before anything runs: a path that cannot be written is
/// refused with 125, and the command never runs for nothing. For a file,
/// one is made and removed in its directory now, which proves the
/// directory takes one (procfs and sysfs refuse).
fn open_output(path: &std::path::Path, flag: &str) -> Result<Output> {
    use nix::fcntl::{OFlag, open};
    use nix::sys::stat::Mode;
    let refuse = |e: std::io::Error| {
        Error::new(format!(
            "{flag} {}: cannot write it ({e}); name a writable file; nothing ran",
            path.display()
        ))
    };
    let errno = |e: nix::errno::Errno| refuse(std::io::Error::from_raw_os_error(e as i32));
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Err(errno(nix::errno::Errno::EISDIR)),
        Ok(m) if !m.is_file() => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(refuse)?;
            return Ok(Output::Stream(f));
        }
        _ => {}
    }
    let name = path
        .file_name()
        .ok_or_else(|| errno(nix::errno::Errno::EINVAL))?
        .to_os_string();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let dir = open(
        parent,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)?;
    let probe = fresh_name(&name);
    drop(create_at(&dir, &probe).map_err(errno)?);
    let _ = nix::unistd::unlinkat(
        &dir,
        probe.as_os_str(),
        nix::unistd::UnlinkatFlags::NoRemoveDir,
    );
    Ok(Output::Replace { dir, name })
}

/// `.NAME.cordon-PID-NANOS`: beside the output, never an existing file.
fn fresh_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut s = std::ffi::OsString::from(".");
    s.push(name);
    s.push(format!(".cordon-{}-{nanos}", std::process::id()));
    s
}

fn create_at(dir: &std::os::fd::OwnedFd, name: &std::ffi::OsStr) -> nix::Result<std::fs::File> {
    use nix::fcntl::{OFlag, openat};
    use nix::sys::stat::Mode;
    openat(
        dir,
        name,
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o666),
    )
    .map(std::fs::File::from)
}

fn write_output(out: Output, text: &str, path: &std::path::Path) -> Result<()> {
    let failed = |e: std::io::Error| Error::new(format!("writing {}: {e}", path.display()));
    match out {
        Output::Stream(mut f) => f.write_all(text.as_bytes()).map_err(failed),
        Output::Replace { dir, name } => {
            let tmp = fresh_name(&name);
            let io = |e: nix::errno::Errno| std::io::Error::from_raw_os_error(e as i32);
            let mut f = create_at(&dir, &tmp).map_err(|e| failed(io(e)))?;
            let done = f.write_all(text.as_bytes()).and_then(|_| {
                nix::fcntl::renameat(&dir, tmp.as_os_str(), &dir, name.as_os_str()).map_err(io)
            });
            if done.is_err() {
                let _ = nix::unistd::unlinkat(
                    &dir,
                    tmp.as_os_str(),
                    nix::unistd::UnlinkatFlags::NoRemoveDir,
                );
            }
            done.map_err(failed)
        }
    }
}

pub fn trace(args: TraceArgs) -> Result<i32> {
    let out = args
        .output
        .as_deref()
        .map(|p| open_output(p, "-o"))
        .transpose()?;
    let (report, end, _) = traced(&args.opts)?;
    let text = if args.json {
        let mut j = serde_json::to_string(&report)
            .map_err(|e| Error::new(format!("cannot print the report as JSON: {e}")))?;
        j.push('\n');
        j
    } else {
        report.text()
    };
    match (out, &args.output) {
        (Some(f), Some(path)) => write_output(f, &text, path)?,
        _ => {
            eprint!("{text}");
        }
    }
    Ok(finish(end))
}

pub fn learn(args: LearnArgs) -> Result<i32> {
    if args.opts.policy.policy_json.is_some() {
        return Err(Error::new(
            "learn writes a profile that extends a named one, and --policy-json has no name; use -p NAME|FILE",
        ));
    }
    let extends = match args.opts.policy.profile.as_deref() {
        None => crate::policy::DEFAULT_PROFILE.to_string(),
        Some(p) if crate::policy::builtin_text(p).is_some() => p.to_string(),
        Some(p) => std::fs::canonicalize(p)
            .map_err(|e| Error::new(format!("-p {p}: {e}")))?
            .to_string_lossy()
            .into_owned(),
    };
    let out = open_output(&args.output, "-o")?;
    let (report, end, protected) = traced(&args.opts)?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let profile = crate::trace::learn::profile(&report, &extends, home.as_deref(), &protected);
    write_output(out, &profile, &args.output)?;
    eprint!("{}", report.text());
    eprintln!(
        "cordon learn: wrote {} (extends {extends}); run it with `cordon run -p {} -- ...`",
        args.output.display(),
        args.output.display()
    );
    Ok(finish(end))
}

/// How the command ended, for cordon's own exit.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
enum Ended {
    Code(i32),
    Signal(i32),
}

#[cfg(target_os = "linux")]
fn traced(o: &TraceOpts) -> Result<(crate::trace::Report, Ended, Vec<String>)> {
    use crate::sandbox::{self, Launch};
    use crate::view::{Platform, platform_view};
    if o.command.is_empty() {
        return Err(Error::new(
            "no command given; put it after `--`, e.g. `cordon trace -- make`",
        ));
    }
    let stdio = o.launch.stdio()?;
    let (mut plan, bounded) = o.policy.plan(super::SkillChoice::Matched {
        roots: &[],
        command: &o.command,
    })?;
    plan.kill_leftovers = !o.launch.keep_leftovers;
    // With domains, the proxy's refusals are denials too: it appends them
    // to an unnamed file this process holds, reopened by the child through
    // /proc/self/fd before the proxy forks (docs/network.md).
    let proxy_log = if plan.network.proxied() && !plan.network.enabled {
        Some(proxy_log_file()?)
    } else {
        None
    };
    let outcome = sandbox::trace(
        &plan,
        &o.command,
        &Launch {
            dry_run: false,
            best_effort: o.launch.best_effort,
            landlock_abi: o.launch.abi.landlock_abi,
            chdir: o.policy.cwd.is_some().then(|| plan.cwd.clone()),
            bounded,
            stdio,
            proxy_log: proxy_log
                .as_ref()
                .map(|f| PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()))),
        },
    )?;
    // Attribution reads the same compiled view `explain` prints; a run
    // with no failure needs none.
    let view = match outcome.seen.is_empty() {
        true => None,
        false => Some(platform_view(
            &plan,
            Platform::Linux,
            o.launch.abi.landlock_abi,
        )?),
    };
    let (status, end) = ended(outcome.end);
    let mut report = crate::trace::report(
        &plan,
        view.as_ref(),
        &o.command,
        &outcome.seen,
        status,
        outcome.outlived,
        outcome.dropped,
    );
    if let Some(f) = proxy_log {
        add_proxy_denials(&mut report, f);
    }
    Ok((report, end, plan.protected_names.clone()))
}

/// The traced command's end, as the report states it and as cordon exits.
#[cfg(target_os = "linux")]
fn ended(end: crate::linux::trace::End) -> (crate::trace::Status, Ended) {
    match end {
        crate::linux::trace::End::Code(c) => (
            crate::trace::Status {
                code: Some(c),
                signal: None,
            },
            Ended::Code(c),
        ),
        crate::linux::trace::End::Signal(s) => (
            crate::trace::Status {
                code: None,
                signal: Some(s),
            },
            Ended::Signal(s),
        ),
    }
}

/// The proxy's refusals (one JSON line each, in the file it appended
/// to) counted in with the sandbox's denials.
#[cfg(target_os = "linux")]
fn add_proxy_denials(report: &mut crate::trace::Report, mut f: std::fs::File) {
    let mut text = String::new();
    use std::io::{Read, Seek};
    let _ = f.rewind().and_then(|_| f.read_to_string(&mut text));
    for d in text.lines().filter_map(crate::trace::proxy_denial) {
        match report
            .denials
            .iter_mut()
            .find(|x| x.op == d.op && x.target == d.target)
        {
            Some(x) => x.count += 1,
            None => report.denials.push(d),
        }
    }
}

/// An unnamed, private file for the proxy's refusals (`O_TMPFILE` in
/// `$TMPDIR` or `/tmp`), gone when cordon exits.
#[cfg(target_os = "linux")]
fn proxy_log_file() -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
        .open(&dir)
        .map_err(|e| {
            Error::new(format!(
                "cannot make the file for the proxy's refusals in {} ({e}); set TMPDIR to a writable directory; nothing ran",
                dir.display()
            ))
        })
}

#[cfg(not(target_os = "linux"))]
fn traced(_: &TraceOpts) -> Result<(crate::trace::Report, Ended, Vec<String>)> {
    Err(Error::new(
        "cordon trace needs Linux (ptrace); on macOS, Seatbelt logs denials: `log stream --predicate 'sender == \"Sandbox\"'`",
    ))
}

/// cordon's exit: the command's status; a command killed by a signal
/// kills cordon with the same signal (without a core of cordon's own), so
/// the caller sees what it would see under `run`.
fn finish(end: Ended) -> i32 {
    match end {
        Ended::Code(c) => c,
        Ended::Signal(s) => {
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            // SAFETY: plain libc calls; this process is about to end.
            unsafe {
                let none = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::setrlimit(libc::RLIMIT_CORE, &none);
                libc::signal(s, libc::SIG_DFL);
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, s);
                libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
                libc::raise(s);
            }
            128 + s
        }
    }
}
