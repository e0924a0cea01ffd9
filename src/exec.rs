//! exec in place, with `execvp`'s PATH search and the contract's exit codes
//! (126 not executable, 127 not found). Returns only on failure.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use crate::error::{EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, Error};

pub const ENV_SANDBOX: &str = "CORDON_SANDBOX";
pub const ENV_NETWORK_DISABLED: &str = "CORDON_SANDBOX_NETWORK_DISABLED";

/// The variables cordon sets for the command (contract §4); `explain`
/// prints the same list.
pub fn sandbox_vars(kind: &'static str, network_off: bool) -> Vec<(&'static str, &'static str)> {
    let mut set = vec![(ENV_SANDBOX, kind)];
    if network_off {
        set.push((ENV_NETWORK_DISABLED, "1"));
    }
    set
}

/// The command's envp: `base` (the plan's environment, `plan/env.rs`) with
/// cordon's own variables `set` last, replacing any of the same name.
pub fn child_env(base: &[(OsString, OsString)], set: &[(&str, &str)]) -> Vec<CString> {
    let mut out: Vec<CString> = base
        .iter()
        .filter(|(k, _)| !set.iter().any(|(s, _)| s.as_bytes() == k.as_bytes()))
        .filter_map(|(k, v)| {
            let mut kv = Vec::with_capacity(k.len() + v.len() + 1);
            kv.extend_from_slice(k.as_bytes());
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
    for (k, v) in set {
        if let Ok(c) = CString::new(format!("{k}={v}")) {
            out.push(c);
        }
    }
    out
}

fn cstring(arg: &OsStr) -> Result<CString, Error> {
    CString::new(arg.as_bytes()).map_err(|_| {
        Error::new(format!(
            "argument {:?} contains a NUL byte; remove it",
            arg.to_string_lossy()
        ))
    })
}

fn ptrs(v: &[CString]) -> Vec<*const libc::c_char> {
    v.iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Replaces this process with `argv[0]`, searching `PATH` like `execvp`.
/// `outside`: where the search found the program before the sandbox was
/// applied; if the sandbox hides that file, the search goes on as execvp's
/// does, with a warning, since a different program may run.
pub fn exec(argv: &[OsString], env: Vec<CString>, outside: Option<&[u8]>) -> Error {
    let Some(program) = argv.first() else {
        return Error::new("no command given; put it after `--`");
    };
    let args: Vec<CString> = match argv.iter().map(|a| cstring(a)).collect() {
        Ok(a) => a,
        Err(e) => return e,
    };
    let argp = ptrs(&args);
    let envp = ptrs(&env);
    let name = program.to_string_lossy();
    crate::fdlimit::restore();
    let try_exec = |path: &CString| -> i32 {
        // SAFETY: path, argv and envp are NUL-terminated arrays of C strings
        // that outlive the call.
        unsafe { libc::execve(path.as_ptr(), argp.as_ptr(), envp.as_ptr()) };
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        if errno != libc::ENOEXEC {
            return errno;
        }
        // An executable file the kernel has no loader for (a script
        // without `#!`): `/bin/sh FILE ARGS...`, as execvp(3) does.
        let mut sh_args: Vec<*const libc::c_char> = vec![c"sh".as_ptr(), path.as_ptr()];
        sh_args.extend(argp.iter().skip(1));
        // SAFETY: as above; sh_args ends with argp's NULL.
        unsafe { libc::execve(c"/bin/sh".as_ptr(), sh_args.as_ptr(), envp.as_ptr()) };
        libc::ENOEXEC
    };

    if program.as_bytes().contains(&b'/') {
        let errno = try_exec(&args[0]);
        return exec_error(&name, errno);
    }
    let mut seen_eacces = false;
    for full in on_path(program.as_bytes(), &path_var(&env)) {
        let Ok(full) = CString::new(full) else {
            continue;
        };
        match try_exec(&full) {
            libc::EACCES => {
                // execvp goes on to the next entry; a different program may
                // then run: say so when it is the sandbox that refused.
                if outside == Some(full.as_bytes()) {
                    hidden_warning(&full, &name);
                }
                seen_eacces = true
            }
            libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ELOOP | libc::ENAMETOOLONG => {
                if outside == Some(full.as_bytes()) {
                    hidden_warning(&full, &name);
                }
            }
            errno => return exec_error(&name, errno),
        }
    }
    exec_error(
        &name,
        if seen_eacces {
            libc::EACCES
        } else {
            libc::ENOENT
        },
    )
}

/// Where `exec` would find `program`, without running it: for launchers that
/// exec a wrapper (`sandbox-exec`) which then execs the command and would
/// report "not found" with its own exit status instead of 126/127.
pub fn check_command(program: &OsStr, env: &[CString]) -> Result<(), Error> {
    let name = program.to_string_lossy();
    let runnable = |path: &[u8]| -> i32 {
        let Ok(c) = CString::new(path) else {
            return libc::ENOENT;
        };
        match std::fs::metadata(OsStr::from_bytes(path)) {
            Err(e) => e.raw_os_error().unwrap_or(libc::ENOENT),
            Ok(m) if m.is_dir() => libc::EACCES,
            // SAFETY: access(2) on a NUL-terminated path.
            Ok(_) if unsafe { libc::access(c.as_ptr(), libc::X_OK) } != 0 => libc::EACCES,
            Ok(_) => 0,
        }
    };
    if program.as_bytes().contains(&b'/') {
        return match runnable(program.as_bytes()) {
            0 => Ok(()),
            errno => Err(exec_error(&name, errno)),
        };
    }
    let mut seen_eacces = false;
    for full in on_path(program.as_bytes(), &path_var(env)) {
        match runnable(&full) {
            0 => return Ok(()),
            libc::EACCES => seen_eacces = true,
            _ => {}
        }
    }
    Err(exec_error(
        &name,
        if seen_eacces {
            libc::EACCES
        } else {
            libc::ENOENT
        },
    ))
}

/// The program found on PATH before the sandbox was applied, and hidden or
/// refused by it now.
fn hidden_warning(full: &CString, name: &str) {
    let file = full.to_string_lossy();
    eprintln!(
        "cordon: warning: skipped {file} looking for {name}: the sandbox hides it (`cordon explain {file}` says why and names the flag that allows it); going on along PATH"
    );
}

/// The first file on `PATH` (from `env`) named `program` that this
/// process may execute, as the search would find it now; `None` for a
/// program given with a `/`.
pub fn locate(program: &OsStr, vars: &[(OsString, OsString)]) -> Option<Vec<u8>> {
    if program.as_bytes().contains(&b'/') {
        return None;
    }
    let path = vars
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or(DEFAULT_PATH, |(_, v)| v.as_bytes());
    on_path(program.as_bytes(), path).find(|full| {
        CString::new(full.as_slice()).is_ok_and(|c| {
            // SAFETY: access(2) on a NUL-terminated path.
            unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
        })
    })
}

/// execvp's search when `PATH` is unset.
const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/usr/bin:/bin";

/// The files execvp tries for `program`, in `path` order (an empty entry
/// is the current directory).
fn on_path<'a>(program: &'a [u8], path: &'a [u8]) -> impl Iterator<Item = Vec<u8>> + 'a {
    path.split(|&b| b == b':').map(move |dir| {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let mut full = dir.to_vec();
        full.push(b'/');
        full.extend_from_slice(program);
        full
    })
}

/// `PATH` from `env`, or execvp's default.
fn path_var(env: &[CString]) -> Vec<u8> {
    env.iter()
        .find_map(|kv| kv.as_bytes().strip_prefix(b"PATH=").map(<[u8]>::to_vec))
        .unwrap_or_else(|| DEFAULT_PATH.to_vec())
}

fn exec_error(name: &str, errno: i32) -> Error {
    let err = std::io::Error::from_raw_os_error(errno);
    match errno {
        libc::ENOENT => Error::with_exit(
            format!("{name}: command not found; check the name and PATH"),
            EXIT_NOT_FOUND,
        ),
        libc::EACCES | libc::EPERM | libc::ENOEXEC | libc::EISDIR | libc::ETXTBSY => {
            Error::with_exit(
                format!(
                    "{name}: cannot execute: {err} (`cordon explain PATH` shows the sandbox's verdict on the file)"
                ),
                EXIT_NOT_EXECUTABLE,
            )
        }
        _ => Error::with_exit(
            format!("{name}: cannot execute: {err}"),
            EXIT_NOT_EXECUTABLE,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(path: &str) -> Vec<CString> {
        vec![CString::new(format!("PATH={path}")).unwrap()]
    }

    #[test]
    fn check_command_reports_126_and_127_like_exec() {
        let status = |prog: &str, path: &str| {
            check_command(OsStr::new(prog), &env(path)).map_err(|e| e.exit)
        };
        assert_eq!(status("sh", "/nonexistent:/bin:/usr/bin"), Ok(()));
        assert_eq!(status("/bin/sh", ""), Ok(()));
        assert_eq!(status("no-such-command-xyz", "/bin:/usr/bin"), Err(127));
        assert_eq!(status("/no/such/file", "/bin"), Err(127));
        assert_eq!(status("/etc/passwd", "/bin"), Err(126));
        assert_eq!(status("/", "/bin"), Err(126));
        // Found only as a non-executable file on PATH: 126, as execvp says.
        assert_eq!(status("passwd", "/etc"), Err(126));
    }
}
