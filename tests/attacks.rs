//! The escape battery (issue: hardening). Each attack is tried for real
//! under `cordon run` with the default profile (workspace-write, network
//! off), as root and as an unprivileged user. Each test asserts the exact
//! errno, that nothing changed outside the sandbox, and, where the attack
//! means anything without cordon, a control run that succeeds. SECURITY.md
//! lists every test here with the mechanism that stops the attack.

// Linux only: the battery drives Landlock, seccomp and the mount namespace.
#![cfg(target_os = "linux")]

mod support;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use support::*;

// ---------------------------------------------------------------- helpers

/// Everything about a tree that an attack could change: type, mode, owner,
/// size, mtime and content (or link target) of every entry.
fn snapshot(roots: &[PathBuf]) -> BTreeMap<PathBuf, String> {
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(m) = std::fs::symlink_metadata(p) else {
            return;
        };
        let ft = m.file_type();
        let what = if ft.is_symlink() {
            format!("link {:?}", std::fs::read_link(p).ok())
        } else if ft.is_file() {
            format!("file {:?}", std::fs::read(p).ok())
        } else if ft.is_dir() {
            "dir".to_string()
        } else {
            "special".to_string()
        };
        let line = format!(
            "{what} mode={:o} owner={}:{} size={} mtime={}.{} xattrs={:?}",
            m.mode(),
            m.uid(),
            m.gid(),
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            xattr_names(p),
        );
        out.insert(p.to_path_buf(), line);
        if ft.is_dir()
            && let Ok(entries) = std::fs::read_dir(p)
        {
            for e in entries.flatten() {
                walk(&e.path(), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    for r in roots {
        walk(r, &mut out);
    }
    out
}

/// The extended attribute names of `p` (not following symlinks).
fn xattr_names(p: &Path) -> Vec<u8> {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: llistxattr on a NUL-terminated path into a buffer of that size.
    let n = unsafe { libc::llistxattr(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    buf.truncate(n.max(0) as usize);
    buf
}

/// The parts of a workspace outside the sandbox's writable roots.
fn outside_of(ws: &Ws) -> Vec<PathBuf> {
    vec![ws.join("outside"), ws.join("home")]
}

#[track_caller]
fn assert_unchanged(before: &BTreeMap<PathBuf, String>, roots: &[PathBuf], what: &str) {
    let after = snapshot(roots);
    if &after != before {
        let mut diff = Vec::new();
        for (k, v) in before {
            match after.get(k) {
                None => diff.push(format!("removed {}", k.display())),
                Some(w) if w != v => diff.push(format!("changed {}: {v} -> {w}", k.display())),
                _ => {}
            }
        }
        for k in after.keys().filter(|k| !before.contains_key(*k)) {
            diff.push(format!("added {}", k.display()));
        }
        panic!("{what}: the attack changed things outside the sandbox:\n{diff:#?}");
    }
}

/// Every probe JSON line of a run (a shell running several probes, or a
/// terminal where injected keystrokes precede the JSON).
fn json_lines(out: &Outcome) -> Vec<serde_json::Value> {
    out.stdout
        .lines()
        .filter_map(|l| l.find('{').map(|i| &l[i..]))
        .filter_map(|l| serde_json::from_str(l.trim()).ok())
        .collect()
}

fn result_of(v: &serde_json::Value) -> String {
    v["error"].as_str().unwrap_or("ok").to_string()
}

fn outcome(out: std::process::Output) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    Outcome {
        status: out
            .status
            .code()
            .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0)),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `argv` with `file` as its fd 5 and no other descriptor than 0, 1, 2
/// and 5 (everything else is close-on-exec).
fn run_with_fd5(ws: &Ws, argv: &[&str], file: &File) -> Outcome {
    run_with_fd(ws, argv, file, 5)
}

/// Runs `argv` with `file` as its descriptor `n` (above 2) and no other
/// than 0, 1, 2 and `n`: the descriptor a caller passes on, as a shell's
/// `exec 9</etc` does.
fn run_with_fd(ws: &Ws, argv: &[&str], file: &File, n: i32) -> Outcome {
    let mut cmd = command_as(ws.user, &ws.work(), &ws.env(), argv);
    let raw = file.as_raw_fd();
    // SAFETY: between fork and exec only async-signal-safe calls (dup2,
    // fcntl, close_range) on descriptors of this process.
    unsafe {
        cmd.pre_exec(move || {
            if raw == n {
                libc::fcntl(n, libc::F_SETFD, 0);
            } else if libc::dup2(raw, n) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let cloexec = libc::CLOSE_RANGE_CLOEXEC as libc::c_int;
            libc::close_range(3, n as u32 - 1, cloexec);
            libc::close_range(n as u32 + 1, u32::MAX, cloexec);
            Ok(())
        });
    }
    outcome(cmd.stdin(Stdio::null()).output().expect("spawn"))
}

const SECRET: (&str, &str) = ("CORDON_ATTACK_SECRET", "s3cr3t-7f1d");

/// The start of `victim`'s first mapping (the probe's text: readable).
fn first_address(victim: &Background) -> String {
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", victim.pid)).unwrap();
    let first = maps.lines().next().unwrap();
    first.split('-').next().unwrap().to_string()
}

/// Whether `user`'s sandbox, in a workspace with nothing to pin, is in a
/// private mount namespace: always for root; for an unprivileged caller
/// when this host has a daemon socket to mask.
fn namespaced(user: User) -> bool {
    user == User::Root || nobody_gets_a_namespace()
}

/// A unique name for things made outside the workspace (/etc, /dev/shm).
fn unique(what: &str, user: User) -> String {
    format!("cordon-attack-{what}-{}-{user:?}", std::process::id())
}

/// The host's daemon sockets decide whether an unprivileged caller gets a
/// mount namespace, and so some errnos. The test that plants a fake daemon
/// socket holds this exclusively; every other test shares it.
static HOST_SOCKETS: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn host_sockets_unchanged() -> std::sync::RwLockReadGuard<'static, ()> {
    HOST_SOCKETS.read().unwrap_or_else(|e| e.into_inner())
}

// ------------------------------------------------------------- filesystem

#[test]
fn fs_symlink_to_home_or_etc_then_write_through_it() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let roots = outside_of(&ws);
        // $HOME: the user may write there; through a link in the
        // workspace, the sandbox may not.
        let link = ws.s("work/to-home");
        let planted = ws.s("work/to-home/.bashrc");
        control(&ws, &["symlink", &ws.s("home"), &link]).assert_ok();
        control(&ws, &["write", &planted]).assert_ok();
        std::fs::remove_file(ws.join("home/.bashrc")).unwrap();
        std::fs::remove_file(&link).unwrap();
        let before = snapshot(&roots);
        sandboxed(&ws, &[], &["symlink", &ws.s("home"), &link]).assert_ok();
        sandboxed(&ws, &[], &["write", &planted]).assert_errno(denied_write(user));
        assert_unchanged(&before, &roots, "symlink to $HOME");

        // /etc: only root may write there at all.
        let link = ws.s("work/to-etc");
        let name = unique("etc", user);
        let target = format!("/etc/{name}");
        let through = format!("{link}/{name}");
        sandboxed(&ws, &[], &["symlink", "/etc", &link]).assert_ok();
        if user == User::Root {
            control(&ws, &["write", &through]).assert_ok();
            std::fs::remove_file(&target).unwrap();
        } else {
            control(&ws, &["write", &through]).assert_errno("EACCES");
        }
        sandboxed(&ws, &[], &["write", &through]).assert_errno(denied_write(user));
        assert!(!Path::new(&target).exists(), "{user:?}: {target} created");
        // Nor can the link be swapped for one to /etc/passwd and written.
        let passwd = std::fs::read("/etc/passwd").unwrap();
        sandboxed(&ws, &[], &["symlink", "/etc/passwd", &ws.s("work/pw")]).assert_ok();
        // An existing file: DAC answers before the read-only mount does.
        let existing = match user {
            User::Root => "EROFS",
            User::Nobody => "EACCES",
        };
        sandboxed(&ws, &[], &["write", &ws.s("work/pw")]).assert_errno(existing);
        assert_eq!(std::fs::read("/etc/passwd").unwrap(), passwd);
    }
}

#[test]
fn fs_hard_link_to_an_outside_file_then_write() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let roots = outside_of(&ws);
        ws.write("outside/f", "original\n");
        let (f, h) = (ws.s("outside/f"), ws.s("work/h"));
        control(&ws, &["link", &f, &h]).assert_ok();
        control(&ws, &["write", &h]).assert_ok();
        std::fs::remove_file(&h).unwrap();
        std::fs::write(&f, "original\n").unwrap();
        let before = snapshot(&roots);
        // Landlock refuses a link that would give the file more rights
        // than it has where it is (EXDEV); as root the workspace is also
        // another mount than the read-only world (EXDEV too).
        sandboxed(&ws, &[], &["link", &f, &h]).assert_errno("EXDEV");
        let out = sandboxed(&ws, &[], &["write", &h]);
        out.assert_ok();
        assert_eq!(ws.read("outside/f"), "original\n");
        assert_unchanged(&before, &roots, "hard link");
    }
}

#[test]
fn fs_rename_and_link_into_and_out_of_the_workspace() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let roots = outside_of(&ws);
        ws.write("outside/f", "outside\n");
        ws.write("outside/d/x", "outside\n");
        ws.write("work/g", "inside\n");
        let (of, od, wg) = (ws.s("outside/f"), ws.s("outside/d"), ws.s("work/g"));
        let (wf, wd, og) = (ws.s("work/f"), ws.s("work/d"), ws.s("outside/g"));
        // Controls: each works without cordon (and is undone).
        for (from, to) in [(&of, &wf), (&od, &wd), (&wg, &og)] {
            control(&ws, &["rename", from, to]).assert_ok();
            control(&ws, &["rename", to, from]).assert_ok();
        }
        control(&ws, &["link", &wg, &og]).assert_ok();
        std::fs::remove_file(&og).unwrap();
        let before = snapshot(&roots);
        // Into the workspace: the source directory grants no remove right
        // (EACCES for Landlock); in a mount namespace (always as root) the
        // two are different mounts first.
        let into = if namespaced(user) { "EXDEV" } else { "EACCES" };
        sandboxed(&ws, &[], &["rename", &of, &wf]).assert_errno(into);
        sandboxed(&ws, &[], &["rename", &od, &wd]).assert_errno(into);
        // Out of it: the target directory grants no make right. In a
        // namespace, link(2) meets the read-only target mount first.
        sandboxed(&ws, &[], &["rename", &wg, &og]).assert_errno(into);
        let link_out = if namespaced(user) { "EROFS" } else { "EACCES" };
        sandboxed(&ws, &[], &["link", &wg, &og]).assert_errno(link_out);
        assert_unchanged(&before, &roots, "rename and link");
        assert_eq!(ws.read("work/g"), "inside\n");
    }
}

#[test]
fn fs_proc_self_root_and_an_outside_process_cwd_and_root() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        // A .git to pin: the sandbox gets a private mount namespace as
        // either user, and an outside process's root leads to the host's
        // mounts, where .git is writable.
        ws.write("work/.git/config", "[core]\n");
        let roots = vec![ws.join("outside"), ws.join("home"), ws.join("work/.git")];
        let victim = victim(&ws, &[SECRET]);
        let pid = &victim.pid;
        let outside_x = ws.s("outside/x");
        let targets = [
            format!("/proc/self/root{outside_x}"),
            format!("/proc/{pid}/cwd/x"),
            format!("/proc/{pid}/root{outside_x}"),
            format!("/proc/{pid}/root{}", ws.s("work/.git/config")),
        ];
        for t in &targets {
            control(&ws, &["write", t]).assert_ok();
        }
        std::fs::remove_file(&outside_x).unwrap();
        std::fs::write(ws.join("work/.git/config"), "[core]\n").unwrap();
        let before = snapshot(&roots);
        // Our own root: the namespace's, where the world is read-only.
        sandboxed(&ws, &[], &["write", &targets[0]]).assert_errno("EROFS");
        // Another process's cwd and root: following those links takes a
        // ptrace check, which Landlock fails for processes outside the
        // sandbox.
        for t in &targets[1..] {
            sandboxed(&ws, &[], &["write", t]).assert_errno("EACCES");
        }
        sandboxed(&ws, &[], &["read", &format!("/proc/{pid}/cwd/../home")]).assert_errno("EACCES");
        assert_unchanged(&before, &roots, "/proc magic links");
    }
}

#[test]
fn fs_open_by_handle_at() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        ws.write("outside/f", "secret\n");
        let op = ["open-by-handle", &ws.s("outside/f"), &ws.s("")];
        // Needs CAP_DAC_READ_SEARCH: only root's control can use it.
        match user {
            User::Root => control(&ws, &op).assert_ok(),
            User::Nobody => control(&ws, &op).assert_errno("EPERM"),
        };
        let out = sandboxed(&ws, &[], &op);
        out.assert_errno("EPERM");
        assert_eq!(out.json()["step"], "open_by_handle_at", "{out:?}");
    }
}

#[test]
fn fs_write_through_proc_self_fd_of_an_inherited_read_only_fd() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let roots = outside_of(&ws);
        ws.write("outside/f", "original\n");
        let file = File::open(ws.join("outside/f")).unwrap();
        let dir = File::open(ws.join("outside")).unwrap();
        let (c, p) = (
            cordon_bin().to_str().unwrap(),
            probe_bin().to_str().unwrap(),
        );
        // Reopening /proc/self/fd/5 for writing: allowed by file mode
        // alone, so the control writes.
        let reopen = [p, "write", "/proc/self/fd/5"];
        run_with_fd5(&ws, &reopen, &file).assert_ok();
        std::fs::write(ws.join("outside/f"), "original\n").unwrap();
        let create = [p, "create-at", "5", "planted"];
        run_with_fd5(&ws, &create, &dir).assert_ok();
        std::fs::remove_file(ws.join("outside/planted")).unwrap();
        let before = snapshot(&roots);
        // Kept with --keep-fd (without it the descriptor is closed at
        // exec), the reopen is a new open of the file's real path: Landlock
        // denies it. The descriptor is the caller's (opened on the host's
        // mounts), so even root meets Landlock, not the read-only world.
        fn sandboxed_argv<'a>(c: &'a str, op: &[&'a str]) -> Vec<&'a str> {
            [&[c, "run", "--keep-fd", "5", "--"][..], op].concat()
        }
        run_with_fd5(&ws, &sandboxed_argv(c, &reopen), &file).assert_errno("EACCES");
        run_with_fd5(&ws, &sandboxed_argv(c, &create), &dir).assert_errno("EACCES");
        assert_unchanged(&before, &roots, "/proc/self/fd");
    }
}

#[test]
fn fs_truncate_an_outside_file() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let roots = outside_of(&ws);
        ws.write("outside/f", "keep me\n");
        let f = ws.s("outside/f");
        control(&ws, &["truncate", &f]).assert_ok();
        std::fs::write(&f, "keep me\n").unwrap();
        let before = snapshot(&roots);
        sandboxed(&ws, &[], &["truncate", &f]).assert_errno(denied_write(user));
        sandboxed(&ws, &[], &["overwrite", &f]).assert_errno(denied_write(user));
        assert_unchanged(&before, &roots, "truncate");
        // Inside the workspace, truncate works.
        ws.write("work/t", "x\n");
        sandboxed(&ws, &[], &["truncate", &ws.s("work/t")]).assert_ok();
    }
}

#[test]
fn fs_dev_shm_writes_do_not_reach_the_host() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let name = format!("/dev/shm/{}", unique("shm", user));
        control(&ws, &["write", &name]).assert_ok();
        assert!(Path::new(&name).exists());
        std::fs::remove_file(&name).unwrap();
        // Every sandbox has a private /dev, and in it /dev/shm is a private
        // tmpfs: writable, and gone with the command.
        let out = sandboxed_sh(&ws, &[], &format!("$P write {name} && $P read {name}"));
        let got: Vec<String> = json_lines(&out).iter().map(result_of).collect();
        assert_eq!(got, ["ok", "ok"], "{user:?}: {out:?}");
        assert!(!Path::new(&name).exists(), "{user:?}: reached the host");
        let dry = cordon(&ws, &["run", "--dry-run", "--", "true"]);
        assert_eq!(dry.status, 0, "{dry:?}");
        assert!(dry.stdout.contains("shm a private tmpfs"), "{dry:?}");
    }
}

#[test]
fn fs_mknod_mount_pivot_root_chroot_setns() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let roots = outside_of(&ws);
        let before = snapshot(&roots);
        let node = ws.s("work/nod");
        let work = ws.s("work");
        let victim = victim(&ws, &[SECRET]);
        let mnt_ns = format!("/proc/{}/ns/mnt", victim.pid);
        let p = probe_bin().to_str().unwrap();
        // Controls. As root each works; an unprivileged user needs
        // capabilities, which a user namespace of its own gives (the very
        // route the sandbox closes: see nested_user_namespace).
        let in_userns = |op: &[&str]| {
            let mut argv = vec!["unshare", "-Urm", p];
            argv.extend_from_slice(op);
            run_as(user, &ws.work(), &ws.env(), &argv)
        };
        match user {
            User::Root => {
                control(&ws, &["mknod", &node]).assert_ok();
                std::fs::remove_file(&node).unwrap();
                let out = control(&ws, &["mount-tmpfs", &work]);
                out.assert_ok();
                assert_eq!(out.json()["unmounted"], true);
                control(&ws, &["chroot", &work]).assert_ok();
                control(&ws, &["setns", &mnt_ns]).assert_ok();
            }
            User::Nobody => {
                control(&ws, &["mknod", &node]).assert_errno("EPERM");
                in_userns(&["mount-tmpfs", &work]).assert_ok();
                in_userns(&["chroot", &work]).assert_ok();
                let out = control(&ws, &["setns", &mnt_ns]);
                out.assert_errno("EPERM");
                assert_eq!(out.json()["step"], "setns");
            }
        }
        // Landlock grants no device-node creation in writable roots.
        sandboxed(&ws, &[], &["mknod", &node]).assert_errno("EACCES");
        assert!(!Path::new(&node).exists());
        sandboxed(&ws, &[], &["mkfifo", &ws.s("work/fifo")]).assert_ok();
        // seccomp: the mount API, pivot_root and chroot.
        sandboxed(&ws, &[], &["mount-tmpfs", &work]).assert_errno("EPERM");
        sandboxed(&ws, &[], &["mount-setattr-rw", "/"]).assert_errno("EPERM");
        sandboxed(&ws, &[], &["pivot-root", &work, &work]).assert_errno("EPERM");
        sandboxed(&ws, &[], &["chroot", &work]).assert_errno("EPERM");
        // The host's mount namespace: its file is out of reach (Landlock's
        // ptrace check), and setns itself is denied.
        let out = sandboxed(&ws, &[], &["setns", &mnt_ns]);
        out.assert_errno("EACCES");
        assert_eq!(out.json()["step"], "open");
        let out = sandboxed(&ws, &[], &["setns", "/proc/self/ns/mnt"]);
        out.assert_errno("EPERM");
        assert_eq!(out.json()["step"], "setns");
        assert_unchanged(&before, &roots, "mknod, mount, pivot_root, chroot");
    }
}

#[test]
fn fs_setuid_files_do_not_raise_privileges() {
    let _host = host_sockets_unchanged();
    // A setuid-root program in the workspace: it runs as root without
    // cordon, and as the caller with it (no_new_privs; the workspace is
    // also bound nosuid). Only root can make one.
    if !is_root() {
        return eprintln!("note: not root, so this test is skipped");
    }
    let ws = Ws::new(User::Nobody);
    // A child another test thread forked while a copy below was open holds
    // its write fd until that child's exec (ETXTBSY for microseconds): retry.
    let getuid = |path: &str| {
        let mut tries = 0;
        loop {
            let out = cordon(&ws, &["run", "--", path, "getuid"]);
            if out.status != 126 || !out.stderr.contains("Text file busy") || tries == 100 {
                break out;
            }
            tries += 1;
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    let suid = ws.join("work/suid-probe");
    std::fs::copy(probe_bin(), &suid).unwrap();
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let suid = suid.to_str().unwrap();
    let out = run_as(User::Nobody, &ws.work(), &ws.env(), &[suid, "getuid"]);
    out.assert_ok();
    assert_eq!(out.json()["euid"], 0, "control: {out:?}");
    let out = getuid(suid);
    out.assert_ok();
    assert_eq!(out.json()["euid"], NOBODY, "{out:?}");
    // The same from a file outside the writable roots (no nosuid mount
    // there): no_new_privs alone.
    let outside = ws.join("outside/suid-probe");
    std::fs::copy(probe_bin(), &outside).unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let out = getuid(outside.to_str().unwrap());
    assert_eq!(out.json()["euid"], NOBODY, "{out:?}");
}

// -------------------------------------------------------------- processes

#[test]
fn proc_ptrace_of_an_outside_process() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let mut victim = victim(&ws, &[SECRET]);
        let out = control(&ws, &["ptrace-attach", &victim.pid]);
        out.assert_ok();
        assert_eq!(out.json()["detached"], true);
        sandboxed(&ws, &[], &["ptrace-attach", &victim.pid]).assert_errno("EPERM");
        assert!(victim.alive());
    }
}

#[test]
fn proc_environ_and_mem_of_an_outside_process() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let victim = victim(&ws, &[SECRET]);
        let environ = format!("/proc/{}/environ", victim.pid);
        let mem = format!("/proc/{}/mem", victim.pid);
        let addr = first_address(&victim);
        let out = control(&ws, &["read", &environ]);
        out.assert_ok();
        let secret = SECRET.1;
        assert!(out.stdout.contains(secret), "{out:?}");
        let out = control(&ws, &["read-at", &mem, &addr]);
        out.assert_ok();
        // The probe is an ELF file: its first mapping starts with the magic.
        assert_eq!(out.json()["data"].as_str().unwrap()[..8], *"7f454c46");
        for op in [&["read", &environ][..], &["read-at", &mem, &addr]] {
            let out = sandboxed(&ws, &[], op);
            out.assert_errno("EACCES");
            assert_eq!(out.json()["step"], "open", "{out:?}");
            assert!(!out.stdout.contains(secret));
        }
    }
}

#[test]
fn proc_process_vm_readv_of_an_outside_process() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let victim = victim(&ws, &[SECRET]);
        let op = ["process-vm-readv", &victim.pid, &first_address(&victim)];
        let out = control(&ws, &op);
        out.assert_ok();
        assert_eq!(out.json()["data"].as_str().unwrap()[..8], *"7f454c46");
        sandboxed(&ws, &[], &op).assert_errno("EPERM");
    }
}

#[test]
fn proc_signals_to_outside_processes() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let mut victim = victim(&ws, &[SECRET]);
        let pid = victim.pid.clone();
        control(&ws, &["kill", &pid, "0"]).assert_ok();
        control(&ws, &["pidfd-kill", &pid, "0"]).assert_ok();
        sandboxed(&ws, &[], &["kill", &pid, "9"]).assert_errno("EPERM");
        sandboxed(&ws, &[], &["kill", &pid, "0"]).assert_errno("EPERM");
        let out = sandboxed(&ws, &[], &["pidfd-kill", &pid, "9"]);
        out.assert_errno("EPERM");
        assert_eq!(out.json()["step"], "pidfd_send_signal");
        assert!(victim.alive(), "{user:?}: the victim died");
        // The sandbox's own children are fair game.
        sandboxed(&ws, &[], &["kill-child"]).assert_ok();
    }
}

#[test]
fn proc_kill_minus_one_spares_outside_processes() {
    let _host = host_sockets_unchanged();
    // kill(-1, SIGKILL) signals every process the caller may signal. It is
    // tried in a throw-away PID namespace, so a failure here could only
    // kill the processes of this test.
    if !is_root() {
        return eprintln!("note: not root, so this test is skipped (it needs a PID namespace)");
    }
    for user in users() {
        let ws = Ws::new(user);
        let (c, p) = (cordon_bin().display(), probe_bin().display());
        let setpriv = match user {
            User::Root => "",
            User::Nobody => "setpriv --reuid=65534 --regid=65534 --clear-groups --",
        };
        // In the namespace: a victim (announced once it runs as the user),
        // the attack, then the shell (root, outside any sandbox) sends the
        // victim SIGTERM and reads how it died: 137 (SIGKILL) if the attack
        // got it, 143 (SIGTERM) if it was still alive.
        let script = |sandboxed: bool| {
            let wrap = if sandboxed {
                format!("{c} run --")
            } else {
                String::new()
            };
            format!(
                "rm -f ready; {setpriv} {p} sleep 30 > ready & v=$!; \
                 until [ -s ready ]; do sleep 0.01; done; \
                 {setpriv} {wrap} {p} kill -1 9; \
                 kill $v 2>/dev/null; wait $v; echo victim=$?"
            )
        };
        let run = |sandboxed: bool| {
            let s = script(sandboxed);
            let argv = ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", &s];
            run_as(User::Root, &ws.work(), &ws.env(), &argv)
        };
        let out = run(false);
        assert!(out.stdout.contains("victim=137"), "control: {out:?}");
        let out = run(true);
        // Landlock refuses each outside process; kill(-1) reports success
        // when it found any process at all, so the victim is the evidence.
        assert!(out.stdout.contains("victim=143"), "{user:?}: {out:?}");
    }
}

#[test]
fn proc_capabilities_of_root_are_cut_to_dockers_set() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        // Each call changes nothing even when it is allowed (a bad reboot
        // magic, the host name it already has, no module in /dev/null).
        match user {
            User::Root => {
                control(&ws, &["reboot-bad-magic"]).assert_errno("EINVAL");
                control(&ws, &["sethostname-same"]).assert_ok();
            }
            User::Nobody => {
                control(&ws, &["reboot-bad-magic"]).assert_errno("EPERM");
                control(&ws, &["sethostname-same"]).assert_errno("EPERM");
            }
        }
        sandboxed(&ws, &[], &["reboot-bad-magic"]).assert_errno("EPERM");
        sandboxed(&ws, &[], &["sethostname-same"]).assert_errno("EPERM");
        let module = ["finit-module", "/dev/null"];
        let ctl = control(&ws, &module);
        if ctl.errno().as_deref() == Some("ENOSYS") {
            eprintln!("note: this kernel has no module loading; finit_module is ENOSYS");
        } else {
            if user == User::Root {
                assert_ne!(ctl.errno().as_deref(), Some("EPERM"), "{ctl:?}");
            }
            sandboxed(&ws, &[], &module).assert_errno("EPERM");
        }
        // What is left: Docker's default set, in every set but ambient and
        // inheritable (empty), for root; nothing for anyone else.
        let out = cordon(&ws, &["run", "--", "grep", "^Cap", "/proc/self/status"]);
        // (An unprivileged caller's bounding set stays as it was: with
        // no_new_privs, nothing it executes can raise it.)
        let (want, sets) = match user {
            User::Root => ("00000000a80425fb", &["CapPrm", "CapEff", "CapBnd"][..]),
            User::Nobody => ("0000000000000000", &["CapPrm", "CapEff"][..]),
        };
        for set in sets {
            assert!(
                out.stdout.contains(&format!("{set}:\t{want}")),
                "{user:?}: {out:?}"
            );
        }
        for set in ["CapInh", "CapAmb"] {
            assert!(
                out.stdout.contains(&format!("{set}:\t0000000000000000")),
                "{out:?}"
            );
        }
    }
}

#[test]
fn proc_the_session_keyring_is_out_of_reach() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        control(&ws, &["keyctl-session"]).assert_ok();
        sandboxed(&ws, &[], &["keyctl-session"]).assert_errno("EPERM");
    }
}

#[test]
fn proc_terminal_injection_tiocsti_and_tioclinux() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let (c, p) = (cordon_bin().display(), probe_bin().display());
        // Under script(1) stdin is a pty and our controlling terminal, so
        // TIOCSTI works without cordon (dev.tty.legacy_tiocsti=1, or root).
        let in_pty = |cmd: String| {
            let argv = ["script", "-qec", &cmd, "/dev/null"];
            let out = run_as(user, &ws.work(), &ws.env(), &argv);
            json_lines(&out)
                .into_iter()
                .map(|v| result_of(&v))
                .collect::<Vec<_>>()
        };
        let legacy = std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti")
            .map(|v| v.trim() == "1")
            .unwrap_or(true);
        let control_ok = if legacy || user == User::Root {
            "ok"
        } else {
            // The kernel itself refuses TIOCSTI to unprivileged callers.
            eprintln!("note: dev.tty.legacy_tiocsti=0: the kernel refuses TIOCSTI as well");
            "EIO"
        };
        // 0x1_0000_5412: the kernel reads the command as 32 bits, so this is
        // TIOCSTI too; the filter compares the same 32 bits.
        let got = in_pty(format!(
            "{p} tiocsti; {c} run -- {p} tiocsti; \
             {p} ioctl-stdin 100005412; {c} run -- {p} ioctl-stdin 100005412; \
             {p} tioclinux; {c} run -- {p} tioclinux"
        ));
        assert_eq!(
            got,
            [control_ok, "EPERM", control_ok, "EPERM", "ENOTTY", "EPERM"],
            "{user:?}"
        );
        // TIOCLINUX on a real virtual console (root only; the pty above
        // does not implement it). The private /dev does not hold it; when
        // granted, seccomp still refuses the ioctl.
        if user == User::Root && Path::new("/dev/tty1").exists() {
            let ctl = control(&ws, &["tioclinux", "/dev/tty1"]);
            if ctl.json()["ok"] == true {
                let out = sandboxed(&ws, &[], &["tioclinux", "/dev/tty1"]);
                out.assert_errno("ENOENT");
                let grant = ["--allow-device", "/dev/tty1"];
                let out = sandboxed(&ws, &grant, &["tioclinux", "/dev/tty1"]);
                out.assert_errno("EPERM");
                assert_eq!(out.json()["step"], "ioctl");
            } else {
                eprintln!("note: /dev/tty1 is no virtual console here: {ctl:?}");
            }
        }
    }
}

#[test]
fn proc_nested_user_namespace_is_denied_and_gains_nothing() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let roots = outside_of(&ws);
        for op in ["unshare-user", "clone-user", "clone3"] {
            control(&ws, &[op]).assert_ok();
        }
        let before = snapshot(&roots);
        sandboxed(&ws, &[], &["unshare-user"]).assert_errno("EPERM");
        sandboxed(&ws, &[], &["clone-user"]).assert_errno("EPERM");
        // clone3's flags are out of the filter's reach: ENOSYS, so libc
        // falls back to clone. Threads and child processes still work.
        sandboxed(&ws, &[], &["clone3"]).assert_errno("ENOSYS");
        sandboxed(&ws, &[], &["thread"]).assert_ok();
        let out = sandboxed_sh(&ws, &[], "$P getuid | cat; $P kill-child");
        let got: Vec<String> = json_lines(&out).iter().map(result_of).collect();
        assert_eq!(got, ["ok", "ok"], "{out:?}");
        // The unshare tool: refused outright.
        let out = cordon(&ws, &["run", "--", "unshare", "-Ur", "true"]);
        assert_eq!(out.status, 1, "{out:?}");
        assert!(out.stderr.contains("Operation not permitted"), "{out:?}");
        // Nor is a plain mount or network namespace to be had: root's
        // CAP_SYS_ADMIN is gone (see proc_capabilities_of_root).
        if user == User::Root {
            control(&ws, &["unshare-mount"]).assert_ok();
        }
        sandboxed(&ws, &[], &["unshare-mount"]).assert_errno("EPERM");
        sandboxed(&ws, &[], &["unshare-net"]).assert_errno("EPERM");
        assert_unchanged(&before, &roots, "nested namespaces");
    }
}

/// What an attack on another process could change, as that process's
/// owner sees it: nice, scheduling policy, CPUs, I/O priority (from the
/// probe's read-only `query`, run outside the sandbox), and its CPU-time
/// and open-file limits (from `/proc/<pid>/limits`).
fn process_state(ws: &Ws, pid: &str) -> BTreeMap<&'static str, String> {
    let q = control(ws, &["query", pid]);
    q.assert_ok();
    let j = q.json();
    let mut state = BTreeMap::new();
    for key in [
        "nice",
        "policy",
        "cpus",
        "ioprio_class",
        "ioprio_level",
        "pgid",
    ] {
        state.insert(key, j[key].to_string());
    }
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    for (key, line) in [("cpu", "Max cpu time"), ("nofile", "Max open files")] {
        let l = limits.lines().find(|l| l.starts_with(line)).unwrap();
        let words: Vec<&str> = l[line.len()..].split_whitespace().collect();
        state.insert(key, format!("{} {}", words[0], words[1]));
    }
    state
}

/// Replaces `PID` in an op by the victim's pid.
fn aimed<'a>(op: &[&'a str], pid: &'a str) -> Vec<&'a str> {
    op.iter()
        .map(|w| if *w == "PID" { pid } else { w })
        .collect()
}

/// More than one CPU online: pinning a process to CPU 0 is then visible.
fn several_cpus() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

#[test]
fn proc_limits_priority_scheduling_and_affinity_of_an_outside_process() {
    let _host = host_sockets_unchanged();
    // Each call checks only that the target has the caller's uid (root:
    // any process), not the ptrace access Landlock hooks: prlimit(pid,
    // RLIMIT_CPU, 0) kills the target the next time it runs.
    let attacks: &[&[&str]] = &[
        &["prlimit", "PID", "cpu", "0", "0"],
        &["prlimit", "PID", "nofile", "100", "100"],
        &["setpriority", "process", "PID", "5"],
        // Raising nice needs no privilege; sched_setattr resets the
        // policy to SCHED_OTHER, so it comes before sched_setscheduler.
        &["sched-setattr", "PID", "7"],
        &["sched-setscheduler", "PID", "batch"],
        &["sched-setparam", "PID"],
        &["sched-setaffinity", "PID", "0"],
        &["ioprio-set", "process", "PID", "idle"],
        &["migrate-pages", "PID"],
    ];
    for user in users() {
        let ws = Ws::new(user);
        // One victim for the controls (which change it, showing the state
        // read below sees each change) and one for the attacks.
        let ctl_victim = victim(&ws, &[]);
        let victim = victim(&ws, &[]);
        let before = process_state(&ws, &victim.pid);
        assert_eq!(before, process_state(&ws, &ctl_victim.pid));
        let page = first_address(&victim);
        let ctl_page = first_address(&ctl_victim);
        for op in attacks {
            control(&ws, &aimed(op, &ctl_victim.pid)).assert_ok();
            let out = sandboxed(&ws, &[], &aimed(op, &victim.pid));
            out.assert_errno("EPERM");
        }
        // move_pages without target nodes only asks where a page lives.
        control(&ws, &["move-pages", &ctl_victim.pid, &ctl_page]).assert_ok();
        sandboxed(&ws, &[], &["move-pages", &victim.pid, &page]).assert_errno("EPERM");
        let mut changed = before.clone();
        changed.insert("cpu", "0 0".into());
        changed.insert("nofile", "100 100".into());
        changed.insert("nice", "7".into());
        changed.insert("policy", libc::SCHED_BATCH.to_string());
        changed.insert("ioprio_class", "3".into());
        if several_cpus() {
            changed.insert("cpus", "[0]".into());
        } else {
            eprintln!("note: one CPU online: the affinity change is not visible");
        }
        let ctl_after = process_state(&ws, &ctl_victim.pid);
        assert_eq!(
            ctl_after, changed,
            "{user:?}: the controls did not all land"
        );
        assert_eq!(process_state(&ws, &victim.pid), before, "{user:?}");
    }
}

#[test]
fn proc_priority_of_the_process_group_and_of_every_process_of_the_user() {
    let _host = host_sockets_unchanged();
    // PRIO_PGRP 0 is the caller's process group, which holds processes
    // outside the sandbox (the other side of a pipeline); PRIO_USER 0 is
    // every process of the user (IOPRIO_WHO_USER 0, though, is uid 0 in
    // the kernel's loop: the test names the uid). Tried in a throw-away
    // PID namespace (the kernel skips processes the caller cannot see
    // there) and session, so a failure could only touch this test's
    // processes.
    if !is_root() {
        return eprintln!("note: not root, so this test is skipped (it needs a PID namespace)");
    }
    for user in users() {
        let ws = Ws::new(user);
        let (c, p) = (cordon_bin().display(), probe_bin().display());
        let setpriv = match user {
            User::Root => "",
            User::Nobody => "setpriv --reuid=65534 --regid=65534 --clear-groups --",
        };
        let script = |sandboxed: bool| {
            let wrap = if sandboxed {
                format!("{c} run --")
            } else {
                String::new()
            };
            format!(
                "rm -f ready; {p} sleep 30 > ready & v=$!; \
                 until [ -s ready ]; do sleep 0.01; done; \
                 {wrap} {p} setpriority pgrp 0 3; {wrap} {p} setpriority user 0 5; \
                 {wrap} {p} ioprio-set pgrp 0 be:5; {wrap} {p} ioprio-set user $(id -u) idle; \
                 {p} query $v; kill $v"
            )
        };
        let run = |sandboxed: bool| {
            let s = script(sandboxed);
            let inner = format!("setsid {setpriv} sh -c '{s}'");
            let argv = [
                "unshare",
                "--pid",
                "--fork",
                "--mount-proc",
                "sh",
                "-c",
                &inner,
            ];
            let out = run_as(User::Root, &ws.work(), &ws.env(), &argv);
            let lines = json_lines(&out);
            assert_eq!(lines.len(), 5, "{out:?}");
            let results: Vec<String> = lines[..4].iter().map(result_of).collect();
            let victim = lines[4].clone();
            (results, victim, out)
        };
        let (results, v, out) = run(false);
        assert_eq!(results, ["ok"; 4], "control: {out:?}");
        assert_eq!(
            (v["nice"].as_i64(), v["ioprio_class"].as_i64()),
            (Some(5), Some(3))
        );
        let (results, v, out) = run(true);
        assert_eq!(results, ["EPERM"; 4], "{user:?}: {out:?}");
        let got = (v["nice"].as_i64(), v["ioprio_class"].as_i64());
        assert_eq!(
            got,
            (Some(0), Some(0)),
            "{user:?}: the victim changed: {out:?}"
        );
    }
}

#[test]
fn proc_calls_that_take_landlocks_ptrace_check() {
    let _host = host_sockets_unchanged();
    // The kernel asks for ptrace-class access to the target, which Landlock
    // refuses for processes outside the sandbox.
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|v| v.trim().parse::<i32>().ok())
        .unwrap_or(4);
    for user in users() {
        let ws = Ws::new(user);
        let mut victim = victim(&ws, &[]);
        let pid = victim.pid.clone();
        let page = first_address(&victim);
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
        let data = maps.lines().find(|l| l.contains(" rw-p ")).unwrap();
        let data = data.split('-').next().unwrap().to_string();
        let read = || {
            let out = control(&ws, &["process-vm-readv", &pid, &data]);
            out.assert_ok();
            out.json()["data"].as_str().unwrap().to_string()
        };
        let original = read();
        let ops: &[(&[&str], &str)] = &[
            // Writing the bytes that are there: the control changes nothing.
            (&["process-vm-writev", &pid, &data, &original], "EPERM"),
            (&["kcmp", &pid], "EPERM"),
            (&["get-robust-list", &pid], "EPERM"),
            (&["pidfd-getfd", &pid, "1"], "EPERM"),
            (&["process-madvise", &pid, &page], "EACCES"),
            (&["perf-open", &pid], "EACCES"),
        ];
        for (op, errno) in ops {
            let ctl = control(&ws, op);
            match op[0] {
                // Also needs CAP_SYS_NICE for another process.
                "process-madvise" if user == User::Nobody => ctl.assert_errno("EPERM"),
                "perf-open" if paranoid > 2 && user == User::Nobody => {
                    eprintln!("note: perf_event_paranoid={paranoid}: the control fails too");
                    &ctl
                }
                _ => ctl.assert_ok(),
            };
            sandboxed(&ws, &[], op).assert_errno(errno);
        }
        let out = sandboxed(
            &ws,
            &[],
            &["process-vm-writev", &pid, &data, "deadbeefdeadbeef"],
        );
        out.assert_errno("EPERM");
        assert_eq!(read(), original, "{user:?}: the victim's memory changed");
        assert!(victim.alive());
    }
}

#[test]
fn proc_every_signal_call_and_sigio_to_outside_processes() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let mut ctl_victim = victim(&ws, &[]);
        let mut victim = victim(&ws, &[]);
        let pid = victim.pid.clone();
        // The probe is single-threaded: its pid is its main thread's tid.
        let ops: [&[&str]; 4] = [
            &["tkill", &pid, "SIG"],
            &["tgkill", &pid, &pid, "SIG"],
            &["sigqueue", &pid, "SIG"],
            &["tgsigqueue", &pid, &pid, "SIG"],
        ];
        for op in ops {
            let with = |sig: &'static str| -> Vec<&str> {
                op.iter()
                    .map(|w| if *w == "SIG" { sig } else { *w })
                    .collect()
            };
            control(&ws, &with("0")).assert_ok();
            sandboxed(&ws, &[], &with("9")).assert_errno("EPERM");
            assert!(victim.alive(), "{user:?} {op:?}: the victim died");
        }
        // F_SETOWN + O_ASYNC: the kernel signals the owner itself (SIGIO,
        // deadly to a process that does not handle it). Landlock's signal
        // scope checks it at delivery, so the call succeeds either way.
        control(&ws, &["sigio", &ctl_victim.pid]).assert_ok();
        use std::os::unix::process::ExitStatusExt;
        let status = ctl_victim.child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGIO), "control: {status:?}");
        sandboxed(&ws, &[], &["sigio", &pid]).assert_ok();
        // Delivery is synchronous with the write, but give it a moment.
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(victim.alive(), "{user:?}: SIGIO reached the victim");
    }
}

#[test]
fn proc_kernel_rules_setpgid_waitid_mrelease_and_read_only_queries() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let mut victim = victim(&ws, &[]);
        let pid = victim.pid.clone();
        let before = process_state(&ws, &pid);
        // The kernel's own rules, the same with and without cordon: only a
        // child may be moved to another process group; only children can be
        // waited for; only a dying process's memory can be released.
        for (op, errno) in [
            (&["setpgid", &pid, &pid][..], "ESRCH"),
            (&["waitid", &pid], "ECHILD"),
            (&["process-mrelease", &pid], "EINVAL"),
        ] {
            control(&ws, op).assert_errno(errno);
            sandboxed(&ws, &[], op).assert_errno(errno);
        }
        // A pidfd is only a handle: each use of it is checked (signals,
        // pidfd_getfd, process_madvise, setns above).
        control(&ws, &["pidfd-open", &pid]).assert_ok();
        sandboxed(&ws, &[], &["pidfd-open", &pid]).assert_ok();
        // Read-only facts, also in /proc/<pid>/stat and status for anyone:
        // getpgid, getsid, getpriority, sched_getscheduler, sched_getparam,
        // sched_getattr, sched_getaffinity, sched_rr_get_interval,
        // ioprio_get, capget. They still work and agree.
        let ctl = control(&ws, &["query", &pid]);
        ctl.assert_ok();
        let out = sandboxed(&ws, &[], &["query", &pid]);
        out.assert_ok();
        assert_eq!(out.json(), ctl.json(), "{user:?}");
        assert_eq!(process_state(&ws, &pid), before);
        assert!(victim.alive());
    }
}

/// A victim in a session (so an autogroup) of its own: writing its
/// `/proc/<pid>/autogroup` in the control renices only it.
fn victim_in_own_session(ws: &Ws) -> Background {
    let mut argv = vec![probe_bin().to_str().unwrap()];
    argv.extend(["sleep", "30"]);
    let mut cmd = command_as(ws.user, &ws.join("outside"), &ws.env(), &argv);
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let line: serde_json::Value = serde_json::from_str(&line).unwrap();
    Background {
        pid: child.id().to_string(),
        child,
        line,
    }
}

#[test]
fn proc_writes_to_the_proc_files_of_an_outside_process() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let ctl_victim = victim_in_own_session(&ws);
        let victim = victim_in_own_session(&ws);
        // oom_score_adj (the user may raise it: the OOM killer's first
        // choice) and autogroup (the nice of the victim's whole session).
        let files = [("oom_score_adj", "500"), ("autogroup", "5")];
        let read = |pid: &str, f: &str| {
            std::fs::read_to_string(format!("/proc/{pid}/{f}")).unwrap_or_default()
        };
        for (f, value) in files {
            if !Path::new(&format!("/proc/{}/{f}", victim.pid)).exists() {
                eprintln!("note: no /proc/PID/{f} in this kernel");
                continue;
            }
            let before = read(&victim.pid, f);
            let ctl_before = read(&ctl_victim.pid, f);
            let path = format!("/proc/{}/{f}", ctl_victim.pid);
            // Renicing an autogroup without CAP_SYS_ADMIN is rate-limited
            // host-wide (EAGAIN within 100 ms of the last one): retry.
            let mut ctl = control(&ws, &["write", &path, value]);
            for _ in 0..20 {
                if ctl.errno().as_deref() != Some("EAGAIN") {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
                ctl = control(&ws, &["write", &path, value]);
            }
            ctl.assert_ok();
            assert_ne!(read(&ctl_victim.pid, f), ctl_before, "control: {f}");
            let path = format!("/proc/{}/{f}", victim.pid);
            // Outside every writable root: Landlock; as root (or with a
            // namespace) the read-only world answers first.
            sandboxed(&ws, &[], &["write", &path, value]).assert_errno(denied_write(user));
            assert_eq!(read(&victim.pid, f), before, "{user:?}: {f} changed");
        }
    }
}

#[test]
fn proc_own_children_and_threads_count_as_other_processes() {
    let _host = host_sockets_unchanged();
    // The filter sees a number, and cannot tell the command's children and
    // threads from outsiders: they are refused too (SECURITY.md,
    // Decisions). Each process and thread may still change itself (0).
    let script = "$P sleep 30 > c.ready & c=$!; \
                  until [ -s c.ready ]; do sleep 0.01; done; \
                  $P setpriority process $c 5; $P sched-setaffinity $c 0; \
                  $P prlimit $c nofile 100 100; $P ioprio-set process $c idle; \
                  $P sched-setscheduler $c batch; kill $c; \
                  exec $P setpriority process $$ 19";
    for user in users() {
        let ws = Ws::new(user);
        let p = probe_bin().display().to_string();
        let run = |sandboxed: bool| {
            let _ = std::fs::remove_file(ws.join("work/c.ready"));
            let out = if sandboxed {
                sandboxed_sh(&ws, &[], script)
            } else {
                let s = format!("P={p}; {script}");
                run_as(user, &ws.work(), &ws.env(), &["sh", "-c", &s])
            };
            let got: Vec<String> = json_lines(&out)
                .iter()
                .filter(|v| v["op"] != "sleep")
                .map(result_of)
                .collect();
            (got, out)
        };
        // The last one names the caller itself by its pid ($$ is the
        // probe's after exec), as psutil's Process().nice() does.
        let (got, out) = run(false);
        assert_eq!(got, ["ok"; 6], "control: {out:?}");
        let (got, out) = run(true);
        assert_eq!(got, ["EPERM"; 6], "{user:?}: {out:?}");
        // The tools' -p forms, on the command's own child.
        let tools = "$P sleep 30 > t.ready & c=$!; \
                     until [ -s t.ready ]; do sleep 0.01; done; \
                     for t in 'renice -n 5 -p' 'taskset -p -c 0' 'ionice -c 3 -p' \
                              'chrt -b -p 0' 'prlimit --nofile=100:100 --pid'; do \
                       $t $c >/dev/null 2>&1; echo \"rc=$?\"; \
                     done; kill $c";
        let s = format!("P={p}; {tools}");
        let ctl = run_as(user, &ws.work(), &ws.env(), &["sh", "-c", &s]);
        assert_eq!(ctl.stdout.matches("rc=0").count(), 5, "control: {ctl:?}");
        let out = sandboxed_sh(&ws, &[], tools);
        assert_eq!(out.stdout.matches("rc=1").count(), 5, "{user:?}: {out:?}");
        // A child that changes itself before exec, as nice, taskset -c,
        // ionice -c and ulimit do: allowed, and inherited by its children.
        let own = "(ulimit -n 64; nice -n 4 $P query 0; ulimit -n)";
        let s = format!("P={p}; {own}");
        let ctl = run_as(user, &ws.work(), &ws.env(), &["sh", "-c", &s]);
        let out = sandboxed_sh(&ws, &[], own);
        for o in [&ctl, &out] {
            assert_eq!(o.status, 0, "{o:?}");
            assert!(o.stdout.ends_with("\n64\n"), "{o:?}");
        }
        let nice = |o: &Outcome| json_lines(o)[0]["nice"].clone();
        let plain = control(&ws, &["query", "0"]).json()["nice"].clone();
        assert_ne!(nice(&ctl), plain, "control: {ctl:?}");
        assert_eq!(nice(&out), nice(&ctl), "{user:?}: {out:?}");
        // Threads: one thread pinning another by its TID is refused, as is
        // glibc's pthread_setaffinity_np (it passes the TID even for the
        // calling thread) and pthread_create with an affinity attribute
        // (glibc applies it by TID from the creating thread). A thread may
        // pin itself with 0.
        for (op, errno) in [
            (&["thread-setaffinity", "0", "by-tid"][..], "EPERM"),
            (&["pthread-setaffinity", "0"], "EPERM"),
            (&["pthread-create-affinity", "0"], "EPERM"),
        ] {
            control(&ws, op).assert_ok();
            sandboxed(&ws, &[], op).assert_errno(errno);
        }
        let out = sandboxed(&ws, &[], &["thread-setaffinity", "0", "self"]);
        out.assert_ok();
        assert_eq!(out.json()["cpus"], serde_json::json!([0]), "{out:?}");
    }
}

#[test]
fn proc_the_command_may_still_change_itself() {
    let _host = host_sockets_unchanged();
    // What the usual tools do for the command they start: change their own
    // process (pid 0), then exec. Each as without cordon.
    // Each changes `key` of the probe's own `query 0` from what it is
    // without the tool.
    let tools: &[(&str, &str)] = &[
        ("nice -n 5 $P query 0", "nice"),
        ("taskset -c 0 $P query 0", "cpus"),
        ("ionice -c 3 $P query 0", "ioprio_class"),
        ("chrt -b 0 $P query 0", "policy"),
    ];
    let limits = [
        "ulimit -n 100; exec $P read /proc/self/limits",
        "prlimit --nofile=100:100 $P read /proc/self/limits",
    ];
    // The calls themselves on pid 0, each changing `key` of the caller's
    // own state (`own`, which the probe reads back) to `want`.
    let own_calls: &[(&[&str], &str, serde_json::Value)] = &[
        (
            &["prlimit", "0", "nofile", "64", "64"],
            "nofile",
            serde_json::json!([64, 64]),
        ),
        (
            &["setpriority", "process", "0", "19"],
            "nice",
            serde_json::json!(19),
        ),
        (
            &["sched-setattr", "0", "17"],
            "attr_nice",
            serde_json::json!(17),
        ),
        (
            &["sched-setscheduler", "0", "batch"],
            "policy",
            serde_json::json!(libc::SCHED_BATCH),
        ),
        (
            &["sched-setparam", "0"],
            "policy",
            serde_json::json!(libc::SCHED_OTHER),
        ),
        (
            &["sched-setaffinity", "0", "0"],
            "cpus",
            serde_json::json!([0]),
        ),
        (
            &["ioprio-set", "process", "0", "be:4"],
            "ioprio_level",
            serde_json::json!(4),
        ),
    ];
    for user in users() {
        let ws = Ws::new(user);
        let p = probe_bin().display().to_string();
        let both = |script: &str| {
            let s = format!("P={p}; {script}");
            let ctl = run_as(user, &ws.work(), &ws.env(), &["sh", "-c", &s]);
            let out = sandboxed_sh(&ws, &[], script);
            (ctl, out)
        };
        let plain = control(&ws, &["query", "0"]).json();
        for (script, key) in tools {
            let (ctl, out) = both(script);
            if *key != "cpus" || several_cpus() {
                assert_ne!(ctl.json()[key], plain[key], "control {script}: {ctl:?}");
            }
            assert_eq!(
                out.json()[key],
                ctl.json()[key],
                "{user:?} {script}: {out:?}"
            );
        }
        for script in limits {
            let (ctl, out) = both(script);
            for o in [&ctl, &out] {
                o.assert_ok();
                let data = o.json()["data"].as_str().unwrap().to_string();
                let line = data.lines().find(|l| l.starts_with("Max open files"));
                let words: Vec<&str> = line.unwrap().split_whitespace().collect();
                assert_eq!(&words[3..5], ["100", "100"], "{user:?} {script}: {o:?}");
            }
        }
        for (op, key, want) in own_calls {
            for out in [control(&ws, op), sandboxed(&ws, &[], op)] {
                out.assert_ok();
                assert_eq!(&out.json()["own"][key], want, "{user:?}: {out:?}");
            }
        }
        sandboxed(&ws, &[], &["migrate-pages", "0"]).assert_ok();
    }
}

// ---------------------------------------------------------------- network

#[test]
fn net_tcp_and_udp_over_ipv4_and_ipv6() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        for host in ["127.0.0.1", "::1"] {
            let listener = listener(&ws, &["listen-tcp", host, "0", "30"]);
            let port = listener.port();
            for op in ["connect-tcp", "connect-udp"] {
                control(&ws, &[op, host, &port]).assert_ok();
                let out = sandboxed(&ws, &[], &[op, host, &port]);
                out.assert_errno("EPERM");
                assert_eq!(out.json()["step"], "socket");
            }
            control(&ws, &["bind-tcp", host, "0"]).assert_ok();
            sandboxed(&ws, &[], &["bind-tcp", host, "0"]).assert_errno("EPERM");
            // With the network on, the same connect works.
            sandboxed(&ws, &["--network"], &["connect-tcp", host, &port]).assert_ok();
        }
    }
}

#[test]
fn net_raw_packet_netlink_vsock_and_mptcp_sockets() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let everyone: &[&[&str]] = &[
            &["socket", "netlink", "raw"],
            &["socket", "netlink", "dgram"],
            &["socket", "inet", "stream", "mptcp"],
            &["socket", "inet6", "stream", "mptcp"],
            &["socket", "inet", "dgram", "icmp"],
            // The kernel reads the family as an int: 0x1_0000_0002 is
            // AF_INET, and the filter compares the same 32 bits.
            &["socket-nr", "100000002", "1", "0"],
        ];
        // Raw and packet sockets need CAP_NET_RAW: only root's control.
        let root_only: &[&[&str]] = &[
            &["socket", "inet", "raw", "icmp"],
            &["socket", "inet6", "raw", "icmp"],
            &["socket", "packet", "raw"],
            &["socket", "packet", "dgram"],
        ];
        let vsock: &[&[&str]] = &[
            &["socket", "vsock", "stream"],
            &["socket", "vsock", "dgram"],
        ];
        for op in everyone.iter().chain(root_only).chain(vsock) {
            let ctl = control(&ws, op);
            let expect_control = everyone.contains(op) || user == User::Root;
            if vsock.contains(op) && ctl.json()["ok"] != true {
                // No vsock transport in this kernel: nothing to compare.
                eprintln!(
                    "note: {op:?} fails without cordon too: {}",
                    ctl.stdout.trim()
                );
            } else if op[1] == "inet" && op[2] == "dgram" && ctl.json()["ok"] != true {
                // Ping sockets depend on net.ipv4.ping_group_range.
                eprintln!(
                    "note: {op:?} fails without cordon too: {}",
                    ctl.stdout.trim()
                );
            } else if expect_control {
                ctl.assert_ok();
            }
            sandboxed(&ws, &[], op).assert_errno("EPERM");
        }
        // A socket pair of another family: the kernel makes both sockets
        // before it says the family cannot pair (EOPNOTSUPP); with the
        // network off the filter answers first.
        control(&ws, &["socketpair", "inet"]).assert_errno("EOPNOTSUPP");
        sandboxed(&ws, &[], &["socketpair", "inet"]).assert_errno("EPERM");
        let on = ["--network"];
        sandboxed(&ws, &on, &["socketpair", "inet"]).assert_errno("EOPNOTSUPP");
        // Local IPC stays.
        sandboxed(&ws, &[], &["socketpair"]).assert_ok();
        sandboxed(&ws, &[], &["socket", "unix", "stream"]).assert_ok();
    }
}

#[test]
fn net_vsock_is_denied_whatever_the_network() {
    let _host = host_sockets_unchanged();
    // A vsock reaches the hypervisor host past the guest's network stack.
    for user in users() {
        let ws = Ws::new(user);
        for kind in ["stream", "dgram", "seqpacket"] {
            let op = ["socket", "vsock", kind];
            let ctl = control(&ws, &op);
            match ctl.errno() {
                None => {
                    ctl.assert_ok();
                }
                // No vsock in this kernel, or no transport for this type:
                // the filter must still answer first.
                Some(e) => eprintln!("note: {op:?} fails without cordon too: {e}"),
            }
            for flags in [&[][..], &["--network"]] {
                sandboxed(&ws, flags, &op).assert_errno("EPERM");
            }
        }
        // And every other socket still works with the network on.
        let on = ["--network"];
        sandboxed(&ws, &on, &["socket", "inet", "stream"]).assert_ok();
        sandboxed(&ws, &on, &["socket", "unix", "stream"]).assert_ok();
    }
}

#[test]
fn net_io_uring_is_off_whatever_the_network() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        control(&ws, &["io-uring-setup"]).assert_ok();
        // No ring: the kernel says EBADF; under cordon the filter answers first.
        control(&ws, &["io-uring-enter"]).assert_errno("EBADF");
        for flags in [&[][..], &["--network"]] {
            sandboxed(&ws, flags, &["io-uring-setup"]).assert_errno("EPERM");
            sandboxed(&ws, flags, &["io-uring-enter"]).assert_errno("EPERM");
        }
    }
}

/// The i386 and x32 test programs, built once per test run with the C
/// compiler, or `None` (with a visible note) when it cannot build them.
fn entry_programs() -> Option<(PathBuf, Option<PathBuf>)> {
    static BUILT: std::sync::OnceLock<Option<(PathBuf, Option<PathBuf>)>> =
        std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe");
            let dir = scratch_root().join(format!("entry-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            let cc = |args: &[&str]| Command::new("cc").args(args).output();
            let e64 = dir.join("entry64");
            let out = cc(&[
                "-static",
                "-O2",
                "-o",
                e64.to_str().unwrap(),
                src.join("entry64.c").to_str().unwrap(),
            ]);
            match out {
                Ok(o) if o.status.success() => {}
                other => {
                    eprintln!("note: i386/x32 entry tests skipped: cc -static failed: {other:?}");
                    return None;
                }
            }
            // A real 32-bit program, when the compiler can target i386.
            let e32 = dir.join("entry32");
            let out = cc(&[
                "-m32",
                "-nostdlib",
                "-static",
                "-o",
                e32.to_str().unwrap(),
                src.join("entry32.S").to_str().unwrap(),
            ]);
            let e32 = match out {
                Ok(o) if o.status.success() => Some(e32),
                other => {
                    eprintln!("note: the 32-bit program is skipped: cc -m32 failed: {other:?}");
                    None
                }
            };
            Some((e64, e32))
        })
        .clone()
}

#[test]
fn net_i386_and_x32_syscall_entry() {
    let _host = host_sockets_unchanged();
    if !cfg!(target_arch = "x86_64") {
        return eprintln!("note: i386 and x32 entry exist on x86_64 only: skipped");
    }
    let Some((e64, e32)) = entry_programs() else {
        return;
    };
    let e64 = e64.to_str().unwrap();
    for user in users() {
        let ws = Ws::new(user);
        let creat = ws.s("outside/by-int80");
        let ret = |out: &Outcome| out.json()["ret"].as_i64().unwrap();
        // int $0x80 from a 64-bit program: the i386 table.
        for mode in ["i386-socketcall", "i386-socket"] {
            let ctl = run_as(user, &ws.work(), &ws.env(), &[e64, mode]);
            if ret(&ctl) == -38 {
                eprintln!("note: no IA32 emulation in this kernel: {mode} control is ENOSYS");
            } else {
                assert_eq!(ctl.status, 0, "control: {ctl:?}");
            }
            let out = cordon(&ws, &["run", "--", e64, mode]);
            assert_eq!((out.status, ret(&out)), (1, -1), "{user:?} {mode}: {out:?}");
        }
        let ctl = run_as(user, &ws.work(), &ws.env(), &[e64, "i386-creat", &creat]);
        if ctl.status == 0 {
            std::fs::remove_file(&creat).unwrap();
        }
        let out = cordon(&ws, &["run", "--", e64, "i386-creat", &creat]);
        assert_eq!(out.status, 1, "{out:?}");
        assert!(!Path::new(&creat).exists());
        // x32: native entry with bit 30 set. Most kernels leave x32 out
        // (ENOSYS); under cordon it is EPERM either way.
        let ctl = run_as(user, &ws.work(), &ws.env(), &[e64, "x32-socket"]);
        if ret(&ctl) == -38 {
            eprintln!("note: x32 is disabled in this kernel (control: ENOSYS)");
        }
        let out = cordon(&ws, &["run", "--", e64, "x32-socket"]);
        assert_eq!((out.status, ret(&out)), (1, -1), "{user:?}: {out:?}");
        // A whole 32-bit program: only exit gets through, so it reports by
        // its status (0 socket made, 1 EPERM).
        if let Some(e32) = &e32 {
            let e32 = e32.to_str().unwrap();
            let ctl = run_as(user, &ws.work(), &ws.env(), &[e32]);
            assert!(ctl.status == 0 || ctl.status == 2, "control: {ctl:?}");
            let out = cordon(&ws, &["run", "--", e32]);
            assert_eq!(out.status, 1, "{user:?}: {out:?}");
        }
    }
}

#[test]
fn net_abstract_unix_sockets_of_the_host() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let name = unique("abstract", user);
        let _listener = listener(&ws, &["listen-abstract", &name, "30"]);
        control(&ws, &["connect-abstract", &name]).assert_ok();
        let out = sandboxed(&ws, &[], &["connect-abstract", &name]);
        out.assert_errno("EPERM");
        assert_eq!(out.json()["step"], "connect");
        // Inside one sandbox, abstract and pathname sockets still work.
        let inner = format!("{name}-inner");
        let out = sandboxed_sh(
            &ws,
            &[],
            &format!(
                "$P listen-abstract {inner} 5 > a.ready & a=$!; \
                 $P listen-unix s.sock 5 > u.ready & u=$!; \
                 until [ -s a.ready ] && [ -s u.ready ]; do sleep 0.01; done; \
                 $P connect-abstract {inner}; $P connect-unix s.sock; kill $a $u"
            ),
        );
        let connects: Vec<String> = json_lines(&out)
            .iter()
            .filter(|v| v["op"].as_str().unwrap_or("").starts_with("connect"))
            .map(result_of)
            .collect();
        assert_eq!(connects, ["ok", "ok"], "{out:?}");
    }
}

/// A listening socket at a well-known daemon path, made for the test and
/// removed after it (the path must not exist before).
struct FakeDaemon {
    listener: Option<Child>,
    path: PathBuf,
    made_dir: bool,
}

impl FakeDaemon {
    fn start(path: &str) -> Option<FakeDaemon> {
        let path = PathBuf::from(path);
        if path.exists() {
            return None;
        }
        let dir = path.parent().unwrap();
        let made_dir = !dir.exists();
        std::fs::create_dir_all(dir).ok()?;
        let mut d = FakeDaemon {
            listener: None,
            path: path.clone(),
            made_dir,
        };
        let mut child = Command::new(probe_bin())
            .args(["listen-unix", path.to_str().unwrap(), "60"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        d.listener = Some(child);
        assert!(line.contains("\"ok\":true"), "{line}");
        // Like the system bus: anyone may connect.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        Some(d)
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        if let Some(c) = &mut self.listener {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.path);
        if self.made_dir {
            let _ = std::fs::remove_dir(self.path.parent().unwrap());
        }
    }
}

#[test]
fn net_pathname_socket_of_a_host_daemon_is_masked() {
    let _host = HOST_SOCKETS.write().unwrap_or_else(|e| e.into_inner());
    if !is_root() {
        return eprintln!("note: not root, so this test is skipped (it makes a socket in /run)");
    }
    let path = "/run/podman/podman.sock";
    let Some(_daemon) = FakeDaemon::start(path) else {
        return eprintln!("note: {path} exists on this host: skipped, to leave it alone");
    };
    for user in users() {
        let ws = Ws::new(user);
        control(&ws, &["connect-unix", path]).assert_ok();
        let out = sandboxed(&ws, &[], &["connect-unix", path]);
        out.assert_errno("ECONNREFUSED");
        assert_eq!(out.json()["step"], "connect");
        // What sits there now is an inert /dev/null.
        let st = sandboxed(&ws, &[], &["stat", path]);
        assert_eq!(st.json()["type"], "char", "{st:?}");
        sandboxed(&ws, &[], &["write", path]).assert_errno("EACCES");
        // A profile that names the socket as writable may use it.
        sandboxed(&ws, &["--allow-write", path], &["connect-unix", path]).assert_ok();
        // explain and --dry-run say what happens to it.
        let dry = cordon(&ws, &["run", "--dry-run", "--", "true"]);
        assert!(
            dry.stdout.contains(&format!(
                "op mask {path} (host daemon socket: /dev/null bound over it)"
            )),
            "{dry:?}"
        );
        let explain = cordon(&ws, &["explain", "--json"]);
        let j: serde_json::Value = serde_json::from_str(&explain.stdout).unwrap();
        let features = j["sandbox"]["features"].as_array().unwrap();
        let f = features
            .iter()
            .find(|f| f["kind"] == "daemon-socket" && f["path"] == path)
            .unwrap_or_else(|| panic!("no daemon-socket feature: {j}"));
        assert_eq!(f["enforced"], true, "{f}");
        assert!(f["mechanism"].as_str().unwrap().starts_with("mount"), "{f}");
        let residual = features.iter().find(|f| f["kind"] == "unix-connect");
        assert_eq!(residual.unwrap()["enforced"], false);
    }
}

// ------------------------------------------------------- resources and fds

#[test]
fn fds_only_the_callers_descriptors_reach_the_command() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        ws.write("outside/passed", "x");
        let file = File::open(ws.join("outside/passed")).unwrap();
        let (c, p) = (
            cordon_bin().to_str().unwrap(),
            probe_bin().to_str().unwrap(),
        );
        let fds = |out: &Outcome| -> Vec<(i64, String)> {
            out.assert_ok();
            out.json()["fds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let target = f["target"].as_str().unwrap_or("?");
                    // Each run has its own stdout and stderr pipes.
                    let target = if target.starts_with("pipe:") {
                        "pipe"
                    } else {
                        target
                    };
                    (f["fd"].as_i64().unwrap(), target.to_string())
                })
                .collect()
        };
        // Control: the caller's fd 5 reaches a command run without cordon.
        let expected = fds(&run_with_fd5(&ws, &[p, "list-fds"], &file));
        assert_eq!(
            expected.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [0, 1, 2, 5]
        );
        // Every policy shape: nothing to pin (no namespace for an
        // unprivileged caller), a .git to pin (namespace), read-only, and
        // no sandbox at all (the contract closes descriptors on every run).
        for flags in [&[][..], &["-p", "read-only"], &["-p", "full-access"]] {
            for git in [false, true] {
                if git {
                    ws.write("work/.git/config", "[core]\n");
                }
                for keep in [false, true] {
                    let mut argv = vec![c, "run"];
                    argv.extend_from_slice(flags);
                    if keep {
                        argv.extend(["--keep-fd", "5"]);
                    }
                    argv.extend(["--", p, "list-fds"]);
                    let got = fds(&run_with_fd5(&ws, &argv, &file));
                    let what = format!("{user:?} {flags:?} git={git} keep={keep}");
                    if keep {
                        assert_eq!(got, expected, "{what}");
                    } else {
                        // fds 0-2 only: the caller's fd 5 is closed at exec.
                        assert_eq!(got, expected[..3], "{what}");
                    }
                    // No Landlock ruleset, O_PATH, pipe or namespace fd of cordon's.
                    assert!(
                        !got.iter().any(|(_, t)| t.contains("anon_inode")),
                        "{what}: {got:?}"
                    );
                }
            }
            let _ = std::fs::remove_dir_all(ws.join("work/.git"));
        }
    }
}

/// `exec 9<DIR` in the calling shell, then the command changes modes,
/// owners and entries through descriptor 9: fchmod, fchown and openat work
/// on the descriptor's file whatever the sandbox says about its path
/// (Landlock checks paths at open, and a read-only mount of the namespace
/// is not the mount the caller's descriptor was opened on).
#[test]
fn fds_an_inherited_directory_fd_reaches_past_the_sandbox_unless_closed() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let roots = outside_of(&ws);
        ws.write("outside/dir/f", "x");
        let dir = ws.join("outside/dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.join("f"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let fd = File::open(&dir).unwrap();
        let (c, p) = (
            cordon_bin().to_str().unwrap(),
            probe_bin().to_str().unwrap(),
        );
        let uid = user.uid().to_string();
        let attacks: [&[&str]; 5] = [
            &["chmod", "/proc/self/fd/9/f", "666"],
            &["fchmod", "9", "777"],
            &["fchown", "9", &uid, &uid],
            &["fchmodat", "9", "f", "666"],
            &["create-at", "9", "planted"],
        ];
        let restore = || {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::set_permissions(dir.join("f"), std::fs::Permissions::from_mode(0o644))
                .unwrap();
            let _ = std::fs::remove_file(dir.join("planted"));
        };
        // Control: each one works through the inherited descriptor.
        for op in attacks {
            let argv = [&[p][..], op].concat();
            run_with_fd(&ws, &argv, &fd, 9).assert_ok();
        }
        restore();
        let before = snapshot(&roots);
        for flags in [&[][..], &["-p", "read-only"], &["-p", "full-access"]] {
            for op in attacks {
                let argv = [&[c, "run"][..], flags, &["--", p], op].concat();
                let out = run_with_fd(&ws, &argv, &fd, 9);
                // Closed at exec: EBADF on the descriptor; its /proc/self/fd
                // entry is gone.
                let want = if op[0] == "chmod" { "ENOENT" } else { "EBADF" };
                out.assert_errno(want);
            }
        }
        assert_unchanged(&before, &roots, "inherited directory fd");
        // Kept with --keep-fd, the descriptor keeps its power (SECURITY.md,
        // residual risks): the caller chose to pass it.
        let argv = [c, "run", "--keep-fd", "9", "--", p, "fchmod", "9", "700"];
        run_with_fd(&ws, &argv, &fd, 9).assert_ok();
        restore();
    }
}

#[test]
fn fds_keep_fd_of_stdio_or_of_a_closed_descriptor_is_refused() {
    let ws = Ws::new(users()[0]);
    let p = probe_bin().to_str().unwrap();
    for fd in ["0", "1", "2"] {
        let out = cordon(&ws, &["run", "--keep-fd", fd, "--", p, "create", "ran"]);
        out.assert_refused(&format!("--keep-fd {fd}"));
    }
    for args in [
        &["run", "--keep-fd", "9"][..],
        &["run", "--dry-run", "--keep-fd", "9"],
    ] {
        let mut args = args.to_vec();
        args.extend(["--", p, "create", "ran"]);
        cordon(&ws, &args).assert_refused("--keep-fd 9: descriptor 9 is not open");
    }
    assert!(!ws.join("work/ran").exists(), "nothing may run");
}

// -------------------------------------------------------------- terminals

/// A pty made outside the sandbox by the workspace's user, as another
/// terminal of theirs (a second tab, an ssh session) would be: the holder
/// keeps the master and prints the slave's name. Killed on drop.
struct OtherTerminal {
    child: Child,
    path: String,
}

impl OtherTerminal {
    fn open(ws: &Ws) -> OtherTerminal {
        let script = "import os, time\n\
                      m, s = os.openpty()\n\
                      print(os.ttyname(s), flush=True)\n\
                      time.sleep(60)\n";
        let mut child = command_as(
            ws.user,
            &ws.join("outside"),
            &ws.env(),
            &["python3", "-c", script],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
        let mut path = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut path)
            .unwrap();
        let path = path.trim().to_string();
        assert!(path.starts_with("/dev/pts/"), "{path:?}");
        OtherTerminal { child, path }
    }
}

impl Drop for OtherTerminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Another pty the caller can reach (its own user's; for root, any): the
/// control opens it for reading and for writing. Under cordon, without a
/// mount namespace, Landlock grants no rule on it, and a read scope of `/`
/// does not reach device nodes under /dev: EACCES. In the namespace
/// (always for root; for an unprivileged caller in a git workspace), /dev/pts
/// is a private instance that does not hold it: ENOENT. Through the
/// holder's /proc/PID/fd: EACCES (ptrace check).
#[test]
fn term_another_pty_cannot_be_opened() {
    let _host = host_sockets_unchanged();
    for user in users() {
        for git in [false, true] {
            let ws = Ws::new(user);
            if git {
                ws.write("work/.git/config", "[core]\n");
            }
            let other = OtherTerminal::open(&ws);
            let by_fd = format!("/proc/{}/fd/3", other.child.id());
            for mode in ["r", "rw"] {
                control(&ws, &["open", &other.path, mode]).assert_ok();
                control(&ws, &["open", &by_fd, mode]).assert_ok();
            }
            // Every profile shape, and the network on.
            for flags in [&[][..], &["-p", "read-only"], &["--network"]] {
                let want = if plan_has_namespace(&ws, flags) {
                    "ENOENT"
                } else {
                    "EACCES"
                };
                for mode in ["r", "w", "rw"] {
                    let what = format!("{user:?} git={git} {flags:?} {mode}");
                    let out = sandboxed(&ws, flags, &["open", &other.path, mode]);
                    assert_eq!(out.errno().as_deref(), Some(want), "{what}: {out:?}");
                    let out = sandboxed(&ws, flags, &["open", &by_fd, mode]);
                    assert_eq!(out.errno().as_deref(), Some("EACCES"), "{what}: {out:?}");
                }
            }
            // --best-effort on a host where the planned namespace cannot be
            // had: no private /dev/pts, and no rule on the host's either.
            if plan_has_namespace(&ws, &[]) {
                let (c, p) = (
                    cordon_bin().to_str().unwrap(),
                    probe_bin().to_str().unwrap(),
                );
                let argv = [
                    p,
                    "deny-syscall",
                    "unshare=EPERM",
                    "--",
                    c,
                    "run",
                    "--best-effort",
                    "--",
                    p,
                    "open",
                    &other.path,
                    "rw",
                ];
                let out = run_as(user, &ws.work(), &ws.env(), &argv);
                assert!(out.stderr.contains("not enforced"), "{user:?}: {out:?}");
                assert_eq!(out.errno().as_deref(), Some("EACCES"), "{user:?}: {out:?}");
            }
        }
    }
}

/// Whether `cordon run FLAGS` in `ws` sets up the mount namespace, as its
/// dry run says.
fn plan_has_namespace(ws: &Ws, flags: &[&str]) -> bool {
    let args = [&["run", "--dry-run"][..], flags, &["--", "true"]].concat();
    let out = cordon(ws, &args);
    assert_eq!(out.status, 0, "{out:?}");
    out.stdout.contains("mounts: private mount namespace")
}

/// Root's other terminals and raw devices: a virtual console (what is typed
/// on it), its screen memory (/dev/vcs1), a serial line, the system
/// console, the kernel log, the disk itself (which would read any file,
/// deny entries included). Root reads them without cordon; under it a read
/// scope of `/` stops at the device nodes of /dev: EACCES.
#[test]
fn term_consoles_serial_lines_vcs_and_disks_cannot_be_read() {
    let _host = host_sockets_unchanged();
    if !is_root() {
        eprintln!("note: not root: these devices are root's alone");
        return;
    }
    let ws = Ws::new(User::Root);
    let disk = std::fs::read_dir("/sys/block")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| !n.starts_with("zram") && !n.starts_with("ram"))
        .map(|n| format!("/dev/{n}"));
    let mut tried = Vec::new();
    // Issue 11 item 8: root sees no block device, /dev/mem, /dev/kmem,
    // /dev/port, loop-control or kmsg; nor another terminal (item 4).
    let devices = [
        "/dev/tty1",
        "/dev/vcs1",
        "/dev/ttyS0",
        "/dev/console",
        "/dev/kmsg",
        "/dev/mem",
        "/dev/kmem",
        "/dev/port",
        "/dev/loop-control",
        "/dev/loop0",
    ];
    for dev in devices.iter().map(|d| d.to_string()).chain(disk) {
        if !Path::new(&dev).exists() || control(&ws, &["open", &dev, "r"]).json()["ok"] != true {
            eprintln!("note: {dev} cannot be opened here even without cordon; skipped");
            continue;
        }
        tried.push(dev.clone());
        // The private /dev does not hold it at all.
        for mode in ["r", "rw"] {
            let out = sandboxed(&ws, &[], &["open", &dev, mode]);
            assert_eq!(
                out.errno().as_deref(),
                Some("ENOENT"),
                "{dev} {mode}: {out:?}"
            );
        }
    }
    assert!(
        !tried.is_empty(),
        "no console, serial line or disk to try on this host"
    );
    // What the command sees in /dev: the device list and nothing else.
    let out = cordon(&ws, &["run", "--", "ls", "-A", "/dev"]);
    assert_eq!(out.status, 0, "{out:?}");
    let names: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        names,
        [
            "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout",
            "tty", "urandom", "zero"
        ],
        "{out:?}"
    );
    // An explicit grant brings one back, readable.
    let granted = &tried[0];
    let out = sandboxed(&ws, &["--allow-device", granted], &["open", granted, "r"]);
    out.assert_ok();
}

// --------------------------------------------- wave 2: the attack review
// Issue 11: each item as the review tried it, with a control, the errno,
// the outside state checked, as root and as nobody.

/// A repository with one commit at `rel`.
fn repo(ws: &Ws, rel: &str) -> PathBuf {
    let dir = ws.mkdir(rel);
    ws.write(&format!("{rel}/README"), "hello\n");
    git(ws, &dir, &["init", "-q"]);
    git(ws, &dir, &["add", "README"]);
    git(ws, &dir, &["commit", "-q", "-m", "init"]);
    dir
}

/// `work`, a repository with `outside/lib` added as the submodule `sub`.
fn repo_with_submodule(ws: &Ws) -> PathBuf {
    let lib = repo(ws, "outside/lib");
    let top = repo(ws, "work");
    git(
        ws,
        &top,
        &["submodule", "add", "-q", lib.to_str().unwrap(), "sub"],
    );
    top
}

/// Item 1: a caller with real uid 0 and another effective uid (a daemon
/// that called seteuid) is judged privileged, its ids collapse to the
/// effective ones and it keeps no capability: setresuid(0, 0, 0) fails.
/// Siblings: the saved set-group-id and the securebits that switch the
/// kernel's own capability clearing off.
#[test]
fn identity_a_real_uid_0_behind_another_euid_regains_nothing() {
    let _host = host_sockets_unchanged();
    if !is_root() {
        return eprintln!("note: not root: only root can make a mixed identity");
    }
    let ws = Ws::new(User::Nobody);
    let (c, p) = (
        cordon_bin().to_str().unwrap(),
        probe_bin().to_str().unwrap(),
    );
    let roots = outside_of(&ws);
    ws.write("outside/f", "x");
    let before = snapshot(&roots);
    for setpriv in [
        &["--euid=65534"][..],
        &["--euid=65534", "--securebits", "+no_setuid_fixup"],
        &["--euid=65534", "--egid=65534", "--keep-groups"],
    ] {
        let with = |argv: &[&str]| {
            let mut full = vec!["setpriv"];
            full.extend_from_slice(setpriv);
            full.push("--");
            full.extend_from_slice(argv);
            run_as(User::Root, &ws.work(), &ws.env(), &full)
        };
        // Control: the real uid 0 is a way back to every capability.
        let ctl = with(&[p, "setresuid-root"]);
        ctl.assert_ok();
        assert_eq!(ctl.json()["setresuid"], "ok", "{setpriv:?}: {ctl:?}");
        assert_ne!(ctl.json()["cap_prm"], "0000000000000000", "{ctl:?}");
        let out = with(&[c, "run", "--", p, "setresuid-root"]);
        out.assert_ok();
        let j = out.json();
        assert_eq!(j["setresuid"], "EINVAL", "{setpriv:?}: {out:?}");
        assert_eq!(j["uids"], serde_json::json!([NOBODY, NOBODY, NOBODY]));
        for set in ["cap_eff", "cap_prm", "cap_inh", "cap_amb"] {
            assert_eq!(j[set], "0000000000000000", "{set}: {out:?}");
        }
        // Nor may it chmod a file outside the roots with what it had.
        let f = ws.s("outside/f");
        let out = with(&[c, "run", "--", p, "chmod", &f, "777"]);
        out.assert_errno("EROFS");
        assert_unchanged(&before, &roots, "mixed identity");
    }
    // A setuid cordon would hand its owner's ids to anyone: refused.
    let suid = ws.join("outside/cordon-suid");
    std::fs::copy(c, &suid).unwrap();
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let out = run_as(
        User::Nobody,
        &ws.work(),
        &ws.env(),
        &[suid.to_str().unwrap(), "run", "--", p, "getuid"],
    );
    out.assert_refused("setuid");
}

/// Item 3: a writable root swapped for a symlink between planning and
/// enforcement. The review's swapper won 389 of 400 runs, because the
/// Landlock rules reopened each root by name. Here the swap happens exactly
/// in between (the `plan-then-apply` example builds the sandbox as `run`
/// does, after a pause): the rule is on the planned directory, so the write
/// through the swapped name is denied, or the run refused, and never lands
/// outside.
#[test]
fn race_a_writable_root_swapped_for_a_symlink_between_plan_and_apply() {
    use std::io::Write as _;
    let _host = host_sockets_unchanged();
    let harness = cordon_bin()
        .parent()
        .unwrap()
        .join("examples/plan-then-apply");
    let harness = support::copy_for_others(&harness);
    for user in users() {
        let ws = Ws::new(user);
        let root = ws.s("outside/race/root");
        let real = ws.s("outside/race/root.real");
        let target = ws.s("outside/target");
        ws.mkdir("outside/race/root");
        ws.mkdir("outside/target");
        let swap = || {
            std::fs::rename(&root, &real).unwrap();
            std::os::unix::fs::symlink(&target, &root).unwrap();
        };
        let unswap = || {
            std::fs::remove_file(&root).unwrap();
            std::fs::rename(&real, &root).unwrap();
        };
        let file = format!("{root}/f");
        // Control: after the swap, a write through the name lands outside.
        swap();
        control(&ws, &["write", &file]).assert_ok();
        assert!(Path::new(&format!("{target}/f")).exists());
        std::fs::remove_file(format!("{target}/f")).unwrap();
        unswap();
        // Each way the swap can be met: the placeholder step (default
        // profile), the namespace's identity checks (no protected names),
        // Landlock's rule on the planned descriptor (no namespace either:
        // unshare denied, --best-effort).
        let p = probe_bin().to_str().unwrap();
        let cases: [(&str, &[&str], &[&str]); 4] = [
            ("symlink", &[], &[]),
            ("directory", &["--unprotected"], &[]),
            ("symlink", &["--unprotected"], &[]),
            (
                "symlink",
                &["--unprotected", "--best-effort"],
                &[p, "deny-syscall", "unshare=EPERM", "--"],
            ),
        ];
        for (mode, flags, wrap) in cases {
            let roots = vec![ws.join("outside/target")];
            let before = snapshot(&roots);
            let mut argv: Vec<&str> = wrap.to_vec();
            argv.push(harness.to_str().unwrap());
            argv.extend_from_slice(flags);
            argv.extend([root.as_str(), "--", p, "write", &file]);
            let mut child = command_as(ws.user, &ws.work(), &ws.env(), &argv)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            assert_eq!(line.trim(), "planned");
            // Swapped for a symlink to the outside target, or for another
            // directory of the same name (a rename, no symlink at all).
            match mode {
                "symlink" => swap(),
                _ => {
                    std::fs::rename(&root, &real).unwrap();
                    ws.mkdir("outside/race/root");
                }
            }
            child.stdin.take().unwrap().write_all(b"go\n").unwrap();
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
            let status = child.wait().unwrap();
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            let out = Outcome {
                status: status.code().unwrap_or(-1),
                stdout: rest,
                stderr: err,
            };
            // Refused (the tree changed under cordon: the placeholder step or
            // a mount noticed first), or run and denied.
            if out.status == 125 {
                assert!(
                    out.stderr.contains("nothing ran"),
                    "{user:?} {mode} {flags:?}: {out:?}"
                );
                assert!(
                    wrap.is_empty(),
                    "{user:?}: without a namespace it runs: {out:?}"
                );
            } else {
                // Landlock: the rule is on the planned directory, not on
                // what the name leads to now.
                out.assert_errno("EACCES");
            }
            assert_unchanged(&before, &roots, "a root swapped after planning");
            match mode {
                "symlink" => unswap(),
                _ => {
                    std::fs::remove_dir_all(&root).unwrap();
                    std::fs::rename(&real, &root).unwrap();
                }
            }
        }
    }
}

/// Item 6: a protected name that does not exist yet cannot be created
/// (a placeholder holds it), and nothing stays behind once the sandbox
/// ends. Siblings: every default name, a file name, a `~/` name when $HOME
/// is a writable root, two runs sharing one directory.
#[test]
fn protected_names_that_do_not_exist_cannot_be_created_and_leave_nothing() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let work = ws.work();
        let before = std::fs::read_dir(&work).unwrap().count();
        // Directory names: mkdir meets the placeholder (EEXIST), creating
        // inside it meets a read-only, unsearchable directory.
        for name in [
            ".git", ".cordon", ".agents", ".codex", ".vscode", ".idea", ".claude",
        ] {
            let path = ws.s(&format!("work/{name}"));
            wait_for_placeholders(&ws);
            control(&ws, &["mkdir", &path]).assert_ok();
            std::fs::remove_dir(&path).unwrap();
            sandboxed(&ws, &[], &["mkdir", &path]).assert_errno("EEXIST");
            let inside = format!("{path}/config");
            let errno = match user {
                User::Root => "EROFS",
                User::Nobody => "EACCES",
            };
            sandboxed(&ws, &[], &["create", &inside]).assert_errno(errno);
        }
        // File names: a read-only empty file holds them.
        for name in [".mcp.json", ".gitmodules", ".envrc"] {
            let path = ws.s(&format!("work/{name}"));
            let errno = match user {
                User::Root => "EROFS",
                User::Nobody => "EACCES",
            };
            sandboxed(&ws, &[], &["write", &path]).assert_errno(errno);
            sandboxed(&ws, &[], &["unlink", &path]).assert_errno("EBUSY");
        }
        // Renaming the placeholder away to take its name: EBUSY.
        let moved = ws.s("work/moved");
        sandboxed(&ws, &[], &["rename", &ws.s("work/.git"), &moved]).assert_errno("EBUSY");
        wait_for_placeholders(&ws);
        assert_eq!(
            std::fs::read_dir(&work).unwrap().count(),
            before,
            "{user:?}: something stayed in the workspace"
        );
        // Every shell's startup files when $HOME is a writable root
        // (adversarial pass 27: `.bash_login` and `.zshenv` were missed).
        let home = ws.s("home");
        for name in [
            ".bashrc",
            ".bash_login",
            ".bash_logout",
            ".zshenv",
            ".zlogin",
        ] {
            let rc = ws.s(&format!("home/{name}"));
            sandboxed(&ws, &["-w", &home], &["write", &rc]).assert_errno_in(&["EROFS", "EACCES"]);
            wait_for_placeholders(&ws);
            assert!(!Path::new(&rc).exists(), "{user:?} {name}");
            // Control: without cordon the same write succeeds.
            control(&ws, &["write", &rc]).assert_ok();
            std::fs::remove_file(&rc).unwrap();
        }
        // Below a missing `~/.config` or `~/.local/share` the whole
        // directory is held (ENOENT for the file, EROFS for its parent).
        for rc in [
            "home/.config/fish/config.fish",
            "home/.local/share/fish/vendor_conf.d/x.fish",
            "home/.config/zsh/.zshrc",
        ] {
            sandboxed(&ws, &["-w", &home], &["write", &ws.s(rc)])
                .assert_errno_in(&["EROFS", "EACCES", "ENOENT"]);
        }
        // Two runs in one directory: the first's placeholders hold while the
        // second starts and ends; nothing stays once both are done.
        let long = cordon(&ws, &["run", "--", "sh", "-c", "sleep 0.5 &"]);
        assert_eq!(long.status, 0, "{long:?}");
        let mut first = command_as(
            ws.user,
            &work,
            &ws.env(),
            &[cordon_bin().to_str().unwrap(), "run", "--", "sleep", "1"],
        )
        .spawn()
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        sandboxed(&ws, &[], &["mkdir", &ws.s("work/.agents")]).assert_errno("EEXIST");
        assert!(
            ws.join("work/.agents").exists(),
            "held while the first runs"
        );
        assert!(first.wait().unwrap().success());
        wait_for_placeholders(&ws);
        assert!(!ws.join("work/.agents").exists(), "{user:?}");
    }
}

/// Item 7: every `.git` a repository owns is protected, and what its config
/// names: a submodule's pointer file (rewritten to a planted gitdir in the
/// review), a nested clone's config (with --scan-nested-git), a husky-style
/// core.hooksPath that does not exist yet.
#[test]
fn nested_repositories_and_the_paths_git_config_names_stay_read_only() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let top = repo_with_submodule(&ws);
        git(&ws, &top, &["config", "core.hooksPath", ".husky/_"]);
        repo(&ws, "work/vendor/dep");
        let roots = vec![ws.join("outside"), ws.join("work/sub/.git")];
        let pointer = ws.s("work/sub/.git");
        let hook = ws.s("work/.husky/_/pre-commit");
        let nested = ws.s("work/vendor/dep/.git/config");
        // Controls: each is writable without cordon.
        for path in [&pointer, &nested] {
            control(&ws, &["overwrite", path]).assert_ok();
        }
        std::fs::write(&pointer, "gitdir: ../.git/modules/sub\n").unwrap();
        git(
            &ws,
            &ws.join("work/vendor/dep"),
            &["config", "user.name", "x"],
        );
        let before = snapshot(&roots);
        // The pointer file and the hooks path: always.
        sandboxed(&ws, &[], &["overwrite", &pointer]).assert_errno("EROFS");
        let mkdir = ["mkdir", &ws.s("work/.husky")];
        sandboxed(&ws, &[], &mkdir).assert_errno("EEXIST");
        sandboxed(&ws, &[], &["create", &hook]).assert_errno_in(&["EACCES", "EROFS", "ENOENT"]);
        // The nested clone: with the scan.
        let scan = ["--scan-nested-git"];
        sandboxed(&ws, &scan, &["overwrite", &nested]).assert_errno("EROFS");
        // Without it, a residual explain names (not found by tier 1).
        let out = cordon(&ws, &["explain", &nested]);
        assert!(out.stdout.contains("write"), "{out:?}");
        wait_for_placeholders(&ws);
        assert_unchanged(&before, &roots, "nested repositories");
        assert!(!ws.join("work/.husky").exists(), "{user:?}");
    }
}

/// A project inside a wider writable root (a repository under a writable
/// `/tmp` or `$HOME`): git run there uses the project's repository, so its
/// `core.hooksPath` is held too, not only a `.git` at the root's top.
#[test]
fn a_project_inside_a_wider_root_keeps_its_hooks_path() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let proj = repo(&ws, "work/proj");
        git(&ws, &proj, &["config", "core.hooksPath", ".husky/_"]);
        let hooks = ws.s("work/proj/.husky");
        let (wide, cwd) = (ws.s("work"), proj.to_str().unwrap().to_string());
        let flags = ["-w", &wide, "-C", &cwd];
        // Control: the sandbox allows making a sibling of it.
        sandboxed(&ws, &flags, &["mkdir", &ws.s("work/proj/.other")]).assert_ok();
        sandboxed(&ws, &flags, &["mkdir", &hooks]).assert_errno("EEXIST");
        let out = cordon(
            &ws,
            &["run", "-w", &wide, "-C", &cwd, "--dry-run", "--", "true"],
        );
        assert!(
            out.stdout.contains("protected ") && out.stdout.contains("/proj/.husky/_"),
            "{out:?}"
        );
        wait_for_placeholders(&ws);
        let gone = (0..500).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            !proj.join(".husky").exists()
        });
        assert!(gone, "{user:?}: the placeholder stayed");
    }
}

/// Item 10: an unprivileged caller gets the read-only world too: its own
/// files outside the roots keep their mode, times and xattrs.
#[test]
fn metadata_of_the_callers_own_files_outside_the_roots() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let roots = outside_of(&ws);
        ws.write("outside/mine", "x");
        let f = ws.s("outside/mine");
        for op in [&["chmod", &f, "600"][..], &["utime", &f], &["setxattr", &f]] {
            let ctl = control(&ws, op);
            if ctl.errno().as_deref() == Some("EOPNOTSUPP") {
                eprintln!("note: no user xattrs on this filesystem: {op:?} skipped");
                continue;
            }
            ctl.assert_ok();
        }
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let before = snapshot(&roots);
        for op in [&["chmod", &f, "600"][..], &["utime", &f], &["setxattr", &f]] {
            let out = sandboxed(&ws, &[], op);
            out.assert_errno_in(&["EROFS", "EOPNOTSUPP"]);
        }
        sandboxed(&ws, &["-p", "read-only"], &["chmod", &f, "600"]).assert_errno("EROFS");
        assert_unchanged(&before, &roots, "metadata");
    }
}

/// Item 11: only a policy that asks for nothing runs unsandboxed. One that
/// writes everywhere but protects .git keeps .git read-only; one that also
/// restricts reads is refused (writing / would make every path readable).
#[test]
fn full_access_is_only_a_policy_that_asks_for_nothing() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws, "work");
        let wide = ws.write(
            "outside/wide.toml",
            "[file_system]\nread = [\":root\"]\nwrite = [\":root\", \":cwd\"]\nprotected = [\".git\"]\n[network]\nenabled = true\n",
        );
        let config = ws.s("work/.git/config");
        let out = sandboxed(
            &ws,
            &["-p", wide.to_str().unwrap()],
            &["env", "CORDON_SANDBOX"],
        );
        assert_eq!(out.json()["value"], "landlock", "{out:?}");
        sandboxed(
            &ws,
            &["-p", wide.to_str().unwrap()],
            &["overwrite", &config],
        )
        .assert_errno("EROFS");
        let minimal = ws.write(
            "outside/minimal.toml",
            "[file_system]\nread = [\":minimal\"]\nwrite = [\":root\"]\nprotected = [\".git\"]\n[network]\nenabled = true\n",
        );
        let out = sandboxed(
            &ws,
            &["-p", minimal.to_str().unwrap()],
            &["read", "/etc/shadow"],
        );
        out.assert_refused("read list cannot hold");
        // The same through --policy-json.
        let json =
            r#"{"network":{"enabled":true},"file_system":{"read":[":minimal"],"write":[":root"]}}"#;
        let out = sandboxed(&ws, &["--policy-json", json], &["read", "/etc/shadow"]);
        out.assert_refused("read list cannot hold");
        // Full access itself: nothing applied.
        let out = sandboxed(&ws, &["-p", "full-access"], &["env", "CORDON_SANDBOX"]);
        assert_eq!(out.json()["value"], "none", "{out:?}");
    }
}

/// Item 12: processes the command leaves in the sandbox are killed when it
/// exits (the default), kept with --keep-leftovers; a control without
/// cordon shows them living on.
#[test]
fn leftover_processes_are_killed_when_the_command_exits() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let gone = |pid: &str| {
            (0..300).any(|_| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map_or(true, |s| s.contains(") Z "))
            })
        };
        // A plain background child, and one that leaves the session.
        let quiet = ">/dev/null 2>&1 </dev/null";
        for script in [
            format!("sleep 60 {quiet} & echo $!"),
            format!("setsid sleep 60 {quiet} & echo $!"),
        ] {
            let script = script.as_str();
            let ctl = run_as(user, &ws.work(), &ws.env(), &["sh", "-c", script]);
            let pid = ctl.stdout.trim().to_string();
            assert!(!gone(&pid), "control: {pid} died");
            let _ = Command::new("kill").args(["-9", &pid]).status();
            let out = cordon(&ws, &["run", "--", "sh", "-c", script]);
            let pid = out.stdout.trim().to_string();
            assert!(gone(&pid), "{user:?}: {script}: {pid} outlived the sandbox");
            let kept = cordon(&ws, &["run", "--keep-leftovers", "--", "sh", "-c", script]);
            let pid = kept.stdout.trim().to_string();
            assert!(!gone(&pid), "{user:?}: --keep-leftovers killed {pid}");
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
        // Chains that fork and exit as fast as they can (the review's
        // hop3): no pid stays put long enough for a scan of /proc, so the
        // reaper kills from inside the sandbox, all at once. Each chain
        // writes a mark once it has hopped for a second.
        let mark = ws.s("work/survived");
        let hop = format!(
            "import os, time\n\
             for _ in range(4):\n\
             \x20   if os.fork() == 0:\n\
             \x20       os.setsid(); t = time.time()\n\
             \x20       while time.time() - t < 1.0:\n\
             \x20           if os.fork() > 0: os._exit(0)\n\
             \x20       open({mark:?}, 'a').write('x')\n\
             \x20       time.sleep(30); os._exit(0)\n\
             time.sleep(0.2)\n"
        );
        let out = cordon(&ws, &["run", "--", "python3", "-c", &hop]);
        assert_eq!(out.status, 0, "{out:?}");
        std::thread::sleep(std::time::Duration::from_millis(2500));
        assert!(
            !Path::new(&mark).exists(),
            "{user:?}: a hopping chain survived"
        );
    }
}

/// Adversarial pass 2: the reaper (in the sandbox's Landlock domain, with
/// no seccomp filter) could be killed by the command, so its leftovers
/// lived on, or attached with ptrace and made to run a shell free of the
/// filter (prlimit on outside processes, UDP with the network off, raw
/// sockets as root). The command now runs in a domain nested in the
/// reaper's: signals and ptrace towards it fail with EPERM, and the
/// leftover still dies. The control: the same calls on a process of the
/// same user outside any sandbox succeed.
#[test]
fn the_reaper_cannot_be_killed_or_traced_by_the_command() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let p = probe_bin().display().to_string();
        // Control: a process of the same user, outside: attach works.
        let target = victim(&ws, &[]);
        control(&ws, &["ptrace-attach", &target.pid]).assert_ok();
        control(&ws, &["kill", &target.pid, "0"]).assert_ok();
        drop(target);
        // Only this run's sentinel and reaper: their command lines (cordon's
        // own, copied by fork) carry this token; other tests' do not.
        let token = format!("reaper-test-{}-{user:?}", std::process::id());
        let script = format!(
            "for pid in $(pgrep -f '^[^ ]*cordon run -- sh -c .*{token}'); do \
               echo \"pid $pid\"; {p} ptrace-attach $pid; {p} kill $pid 9; {p} kill $pid 0; \
             done; \
             setsid {p} sleep 60 >/dev/null 2>&1 </dev/null & echo \"leftover $!\" # {token}"
        );
        let out = cordon(&ws, &["run", "--", "sh", "-c", &script]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        let pids = out.stdout.lines().filter(|l| l.starts_with("pid ")).count();
        // The sentinel (outside) and the reaper (the parent domain).
        assert!(pids >= 2, "{user:?}: {out:?}");
        let results: Vec<serde_json::Value> = out
            .stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(results.len(), 3 * pids, "{out:?}");
        for r in &results {
            assert_eq!(r["error"], "EPERM", "{user:?}: {r}");
        }
        let leftover = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("leftover "))
            .unwrap()
            .to_string();
        let gone = (0..300).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            std::fs::read_to_string(format!("/proc/{leftover}/stat"))
                .map_or(true, |s| s.contains(") Z "))
        });
        assert!(
            gone,
            "{user:?}: the leftover {leftover} outlived the sandbox"
        );
    }
}

/// Adversarial pass 2: root's placeholders in a shared sticky directory
/// (`/tmp`) stayed behind when an unprivileged run took them over and
/// ended last: its sentinel may not remove root's entries there. The run
/// whose user owns a placeholder now waits for the others and removes it.
#[test]
fn placeholders_go_when_another_users_run_ends_last() {
    if !is_root() {
        return eprintln!("note: not root, so this test is skipped (it needs two users)");
    }
    let ws = Ws::new(User::Nobody);
    // Like /tmp: root's, sticky, writable by everyone (the owner of a
    // sticky directory may remove anything in it).
    let shared = ws.mkdir("shared");
    std::os::unix::fs::chown(&shared, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let agents = shared.join(".agents");
    let c = cordon_bin().to_str().unwrap();
    let w = shared.to_str().unwrap();
    let spawn = |user: User, secs: &str| {
        command_as(
            user,
            &ws.work(),
            &ws.env(),
            &[c, "run", "-w", w, "--", "sleep", secs],
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
    };
    let mut first = spawn(User::Root, "1");
    let made = (0..500).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        agents.exists()
    });
    assert!(made, "root's run made no placeholder");
    let owner = std::fs::metadata(&agents).unwrap().uid();
    assert_eq!(owner, 0);
    let mut second = spawn(User::Nobody, "3");
    assert!(first.wait().unwrap().success());
    assert!(second.wait().unwrap().success());
    let gone = (0..600).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        !agents.exists()
    });
    assert!(gone, "root's placeholder {} stayed", agents.display());
}

/// Sibling of item 12: sockets of the caller's own session run commands
/// outside the sandbox (tmux `new-window`, an ssh-agent signing with the
/// user's keys) even when they lie in a writable root such as /tmp; they
/// are masked like a host daemon's. Stand-ins listen where tmux and the
/// agent would (`/tmp/tmux-UID/`, `$SSH_AUTH_SOCK`).
#[test]
fn session_sockets_in_a_writable_root_are_masked() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let tmux_dir = format!("/tmp/tmux-{}", user.uid());
        let _ = std::fs::create_dir(&tmux_dir);
        if user == User::Nobody {
            std::os::unix::fs::chown(&tmux_dir, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        let tmux = format!("{tmux_dir}/cordon-attack-{}", std::process::id());
        let agent = ws.s("tmp/agent.sock");
        let _server = Background::start(&ws, &ws.work(), &[], &["listen-unix", &tmux, "30"]);
        let _agent = Background::start(&ws, &ws.work(), &[], &["listen-unix", &agent, "30"]);
        let mut env = ws.env();
        env.push(("SSH_AUTH_SOCK".into(), agent.clone()));
        let p = probe_bin().to_str().unwrap();
        for sock in [&tmux, &agent] {
            let ctl = run_as(user, &ws.work(), &env, &[p, "connect-unix", sock]);
            ctl.assert_ok();
            let argv = [
                cordon_bin().to_str().unwrap(),
                "run",
                "--",
                p,
                "connect-unix",
                sock,
            ];
            let out = run_as(user, &ws.work(), &env, &argv);
            out.assert_errno("ECONNREFUSED");
        }
        // Granting the socket itself lets it through, as for a daemon's.
        let argv = [
            cordon_bin().to_str().unwrap(),
            "run",
            "--allow-write",
            &agent,
            "--",
            p,
            "connect-unix",
            &agent,
        ];
        run_as(user, &ws.work(), &env, &argv).assert_ok();
        let _ = std::fs::remove_file(&tmux);
    }
}

/// Sibling of items 2 and 4 (inherited state): System V shared memory and
/// POSIX message queues live in the IPC namespace, which the sandbox has
/// of its own: a segment or queue made outside cannot be reached.
#[test]
fn ipc_of_processes_outside_is_out_of_reach() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let made = control(&ws, &["shm-create"]);
        made.assert_ok();
        let id = made.json()["id"].to_string();
        control(&ws, &["shm-attach", &id]).assert_ok();
        sandboxed(&ws, &[], &["shm-attach", &id]).assert_errno("EINVAL");
        control(&ws, &["shm-remove", &id]).assert_ok();
        let queue = format!("/cordon-attack-{}-{user:?}", std::process::id());
        control(&ws, &["mq-create", &queue]).assert_ok();
        control(&ws, &["mq-open", &queue]).assert_ok();
        sandboxed(&ws, &[], &["mq-open", &queue]).assert_errno("ENOENT");
        control(&ws, &["mq-unlink", &queue]).assert_ok();
    }
}

/// Sibling of item 7 from the adversarial pass: `core.hooksPath =
/// ./x/../y`. The kernel takes `..` after following `x`, so making `x` a
/// symlink moved the hooks directory to one the command wrote, and the
/// user's next `git commit` ran its hook. `x` is held (missing: a
/// placeholder; existing: read-only, so it cannot be swapped).
#[test]
fn git_hooks_path_stepping_back_through_a_directory() {
    let _host = host_sockets_unchanged();
    for user in users() {
        for x_exists in [false, true] {
            let ws = Ws::new(user);
            let top = repo(&ws, "work");
            git(&ws, &top, &["config", "core.hooksPath", "./x/../y"]);
            if x_exists {
                ws.mkdir("work/x");
            }
            let plant = "mv x x.old 2>/dev/null; mkdir -p d1/d2 && ln -s d1/d2 x && mkdir -p d1/y \
                         && printf '#!/bin/sh\\necho HOOKRAN\\n' > d1/y/pre-commit \
                         && chmod +x d1/y/pre-commit";
            // Control: planted without cordon, the hook runs.
            if !x_exists {
                let ctl = run_as(user, &top, &ws.env(), &["sh", "-c", plant]);
                assert_eq!(ctl.status, 0, "{ctl:?}");
                let out = git(&ws, &top, &["commit", "-q", "--allow-empty", "-m", "c"]);
                assert!(out.stdout.contains("HOOKRAN") || out.stderr.contains("HOOKRAN"));
                let _ = std::fs::remove_file(top.join("x"));
                let _ = std::fs::remove_dir_all(top.join("d1"));
            }
            let out = cordon(&ws, &["run", "--", "sh", "-c", plant]);
            assert_ne!(out.status, 0, "{user:?} x_exists={x_exists}: {out:?}");
            wait_for_placeholders(&ws);
            let out = git(&ws, &top, &["commit", "-q", "--allow-empty", "-m", "c"]);
            assert!(
                !out.stdout.contains("HOOKRAN") && !out.stderr.contains("HOOKRAN"),
                "{user:?} x_exists={x_exists}: the planted hook ran"
            );
        }
    }
}

/// Adversarial pass 13: a `.git` pointer (`gitdir: lnk/../store/gd`) or a
/// `commondir` (`../lnk/../common`) stepping back out of a directory that
/// exists. The command replaced `lnk` with a symlink into a directory it
/// wrote, and the next `git status` outside read a gitdir it planted there
/// and ran its fsmonitor. The directory stepped out of is held, as a hooks
/// path's is: removing it fails with EBUSY.
#[test]
fn git_pointers_stepping_back_out_of_a_directory_hold_it() {
    let _host = host_sockets_unchanged();
    // (layout, the gitdir or common directory the attack copies and poisons)
    let layouts = [
        (
            "mkdir -p store lnk && mv .git store/gd && printf 'gitdir: lnk/../store/gd\\n' > .git",
            "store/gd",
        ),
        (
            "mkdir -p lnk gd && mv .git common && cp common/HEAD common/index gd/ \
             && printf '../lnk/../common\\n' > gd/commondir && printf 'gitdir: gd\\n' > .git",
            "common",
        ),
    ];
    for user in users() {
        for (layout, gitdir) in layouts {
            for sandbox in [false, true] {
                let ws = Ws::new(user);
                let top = repo(&ws, "work");
                let out = run_as(user, &top, &ws.env(), &["sh", "-c", layout]);
                assert_eq!(out.status, 0, "{out:?}");
                git(&ws, &top, &["status", "--short"]);
                let mark = ws.s("outside/pwned");
                let plant = format!(
                    "mkdir -p fake/sub fake/{gitdir} && cp -r {gitdir}/. fake/{gitdir}/ \
                     && printf '[core]\\n\\tfsmonitor = \"echo PWNED >> {mark}; false\"\\n' >> fake/{gitdir}/config \
                     && rmdir lnk && ln -s fake/sub lnk"
                );
                let lnk = ws.s("work/lnk");
                if sandbox {
                    sandboxed(&ws, &[], &["rename", &lnk, &ws.s("work/moved")])
                        .assert_errno("EBUSY");
                    let out = cordon(&ws, &["run", "--", "sh", "-c", &plant]);
                    assert_ne!(out.status, 0, "{user:?} {gitdir}: {out:?}");
                    wait_for_placeholders(&ws);
                } else {
                    let out = run_as(user, &top, &ws.env(), &["sh", "-c", &plant]);
                    assert_eq!(out.status, 0, "{out:?}");
                }
                git(&ws, &top, &["status", "--short"]);
                let pwned = Path::new(&mark).exists();
                assert_eq!(pwned, !sandbox, "{user:?} {gitdir} sandbox={sandbox}");
            }
        }
        // A submodule's `core.worktree` so spelled: git would take its
        // checkout where the command's link leads.
        let ws = Ws::new(user);
        let top = repo_with_submodule(&ws);
        let config = ws.s("work/.git/modules/sub/config");
        git(
            &ws,
            &top,
            &[
                "config",
                "--file",
                &config,
                "core.worktree",
                "../../../x/../sub",
            ],
        );
        ws.mkdir("work/x");
        git(&ws, &top, &["status", "--short"]);
        let (x, moved) = (ws.s("work/x"), ws.s("work/moved"));
        sandboxed(&ws, &[], &["rename", &x, &moved]).assert_errno("EBUSY");
        control(&ws, &["rename", &x, &moved]).assert_ok();
    }
}

/// Adversarial pass 14: the same through a symlink's own text. With
/// `lnk -> x/../store` on the way to a gitdir (`gitdir: lnk/gd`), a hooks
/// path (`lnk/hk`, `lnk -> x/../hd`) or a protected name (`.claude ->
/// x/../cl`), the command replaced `x` with a link into a directory it
/// wrote: git ran its fsmonitor or hook, `.claude/settings.json` was its.
/// `x` is held: EBUSY (control: renamed). Likewise the directories a link
/// stepped back out of leads to (`.claude -> l1/../../cl`, `l1 -> x/e`:
/// adversarial pass 15).
#[test]
fn symlinks_stepping_back_out_of_a_directory_hold_it() {
    let _host = host_sockets_unchanged();
    let layouts = [
        "mkdir -p store x && mv .git store/gd && ln -s x/../store lnk \
         && printf 'gitdir: lnk/gd\\n' > .git",
        "mkdir -p hd/hk x && ln -s x/../hd lnk && git config core.hooksPath lnk/hk",
        "mkdir -p cl x && echo '{}' > cl/settings.json && ln -s x/../cl .claude",
        // A link stepped back out of (pass 15): `l1 -> x/e`, `..` twice.
        "mkdir -p x/e cl && echo '{}' > cl/settings.json && ln -s x/e l1 \
         && ln -s l1/../../cl .claude",
    ];
    for user in users() {
        for layout in layouts {
            let ws = Ws::new(user);
            let top = repo(&ws, "work");
            let out = run_as(user, &top, &ws.env(), &["sh", "-c", layout]);
            assert_eq!(out.status, 0, "{out:?}");
            git(&ws, &top, &["status", "--short"]);
            let (x, moved) = (ws.s("work/x"), ws.s("work/moved"));
            sandboxed(&ws, &[], &["rename", &x, &moved]).assert_errno("EBUSY");
            control(&ws, &["rename", &x, &moved]).assert_ok();
        }
        // End to end for the protected name: the planted settings stay out.
        let ws = Ws::new(user);
        let top = repo(&ws, "work");
        let out = run_as(user, &top, &ws.env(), &["sh", "-c", layouts[2]]);
        assert_eq!(out.status, 0, "{out:?}");
        let plant = "mkdir -p fake/x fake/cl && echo planted > fake/cl/settings.json \
                     && rmdir x && ln -s \"$PWD/fake/x\" x";
        let out = cordon(&ws, &["run", "--", "sh", "-c", plant]);
        assert_ne!(out.status, 0, "{user:?}: {out:?}");
        assert_eq!(ws.read("work/.claude/settings.json"), "{}\n", "{user:?}");
    }
}

/// Adversarial pass 16: `.git/hooks`, `.git/modules` or `.git/worktrees`
/// a symlink to a directory that does not exist yet (pass 17: or a gitdir
/// inside the last two, `.git/modules/sm -> ../../target`). Nothing held the
/// target: the command made `hkx` with a `pre-commit` (or `mmx/sub`, a
/// planted submodule gitdir) and git outside ran it. The target is held
/// like a missing hooks path: `mkdir` is EEXIST (control: made).
#[test]
fn a_dangling_link_for_a_gitdir_directory_is_held_at_its_target() {
    let _host = host_sockets_unchanged();
    // (the link, its text) for the directories themselves and, pass 17,
    // for a submodule's or a linked worktree's gitdir inside them.
    let links = [
        ("hooks", "../target"),
        ("modules", "../target"),
        ("worktrees", "../target"),
        ("modules/sm", "../../target"),
        ("worktrees/wt", "../../target"),
    ];
    for user in users() {
        for (name, text) in links {
            let ws = Ws::new(user);
            let top = repo(&ws, "work");
            let link = format!(
                "rm -rf .git/{name} && mkdir -p \"$(dirname .git/{name})\" && ln -s {text} .git/{name}"
            );
            let out = run_as(user, &top, &ws.env(), &["sh", "-c", &link]);
            assert_eq!(out.status, 0, "{out:?}");
            let target = ws.s("work/target");
            wait_for_placeholders(&ws);
            sandboxed(&ws, &[], &["mkdir", &target]).assert_errno("EEXIST");
            wait_for_placeholders(&ws);
            control(&ws, &["mkdir", &target]).assert_ok();
            // There already: read-only for the run.
            let inside = ws.s("work/target/HEAD");
            sandboxed(&ws, &[], &["create", &inside]).assert_errno("EROFS");
        }
    }
}

/// Adversarial pass 18: without git mode `.git` is read-only as a whole,
/// but entries of it that are symlinks (`refs -> ../xrefs`, `objects`,
/// `index`) led out of that bind: the command wrote a loose ref and moved
/// the branch to a commit of its own. Their targets are read-only too.
#[test]
fn symlinked_entries_of_a_read_only_gitdir_are_read_only_at_their_targets() {
    let _host = host_sockets_unchanged();
    let layout = "for d in objects refs; do mv .git/$d x$d && ln -s ../x$d .git/$d; done \
                  && mv .git/index xindex && ln -s ../xindex .git/index";
    for user in users() {
        let ws = Ws::new(user);
        let top = repo(&ws, "work");
        let out = run_as(user, &top, &ws.env(), &["sh", "-c", layout]);
        assert_eq!(out.status, 0, "{out:?}");
        git(&ws, &top, &["status", "--short"]);
        let head = ws.s("work/xrefs/heads/main");
        let index = ws.s("work/xindex");
        let object = ws.s("work/xobjects/planted");
        for (op, path) in [
            ("overwrite", &head),
            ("overwrite", &index),
            ("create", &object),
        ] {
            sandboxed(&ws, &[], &[op, path]).assert_errno("EROFS");
        }
        for (op, path) in [
            ("overwrite", &head),
            ("overwrite", &index),
            ("create", &object),
        ] {
            control(&ws, &[op, path]).assert_ok();
        }
    }
}

/// Adversarial pass 19: a linked worktree's gitdir moved into the root
/// behind a link (`.git/worktrees/wt -> ../../xwt`), its `commondir` of
/// `../..` now leading above the root. That directory's pin (outside every
/// root, so never bound) counted as covering the root, and every pin in it
/// was dropped: the command rewrote `xwt/commondir` to a gitdir of its own
/// and git in the worktree ran its fsmonitor. A pin outside the roots
/// covers nothing: the write is EROFS (control: written).
#[test]
fn a_pin_above_the_root_does_not_drop_the_pins_inside_it() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        let top = repo(&ws, "work");
        let wt = ws.s("outside/wt");
        git(&ws, &top, &["worktree", "add", "-q", &wt, "-b", "wtb"]);
        let layout = "mv .git/worktrees/wt xwt && ln -s ../../xwt .git/worktrees/wt";
        let out = run_as(user, &top, &ws.env(), &["sh", "-c", layout]);
        assert_eq!(out.status, 0, "{out:?}");
        let commondir = ws.s("work/xwt/commondir");
        sandboxed(&ws, &[], &["overwrite", &commondir]).assert_errno("EROFS");
        control(&ws, &["overwrite", &commondir]).assert_ok();
    }
}

/// Adversarial pass 3, F1: a second writable root closed by an earlier run
/// (`chmod 000`): planning, as the caller, could not see its `.git` and
/// took it for missing, and the placeholder it could not make was skipped
/// as "uncreatable", so the next command opened the root again and wrote
/// `.git/config`. A closed directory of the caller's is refused (125); root
/// passes the mode and keeps `.git` read-only.
#[test]
fn a_closed_writable_root_does_not_unpin_its_git_directory() {
    for user in users() {
        let ws = Ws::new(user);
        ws.write("outside/ws2/.git/config", "[core]\n");
        let ws2 = ws.s("outside/ws2");
        let config = ws.s("outside/ws2/.git/config");
        let w = ["-w", ws2.as_str()];
        sandboxed(&ws, &w, &["write", &config]).assert_errno("EROFS");
        sandboxed(&ws, &w, &["chmod", &ws2, "0"]).assert_ok();
        let script = format!("chmod 755 {ws2}; $P write {config}");
        let out = sandboxed_sh(&ws, &w, &script);
        match user {
            User::Root => out.assert_errno("EROFS"),
            User::Nobody => out.assert_refused("a directory you own"),
        };
        std::fs::set_permissions(&ws2, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        assert_eq!(ws.read("outside/ws2/.git/config"), "[core]\n", "{user:?}");
    }
}

/// Adversarial pass 9, F1: a FIFO at `.git` (made by any local user in
/// `/tmp`, or by an earlier sandboxed command in a subdirectory) stalled
/// every later run: planning read it as a `gitdir:` pointer with a blocking
/// open. Pointer files are now read only when they are regular files,
/// opened without blocking; the FIFO itself stays read-only.
#[test]
fn a_fifo_at_a_protected_name_does_not_stall_the_run() {
    for user in users() {
        let ws = Ws::new(user);
        let fifo = ws.join("work/sub/.git");
        std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        if user == User::Nobody {
            std::os::unix::fs::chown(&fifo, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        let sub = ws.s("work/sub");
        let argv = [
            cordon_bin().to_str().unwrap(),
            "run",
            "-C",
            &sub,
            "--",
            probe_bin().to_str().unwrap(),
            "stat",
            ".git",
        ];
        let mut child = command_as(user, &ws.work(), &ws.env(), &argv)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let done = (0..1000).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            child.try_wait().unwrap().is_some()
        });
        if !done {
            let _ = child.kill();
        }
        assert!(done, "{user:?}: cordon stalled on the FIFO at .git");
        assert!(child.wait().unwrap().success(), "{user:?}");
        // The control: its owner may chmod it without cordon.
        control(&ws, &["chmod", &fifo.to_string_lossy(), "0640"]).assert_ok();
        sandboxed(
            &ws,
            &["-C", &sub],
            &["chmod", &fifo.to_string_lossy(), "0666"],
        )
        .assert_errno("EROFS");
    }
}

/// Adversarial pass 10, F2: git keeps a pointer file's trailing blanks
/// and tabs (it strips only `\n` and `\r`), so `gitdir: gd \n` names the
/// directory `gd `, and a worktree's `commondir` of `../common \n` the
/// directory `common `. cordon trimmed them and held `gd` (a placeholder)
/// while `gd /config` stayed writable; git outside then ran the planted
/// `core.fsmonitor`. Now the gitdir git uses is the one held, for a `.git`
/// pointer, a submodule's pointer and a worktree's `commondir`.
#[test]
fn pointer_files_name_the_gitdir_git_uses_blanks_included() {
    for user in users() {
        let ws = Ws::new(user);
        // The workspace's own `.git` is a pointer to `gd ` (then a tab).
        for (dir, name) in [("work/a", "gd "), ("work/b", "gd\t")] {
            let top = repo(&ws, dir);
            std::fs::rename(top.join(".git"), top.join(name)).unwrap();
            ws.write(&format!("{dir}/.git"), &format!("gitdir: {name}\r\n"));
            // Control: git takes `gd ` (blank kept) for the gitdir, and its
            // config is writable without cordon.
            let out = git(&ws, &top, &["rev-parse", "--absolute-git-dir"]);
            assert!(out.stdout.trim_end_matches('\n').ends_with(name), "{out:?}");
            let config = top.join(name).join("config");
            let config = config.to_str().unwrap();
            control(&ws, &["overwrite", config]).assert_ok();
            let cwd = top.to_str().unwrap();
            sandboxed(&ws, &["-C", cwd], &["overwrite", config]).assert_errno("EROFS");
        }
        // A linked worktree whose `commondir` names `common ` (the main
        // repository's gitdir, moved there; `common` without the blank
        // does not exist).
        let main = repo(&ws, "work/main");
        let wt = ws.join("work/wt");
        git(&ws, &main, &["worktree", "add", "-q", wt.to_str().unwrap()]);
        std::fs::rename(main.join(".git"), main.join("common ")).unwrap();
        let wtgd = main.join("common /worktrees/wt");
        let common = format!("{} \n", main.join("common").display());
        ws.write("work/main/common /worktrees/wt/commondir", &common);
        ws.write("work/wt/.git", &format!("gitdir: {}\n", wtgd.display()));
        let config = main.join("common /config");
        let config = config.to_str().unwrap();
        // Control: git in the worktree reads that config.
        let out = git(&ws, &wt, &["rev-parse", "--git-common-dir"]);
        assert!(
            out.stdout.trim_end_matches('\n').ends_with("common "),
            "{out:?}"
        );
        control(&ws, &["overwrite", config]).assert_ok();
        let cwd = wt.to_str().unwrap();
        sandboxed(&ws, &["-C", cwd], &["overwrite", config]).assert_errno("EROFS");
    }
}

/// The command's attack on processes that share its session: take a pty
/// as the controlling terminal (it leads its session when no terminal is
/// on fds 0-2), make each other process group of the session the
/// terminal's foreground, and type ^C. Prints what it found and did; a
/// child of its own (the control's victim) is waited for.
const FOREGROUND_KILL: &str = r#"
import errno, fcntl, json, os, signal, termios, time
me, sid = os.getpgrp(), os.getsid(0)
others = set()
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        st = open("/proc/%s/stat" % p).read()
    except OSError:
        continue
    f = st[st.rindex(")") + 2:].split()
    if int(f[3]) == sid and int(f[2]) != me:
        others.add(int(f[2]))
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
m, s = os.openpty()
res = {"others": len(others), "sctty": "ok", "moved": 0}
try:
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
except OSError as e:
    res["sctty"] = errno.errorcode[e.errno]
for g in others:
    try:
        os.tcsetpgrp(s, g)
        os.write(m, b"\x03")
        res["moved"] += 1
    except OSError:
        pass
try:
    pid, st = os.waitpid(-1, 0)
    res["child"] = os.WTERMSIG(st) if os.WIFSIGNALED(st) else -1
except ChildProcessError:
    res["child"] = None
print(json.dumps(res))
"#;

/// Adversarial pass 10, F1: with no terminal on fds 0-2 the command leads
/// a session of its own, and the sentinel and the reaper, which only left
/// the caller's process group, were in it: the command took a pty as its
/// terminal, made a helper's group the foreground and typed ^C (or just
/// exited, for the hang-up), which no Landlock scope sees. Without the
/// sentinel the placeholders stayed, and a leftover planted `.git` and
/// `.agents` once the next run removed them. The helpers now lead sessions
/// of their own: the command finds no other group in its session, and the
/// placeholders go after the run.
#[test]
fn the_command_finds_no_helper_in_its_session_to_signal_through_a_terminal() {
    for user in users() {
        let ws = Ws::new(user);
        let script = ws.write("work/fg.py", FOREGROUND_KILL);
        let script = script.to_str().unwrap();
        // Control: the same attack, from a session leader whose session
        // holds another group (a child sleeping in its own group), kills it.
        let wrapper = format!(
            "import os, sys, time\n\
             os.setsid()\n\
             if os.fork() == 0:\n    os.setpgid(0, 0)\n    time.sleep(30)\n    os._exit(0)\n\
             time.sleep(0.2)\n\
             os.execv(sys.executable, [sys.executable, {script:?}])\n"
        );
        let out = run_as(user, &ws.work(), &ws.env(), &["python3", "-c", &wrapper]);
        let res: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect(&out.stdout);
        assert_eq!(res["others"], 1, "{user:?}: {out:?}");
        assert_eq!(res["moved"], 1, "{user:?}: {out:?}");
        assert_eq!(res["child"], libc::SIGINT, "{user:?}: {out:?}");
        // Under cordon: the command leads its session (stdin is not a
        // terminal), may take a pty, and finds no one else in the session.
        let out = cordon(&ws, &["run", "--", "python3", script]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        let res: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect(&out.stdout);
        assert_eq!(res["sctty"], "ok", "{user:?}: {out:?}");
        assert_eq!(res["others"], 0, "{user:?}: {out:?}");
        // The sentinel lived to remove the placeholders.
        wait_for_placeholders(&ws);
        for name in [".git", ".agents", ".codex"] {
            assert!(
                !ws.join("work").join(name).exists(),
                "{user:?}: {name} left"
            );
        }
    }
}

/// Adversarial pass 10, F1, interactive: with the caller's terminal kept
/// (fds 0-2 on it), the command shares the caller's session with the
/// user's other jobs, and could make one of them the terminal's
/// foreground, then have the terminal signal it (`VINTR` set to ESC and a
/// cursor-position query, whose reply starts with ESC). TIOCSPGRP is
/// denied for such a run; in `script`'s pty, from bash with job control.
#[test]
fn a_command_on_the_callers_terminal_cannot_hand_it_to_another_job() {
    let take = "import errno, os, signal, sys\n\
                signal.signal(signal.SIGTTOU, signal.SIG_IGN)\n\
                try:\n    os.tcsetpgrp(0, int(sys.argv[1]))\n    print('moved')\n\
                except OSError as e:\n    print('refused', errno.errorcode[e.errno])\n";
    for user in users() {
        let ws = Ws::new(user);
        ws.write("work/take.py", take);
        for (wrap, want) in [("", "moved"), ("cordon", "refused EPERM")] {
            let prefix = if wrap.is_empty() {
                String::new()
            } else {
                format!("{} run -- ", cordon_bin().display())
            };
            let job = format!(
                "set -m\nsleep 30 &\npg=$!\n{prefix}python3 take.py \"$pg\" </dev/tty\nkill \"$pg\"\n"
            );
            ws.write("work/job.sh", &job);
            let argv = ["script", "-qec", "bash job.sh", "/dev/null"];
            let mut env = ws.env();
            env.push(("SHELL".into(), "/bin/sh".into()));
            let out = run_as(user, &ws.work(), &env, &argv);
            assert!(out.stdout.contains(want), "{user:?} {wrap:?}: {out:?}");
        }
        // The dry run says so.
        let dry = format!("{} run --dry-run -- true </dev/tty", cordon_bin().display());
        let out = run_as(
            user,
            &ws.work(),
            &ws.env(),
            &["script", "-qec", &dry, "/dev/null"],
        );
        assert!(
            out.stdout.contains("(TIOCSPGRP denied)"),
            "{user:?}: {out:?}"
        );
    }
}

/// Adversarial pass 10, F3: a path git reads that steps back (`..`) out of
/// a missing directory (`core.hooksPath = x/../hk`) leads on once cordon's
/// placeholder holds that directory, for the whole run: where it leads then
/// is held read-only too (a hooks directory, an include, an fsmonitor
/// program, a gitdir pointer's target).
#[test]
fn git_paths_stepping_back_out_of_a_missing_directory_stay_read_only() {
    for user in users() {
        let ws = Ws::new(user);
        let hooks = repo(&ws, "work/hooks");
        git(&ws, &hooks, &["config", "core.hooksPath", "x/../hk"]);
        ws.mkdir("work/hooks/hk");
        let fsm = repo(&ws, "work/fsm");
        git(&ws, &fsm, &["config", "core.fsmonitor", "y/../fsm.sh"]);
        ws.write("work/fsm/fsm.sh", "#!/bin/sh\nexit 1\n");
        let inc = repo(&ws, "work/inc");
        git(&ws, &inc, &["config", "include.path", "../sub/../inc5"]);
        ws.write("work/inc/inc5", "");
        let ptr = ws.mkdir("work/ptr");
        ws.write("work/ptr/.git", "gitdir: z/../gd\n");
        let cases = [
            (
                &hooks,
                ["create", &ws.s("work/hooks/hk/pre-commit")],
                "EROFS",
            ),
            (&fsm, ["overwrite", &ws.s("work/fsm/fsm.sh")], "EROFS"),
            (&inc, ["overwrite", &ws.s("work/inc/inc5")], "EROFS"),
            (&ptr, ["mkdir", &ws.s("work/ptr/gd")], "EEXIST"),
        ];
        // Controls: each write succeeds without cordon (then is undone).
        for (_, op, _) in &cases {
            control(&ws, op).assert_ok();
        }
        std::fs::remove_file(ws.join("work/hooks/hk/pre-commit")).unwrap();
        std::fs::remove_dir(ws.join("work/ptr/gd")).unwrap();
        for (top, op, errno) in &cases {
            let cwd = top.to_str().unwrap();
            sandboxed(&ws, &["-C", cwd], op).assert_errno(errno);
        }
        wait_for_placeholders(&ws);
        assert!(!ws.join("work/hooks/hk/pre-commit").exists(), "{user:?}");
    }
}

/// Adversarial pass 10, F4: git reads the global config (and what it
/// includes, its hooks path, its programs) in every repository the user
/// runs it in later, so in a writable $HOME it is held read-only even when
/// no repository lies in the roots; a missing global config name is held.
#[test]
fn global_git_config_in_a_writable_home_stays_read_only_without_a_repository() {
    for user in users() {
        let ws = Ws::new(user);
        let home = ws.s("home");
        ws.write(
            "home/.gitconfig",
            &format!("[core]\n\thooksPath = {home}/githooks\n[include]\n\tpath = {home}/inc.cfg\n"),
        );
        ws.write("home/inc.cfg", "");
        ws.mkdir("home/githooks");
        ws.mkdir("home/.config");
        let inc = ws.s("home/inc.cfg");
        let hook = ws.s("home/githooks/pre-commit");
        let xdg = ws.s("home/.config/git");
        // Controls: without cordon each write succeeds (then is undone).
        control(&ws, &["overwrite", &inc]).assert_ok();
        control(&ws, &["create", &hook]).assert_ok();
        control(&ws, &["mkdir", &xdg]).assert_ok();
        std::fs::remove_file(&hook).unwrap();
        std::fs::remove_dir(&xdg).unwrap();
        // cwd `work` holds no repository; $HOME is a writable root.
        let flags = ["-w", &home];
        sandboxed(&ws, &flags, &["overwrite", &inc]).assert_errno("EROFS");
        sandboxed(&ws, &flags, &["create", &hook]).assert_errno("EROFS");
        sandboxed(&ws, &flags, &["mkdir", &xdg]).assert_errno("EEXIST");
        wait_for_placeholders(&ws);
        assert!(!ws.join("home/githooks/pre-commit").exists(), "{user:?}");
    }
}

/// Adversarial pass 11, F3: git's system config is `$(prefix)/etc/gitconfig`
/// for a git not under `/usr` (`/usr/local/etc/gitconfig`), and one that
/// includes a file in a writable root let the sandbox write an alias that
/// git ran outside. A fake prefix stands in for `/usr/local` here: its
/// `bin` first on the caller's PATH, its `etc/gitconfig` including
/// `work/sys/inc`, which stays read-only.
#[test]
fn a_system_git_config_of_a_git_on_path_stays_read_only() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("outside/pfx/bin");
        ws.mkdir("outside/pfx/etc");
        let real_git = ["/usr/local/bin/git", "/usr/bin/git", "/bin/git"]
            .into_iter()
            .find(|g| Path::new(g).exists())
            .expect("git");
        link_at(&ws, real_git, "outside/pfx/bin/git");
        let inc = ws.s("work/sys/inc");
        ws.write(
            "outside/pfx/etc/gitconfig",
            &format!("[include]\n\tpath = {inc}\n"),
        );
        ws.mkdir("work/sys");
        let mut env = ws.env();
        for (k, v) in env.iter_mut() {
            if k == "PATH" {
                *v = format!("{}:{v}", ws.s("outside/pfx/bin"));
            }
        }
        let probe = probe_bin();
        let probe = probe.to_str().unwrap();
        // Control: without cordon the include is written (then undone).
        let control = run_as(user, &ws.work(), &env, &[probe, "write", &inc]);
        control.assert_ok();
        std::fs::remove_file(&inc).unwrap();
        let cordon = cordon_bin();
        let argv = [cordon.to_str().unwrap(), "run", "--", probe, "write", &inc];
        // A read-only placeholder holds the name: nobody meets its mode
        // 0444 before the read-only mount.
        let denied = match user {
            User::Root => "EROFS",
            User::Nobody => "EACCES",
        };
        run_as(user, &ws.work(), &env, &argv).assert_errno(denied);
        wait_for_placeholders(&ws);
        assert!(!ws.join("work/sys/inc").exists(), "{user:?}");
    }
}

/// Adversarial pass 10, F6: a git config larger than cordon reads (16 MiB)
/// could name a hooks path past the part read; the run is refused, naming
/// the file, rather than pinning only what was read.
#[test]
fn an_oversized_git_config_refuses_the_run() {
    for user in users() {
        let ws = Ws::new(user);
        let top = repo(&ws, "work/big");
        let mut config = ws.read("work/big/.git/config");
        config.push_str(&format!("#{}\n", "x".repeat(16 << 20)));
        config.push_str("[core]\n\thooksPath = hk\n");
        ws.write("work/big/.git/config", &config);
        // Control: git reads the setting past the cap.
        let out = git(&ws, &top, &["config", "core.hooksPath"]);
        assert_eq!(out.stdout.trim_end(), "hk", "{out:?}");
        let hook = ws.s("work/big/hk");
        control(&ws, &["mkdir", &hook]).assert_ok();
        std::fs::remove_dir(&hook).unwrap();
        let cwd = top.to_str().unwrap();
        sandboxed(&ws, &["-C", cwd], &["mkdir", &hook]).assert_refused("big/.git/config");
        assert!(!ws.join("work/big/hk").exists(), "{user:?}");
    }
}

/// A symlink at `rel` in the workspace leading to `text`, owned by the
/// workspace's user.
fn link_at(ws: &Ws, text: &str, rel: &str) -> String {
    let at = ws.join(rel);
    std::os::unix::fs::symlink(text, &at).unwrap();
    ws.chown(&at);
    at.to_str().unwrap().to_string()
}

/// Adversarial pass 10, F5 (1): `.agents -> link/agents` with `link ->
/// real`. Only `.agents` itself was pinned: the command re-pointed `link`
/// at a directory it planted, and `.agents` led there once it ended (the
/// skills a later agent loads). Every symlink on the way to a protected
/// target in a writable root is now bound onto itself read-only, as the
/// git planner does for `.git`; so is a user `--protect` name's.
#[test]
fn links_on_the_way_to_a_protected_target_cannot_be_repointed() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("work/real/agents");
        ws.mkdir("work/real/conf");
        ws.write("work/evil/agents/skills/pwn/SKILL.md", "planted");
        ws.write("work/evil/conf/x", "planted");
        let link = link_at(&ws, "real", "work/link");
        link_at(&ws, "link/agents", "work/.agents");
        // A user name, spelled through a second link: `mine -> hop/conf`,
        // `hop -> link`.
        let hop = link_at(&ws, "link", "work/hop");
        link_at(&ws, "hop/conf", "work/mine");
        let fresh = ws.s("work/fresh");
        let planted = ws.join("work/.agents/skills/pwn/SKILL.md");
        // Control: re-pointing `link` (what `ln -sfn evil link` does) moves
        // `.agents` onto the planted directory.
        control(&ws, &["symlink", "evil", &fresh]).assert_ok();
        control(&ws, &["rename", &fresh, &link]).assert_ok();
        assert!(planted.exists(), "{user:?}: the control reached evil/");
        control(&ws, &["unlink", &link]).assert_ok();
        control(&ws, &["symlink", "real", &link]).assert_ok();
        // Under cordon: the link is a mount point, neither replaced nor
        // removed; a new link beside it is fine.
        sandboxed(&ws, &[], &["symlink", "evil", &fresh]).assert_ok();
        sandboxed(&ws, &[], &["rename", &fresh, &link]).assert_errno("EBUSY");
        sandboxed(&ws, &[], &["unlink", &link]).assert_errno("EBUSY");
        let protect = ["--protect", "mine"];
        sandboxed(&ws, &protect, &["rename", &fresh, &hop]).assert_errno("EBUSY");
        sandboxed(&ws, &protect, &["unlink", &hop]).assert_errno("EBUSY");
        wait_for_placeholders(&ws);
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("real"));
        assert_eq!(std::fs::read_link(&hop).unwrap(), Path::new("link"));
        assert!(!planted.exists(), "{user:?}: .agents leads to evil/");
        // And the targets themselves stay read-only.
        for (flags, file) in [
            (&[][..], "work/.agents/notes"),
            (&protect[..], "work/mine/z"),
        ] {
            let file = ws.s(file);
            control(&ws, &["create", &file]).assert_ok();
            std::fs::remove_file(&file).unwrap();
            sandboxed(&ws, flags, &["create", &file]).assert_errno("EROFS");
        }
    }
}

/// Adversarial pass 10, F5 (2): a dangling protected symlink (`.agents
/// -> ag`, `.envrc -> envrc.real`, both missing). Only the link was
/// pinned, so the command created the target and with it the protected
/// name. Now the missing target is held by a placeholder, shaped by the
/// name (a directory for `.agents`, a file for `.envrc`), and at its first
/// missing directory when more is missing (`.codex -> sub/codex`), or
/// at the missing directory a `..` steps back out of (`x` in `.claude ->
/// x/../cl`); nothing stays behind once the run ends.
#[test]
fn a_dangling_protected_symlinks_target_cannot_be_created() {
    let _host = host_sockets_unchanged();
    for user in users() {
        let ws = Ws::new(user);
        link_at(&ws, "ag", "work/.agents");
        link_at(&ws, "envrc.real", "work/.envrc");
        link_at(&ws, "sub/codex", "work/.codex");
        link_at(&ws, "x/../cl", "work/.claude");
        let ag = ws.s("work/ag");
        let envrc = ws.s("work/envrc.real");
        let sub = ws.s("work/sub");
        let (skill, codex) = (ws.s("work/ag/SKILL.md"), ws.s("work/sub/codex"));
        // Control: each target can be created, and with it the name.
        control(&ws, &["mkdir", &ag]).assert_ok();
        control(&ws, &["create", &skill]).assert_ok();
        control(&ws, &["write", &envrc]).assert_ok();
        control(&ws, &["mkdir", &sub]).assert_ok();
        control(&ws, &["mkdir", &codex]).assert_ok();
        assert!(ws.join("work/.agents/SKILL.md").exists());
        for d in [&codex, &sub] {
            std::fs::remove_dir(d).unwrap();
        }
        std::fs::remove_dir_all(&ag).unwrap();
        std::fs::remove_file(&envrc).unwrap();
        // Under cordon: the placeholders hold each name.
        let denied = match user {
            User::Root => "EROFS",
            User::Nobody => "EACCES",
        };
        wait_for_placeholders(&ws);
        sandboxed(&ws, &[], &["mkdir", &ag]).assert_errno("EEXIST");
        sandboxed(&ws, &[], &["create", &skill]).assert_errno(denied);
        sandboxed(&ws, &[], &["rename", &ag, &ws.s("work/moved")]).assert_errno("EBUSY");
        sandboxed(&ws, &[], &["write", &envrc]).assert_errno(denied);
        sandboxed(&ws, &[], &["write", &ws.s("work/.envrc")]).assert_errno(denied);
        sandboxed(&ws, &[], &["unlink", &envrc]).assert_errno("EBUSY");
        sandboxed(&ws, &[], &["mkdir", &sub]).assert_errno("EEXIST");
        sandboxed(&ws, &[], &["mkdir", &codex]).assert_errno(denied);
        // `.claude -> x/../cl` with `x` missing: a planted `x -> outside/sub`
        // would lead it to `outside/cl`; `x` itself is held.
        ws.write("outside/cl/settings.json", "planted");
        let x = ws.s("work/x");
        let away = ws.s("outside/sub");
        ws.mkdir("outside/sub");
        wait_for_placeholders(&ws);
        control(&ws, &["symlink", &away, &x]).assert_ok();
        assert!(ws.join("work/.claude/settings.json").exists());
        std::fs::remove_file(&x).unwrap();
        sandboxed(&ws, &[], &["symlink", &away, &x]).assert_errno("EEXIST");
        wait_for_placeholders(&ws);
        for p in [&ag, &envrc, &sub, &x] {
            assert!(!Path::new(p).exists(), "{user:?}: {p} stayed behind");
        }
    }
}

/// A dangling nested `.git -> gd` (any user can leave one in `/tmp`) made
/// every `--scan-nested-git` run fail (125: the namespace opened the
/// missing `gd` to bind it read-only): the git planner's link entry said
/// it existed. Now the link is pinned and its missing target held by a
/// placeholder, as for a dangling protected name (found by the F5 helper
/// of adversarial pass 10).
#[test]
fn a_dangling_nested_git_link_is_held_not_a_failed_run() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("work/sub");
        std::os::unix::fs::symlink("gd", ws.join("work/sub/.git")).unwrap();
        ws.chown(&ws.join("work/sub/.git"));
        let gd = ws.s("work/sub/gd");
        let scan = ["--scan-nested-git"];
        sandboxed(&ws, &scan, &["mkdir", &gd]).assert_errno("EEXIST");
        wait_for_placeholders(&ws);
        assert!(!ws.join("work/sub/gd").exists(), "{user:?}");
        // Control: without cordon the name is free.
        control(&ws, &["mkdir", &gd]).assert_ok();
    }
}

/// Adversarial pass 11, F1: a protected name at the head of a chain of
/// more than 40 symlinks (`.git -> l1 -> ... -> l45`) is ELOOP for now,
/// and the walk stopped at the 40th link without pinning it: replaced by a
/// directory (a bare repository, a skills tree), the path resolved through
/// exactly 40 links and git outside ran the planted config. The link where
/// the walk stops is pinned with the others.
#[test]
fn a_chain_of_more_than_forty_links_keeps_its_fortieth() {
    for user in users() {
        let ws = Ws::new(user);
        for name in [".git", ".agents"] {
            let dir = ws.mkdir(&format!("work/c{}", name.trim_start_matches('.')));
            for i in 1..=45 {
                let at = dir.join(format!("l{i}"));
                std::os::unix::fs::symlink(format!("l{}", i + 1), &at).unwrap();
                ws.chown(&at);
            }
            let head = dir.join(name);
            std::os::unix::fs::symlink("l1", &head).unwrap();
            ws.chown(&head);
            let l40 = dir.join("l40");
            let l40 = l40.to_str().unwrap();
            let cwd = dir.to_str().unwrap();
            let flags = ["--exclude-slash-tmp", "-C", cwd];
            sandboxed(&ws, &flags, &["unlink", l40]).assert_errno("EBUSY");
            sandboxed(&ws, &flags, &["rename", l40, &format!("{l40}.x")]).assert_errno("EBUSY");
            // Control: without cordon the link goes.
            control(&ws, &["unlink", l40]).assert_ok();
        }
    }
}

/// Adversarial pass 11, F4: a protected link stepping back out of a
/// missing directory (`.claude -> x/../cl`) was held at `x`; but with that
/// placeholder there, `x/..` is the root and the name leads to `cl`, which
/// root (whom the placeholder's mode does not stop) made, writing
/// `.claude/settings.json`. Where it leads is held too, and past a second
/// missing directory (`p/../q/../cx`) that directory as well: made a link
/// by the command, it led the name into a directory it wrote (pass 12).
#[test]
fn a_protected_link_past_a_missing_directory_is_held_where_it_leads() {
    for user in users() {
        let ws = Ws::new(user);
        // Two levels (adversarial pass 12): with `x` held, `y` decides.
        let levels = [
            (".claude", "x/../cl", "cl"),
            (".agents", "y/../ag", "ag"),
            (".codex", "p/../q/../cx", "q"),
            (".vscode", "r/../s/../vs", "vs"),
        ];
        for (name, text, lead) in levels {
            let at = ws.join(&format!("work/{name}"));
            std::os::unix::fs::symlink(text, &at).unwrap();
            ws.chown(&at);
            let lead = ws.s(&format!("work/{lead}"));
            sandboxed(&ws, &[], &["mkdir", &lead]).assert_errno("EEXIST");
            let inside = format!("{}/settings.json", at.display());
            sandboxed(&ws, &[], &["create", &inside]).assert_errno_in(&["EROFS", "EACCES"]);
            wait_for_placeholders(&ws);
            // Control: without cordon the directory is made.
            control(&ws, &["mkdir", &lead]).assert_ok();
        }
    }
}

/// Adversarial pass 11, F5: `.git -> x/../gd`, run after run: the first
/// run held `gd` as a file, the next planned it as a directory and found
/// the file, and every run within the grace second failed (125). A
/// placeholder of either kind holds a name, and is taken over as it is.
#[test]
fn back_to_back_runs_take_over_a_placeholder_of_the_other_kind() {
    for user in users() {
        let ws = Ws::new(user);
        let at = ws.join("work/.git");
        std::os::unix::fs::symlink("x/../gd", &at).unwrap();
        ws.chown(&at);
        for i in 0..3 {
            let out = cordon(&ws, &["run", "--", "true"]);
            assert_eq!(out.status, 0, "{user:?} run {i}: {out:?}");
        }
        wait_for_placeholders(&ws);
    }
}

/// A script that makes the directory `top` a bare repository to git
/// (`HEAD`, `objects`, `refs`, and a `config` whose `core.worktree` is
/// `top`; `repositoryformatversion` makes git honour it) with an
/// fsmonitor that appends to `mark`. It goes on past a step that fails.
fn plant_bare_repository(top: &str, mark: &str) -> String {
    format!(
        "cd {top}; mkdir -p objects refs; echo 'ref: refs/heads/main' > HEAD; \
         printf '[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n\\tworktree = {top}\\n\\tfsmonitor = \"echo PWNED >> {mark}; false\"\\n' > config; true"
    )
}

/// The step by which `caller`'s command closes the directory `path` to
/// nobody's git: `chmod 000` as nobody; root's git searches anything, so
/// as root the directory goes to root, mode 0700.
fn close_to_nobody(caller: User, path: &str) -> String {
    match caller {
        User::Nobody => format!("chmod 000 {path}"),
        User::Root => format!("chown 0:0 {path} && chmod 700 {path}"),
    }
}

/// `script` run by `caller` in `dir`: under `cordon run [extra] -C dir`
/// when `sandbox`, else plainly (the control).
fn sh_as(
    caller: User,
    ws: &Ws,
    dir: &Path,
    sandbox: bool,
    extra: &[&str],
    script: &str,
) -> Outcome {
    let d = dir.to_str().unwrap();
    let cordon = cordon_bin();
    let mut argv = vec![cordon.to_str().unwrap(), "run"];
    argv.extend(extra);
    argv.extend(["-C", d, "--"]);
    argv.extend(["sh", "-c", script]);
    let argv = if sandbox {
        &argv[..]
    } else {
        &argv[argv.len() - 3..]
    };
    run_as(caller, dir, &ws.env(), argv)
}

/// Whether nobody's `git status` in `dir`, outside any sandbox, ran the
/// fsmonitor a planted config names (it appends to `mark`).
fn nobodys_git_runs_it(ws: &Ws, dir: &Path, mark: &str) -> bool {
    run_as(User::Nobody, dir, &ws.env(), &["git", "status", "--short"]);
    Path::new(mark).exists()
}

/// Waits (at most five seconds) until no run's placeholder (mode 0444) is
/// left at `paths`: the sentinel removes them once the sandbox is empty.
fn wait_gone(paths: &[PathBuf]) {
    let placeholder = |p: &PathBuf| {
        std::fs::symlink_metadata(p).is_ok_and(|m| m.permissions().mode() & 0o7777 == 0o444)
    };
    for _ in 0..500 {
        if !paths.iter().any(placeholder) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Adversarial pass 20: a writable root with no `.git` of its own. The
/// command planted `HEAD`, `objects`, `refs` and a `config` at its top,
/// and git run later in any directory below it that is in no repository
/// of its own took the root for a bare repository and ran the config's
/// fsmonitor (`/tmp` as root, a home used as the workspace). Its `HEAD` is
/// held for the run (inside a repository, where a `HEAD` entry confuses
/// `git diff HEAD`, its `refs` and `commondir`), so what is planted is no
/// repository once the placeholder goes. Adversarial pass 21: a `.git`
/// that is another run's placeholder (an empty mode-0444 directory) made
/// an overlapping run skip the hold, and its command removed the first
/// run's `HEAD` placeholder and planted one. A `.git` with no `HEAD` stops
/// nothing. Adversarial pass 22: nor does a `.git` left broken, which git
/// rejects before it tries the root (a `HEAD` and no `objects` or `refs`,
/// or a `HEAD` that is no ref). Adversarial pass 23: nor a `HEAD` with a
/// leading blank (git does not skip it), and a top with a project's own
/// `HEAD` file beside `objects` and `refs` is no repository either, so it
/// is held too. Control: planted outside the sandbox, git runs the
/// fsmonitor.
#[test]
fn a_writable_root_without_a_git_cannot_be_made_a_bare_repository() {
    let layouts = [
        "plain",
        "inside a repository",
        "another run's .git placeholder",
        "a .git with a HEAD and no objects",
        "a .git whose HEAD is no ref",
        "a .git whose HEAD starts with a blank",
        "a project's HEAD beside objects and refs",
    ];
    for user in users() {
        for layout in layouts {
            let inside_repo = layout == "inside a repository";
            for sandbox in [false, true] {
                let ws = Ws::new(user);
                let root = if inside_repo {
                    repo(&ws, "outside/repo");
                    ws.mkdir("outside/repo/sub")
                } else {
                    ws.mkdir("outside/plain")
                };
                match layout {
                    "another run's .git placeholder" => {
                        let dotgit = ws.mkdir("outside/plain/.git");
                        std::fs::set_permissions(&dotgit, std::fs::Permissions::from_mode(0o444))
                            .unwrap();
                    }
                    "a .git with a HEAD and no objects" => {
                        ws.write("outside/plain/.git/HEAD", "ref: refs/heads/main\n");
                    }
                    "a .git whose HEAD is no ref" => {
                        ws.mkdir("outside/plain/.git/objects");
                        ws.mkdir("outside/plain/.git/refs");
                        ws.write("outside/plain/.git/HEAD", "garbage\n");
                    }
                    "a .git whose HEAD starts with a blank" => {
                        ws.mkdir("outside/plain/.git/objects");
                        ws.mkdir("outside/plain/.git/refs");
                        ws.write("outside/plain/.git/HEAD", " ref: refs/heads/main\n");
                    }
                    "a project's HEAD beside objects and refs" => {
                        ws.mkdir("outside/plain/objects");
                        ws.mkdir("outside/plain/refs");
                        ws.write("outside/plain/HEAD", "notahead\n");
                    }
                    _ => {}
                }
                let below = root.join("x");
                ws.mkdir(below.strip_prefix(ws.path()).unwrap().to_str().unwrap());
                let (r, mark) = (root.to_str().unwrap(), ws.s("outside/pwned"));
                let plant = plant_bare_repository(r, &mark);
                if sandbox {
                    let out = cordon(&ws, &["run", "-w", r, "--", "sh", "-c", &plant]);
                    assert_eq!(out.status, 0, "{out:?}");
                    let held = root.join(if inside_repo { "refs" } else { "HEAD" });
                    for _ in 0..500 {
                        if !held.exists() || held.is_file() {
                            break;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                } else {
                    let out = run_as(user, &ws.work(), &ws.env(), &["sh", "-c", &plant]);
                    assert_eq!(out.status, 0, "{out:?}");
                }
                run_as(user, &below, &ws.env(), &["git", "status", "--short"]);
                let pwned = Path::new(&mark).exists();
                assert_eq!(pwned, !sandbox, "{user:?} {layout} sandbox={sandbox}");
            }
        }
    }
}

/// Adversarial pass 26: a root's `.git` that git used at planning stopped
/// being one during the run. `.git` (or its `objects`) was a link into a
/// directory of the root, `store`, which the command closed (`chmod 000`;
/// as root, `chown` to root and `chmod 700`): nobody's git then could not
/// use `.git`, took the top for the bare repository the command planted
/// there, and ran its fsmonitor. A `.git` that is no plain, self-contained
/// directory no longer counts as one that stops git: the top is held (a
/// worktree's by `refs` and `commondir`), and so is a nested repository's
/// worktree top. Control: the same steps without cordon, and nobody's git
/// runs the fsmonitor.
#[test]
fn a_git_the_command_makes_unusable_does_not_let_it_plant_a_bare_repository() {
    // (layout, set-up run in the root, the worktree top below the root)
    let layouts = [
        (
            "a .git link into the root",
            "mkdir store && git init -q --separate-git-dir=store/gd . && rm .git && ln -s store/gd .git",
            ".",
        ),
        (
            "objects linked into the root",
            "git init -q . && mkdir store && mv .git/objects store/objs && ln -s ../store/objs .git/objects",
            ".",
        ),
        (
            "a nested repository's .git link into the root",
            "mkdir -p store n && cd n && git init -q --separate-git-dir=../store/gd . && rm .git && ln -s ../store/gd .git",
            "n",
        ),
    ];
    for caller in users() {
        for (layout, init, wt) in layouts {
            for sandbox in [false, true] {
                // nobody's repository, and nobody the victim: git refuses
                // a repository another user owns.
                let ws = Ws::new(User::Nobody);
                let root = ws.mkdir("work/t");
                let setup = run_as(User::Nobody, &root, &ws.env(), &["sh", "-c", init]);
                assert_eq!(setup.status, 0, "{setup:?}");
                let top = root.join(wt).canonicalize().unwrap();
                let below = ws.mkdir(&format!("work/t/{wt}/sub"));
                let (r, t, mark) = (
                    root.to_str().unwrap(),
                    top.to_str().unwrap(),
                    ws.s("outside/pwned"),
                );
                let plant = format!(
                    "{}; {}",
                    close_to_nobody(caller, &format!("{r}/store")),
                    plant_bare_repository(t, &mark)
                );
                // The nested repository is found by the scan.
                let out = sh_as(caller, &ws, &root, sandbox, &["--scan-nested-git"], &plant);
                assert_eq!(out.status, 0, "{out:?}");
                if sandbox {
                    wait_gone(&[top.join("refs"), top.join("commondir")]);
                    // The closing was allowed: the hold, not a refusal, stops it.
                    let m = std::fs::symlink_metadata(root.join("store")).unwrap();
                    assert_ne!(m.permissions().mode() & 0o7777, 0o755, "{layout}");
                }
                let pwned = nobodys_git_runs_it(&ws, &below, &mark);
                assert_eq!(pwned, !sandbox, "{caller:?} {layout} sandbox={sandbox}");
            }
        }
    }
}

/// Adversarial pass 27: a root's top laid out as part of a repository
/// before the run, which the command completed into one. A project's own
/// `commondir` file (`shared`) beside a `HEAD`: the command made `shared`
/// a repository with a `config` of its own (its `core.pager` ran). A top
/// with `HEAD`, `objects` and `refs` and a `.git` link: the command closed
/// the link's `store` and wrote the top's `config` (its fsmonitor ran).
/// git below the top, outside, took the top for a repository. Now the
/// directory a project's `commondir` names is held, and what git reads at
/// a top that is a repository too (`config`, `hooks`). Control: the same
/// steps without cordon, and git finds the top.
#[test]
fn a_top_laid_out_as_part_of_a_repository_cannot_be_completed_into_one() {
    let config = |t: &str, mark: &str| {
        format!(
            "printf '[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n\\tworktree = {t}\\n\\tfsmonitor = \"echo PWNED >> {mark}; false\"\\n'"
        )
    };
    // (layout, set-up in the root as nobody, the command's plant)
    // The command's plant, from the top, the mark and the closing step.
    type Plant<'a> = dyn Fn(&str, &str, &str) -> String + 'a;
    let layouts: [(&str, &str, &Plant<'_>); 2] = [
        (
            "a project's commondir naming a missing directory",
            "echo 'ref: refs/heads/main' > HEAD && echo shared > commondir",
            &|t, mark, _close| {
                format!(
                    "mkdir -p {t}/shared/objects {t}/shared/refs; {} > {t}/shared/config",
                    config(t, mark)
                )
            },
        ),
        (
            "a top with HEAD, objects, refs and a .git link",
            "mkdir -p objects refs/heads store && echo 'ref: refs/heads/main' > HEAD && git init -q --separate-git-dir=store/gd . && rm .git && ln -s store/gd .git",
            &|t, mark, close| format!("{close}; {} > {t}/config", config(t, mark)),
        ),
    ];
    for caller in users() {
        for (layout, init, plant) in &layouts {
            for sandbox in [false, true] {
                let ws = Ws::new(User::Nobody);
                let top = ws.mkdir("work/t");
                let setup = run_as(User::Nobody, &top, &ws.env(), &["sh", "-c", init]);
                assert_eq!(setup.status, 0, "{setup:?}");
                ws.mkdir("work/t/sub");
                let (t, mark) = (top.to_str().unwrap(), ws.s("outside/pwned"));
                let plant = format!(
                    "{}; true",
                    plant(t, &mark, &close_to_nobody(caller, &format!("{t}/store")))
                );
                let out = sh_as(caller, &ws, &top, sandbox, &[], &plant);
                assert_eq!(out.status, 0, "{out:?}");
                if sandbox {
                    wait_gone(&[top.join("commondir"), top.join("shared")]);
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                // git takes the top for the repository whose config the
                // command wrote (a `commondir` one has no worktree, so its
                // fsmonitor does not run; its pager, aliases and hooks would).
                let found = run_as(
                    User::Nobody,
                    &top.join("sub"),
                    &ws.env(),
                    &["git", "rev-parse", "--absolute-git-dir"],
                );
                let taken = found.status == 0 && found.stdout.trim() == t;
                run_as(
                    User::Nobody,
                    &top.join("sub"),
                    &ws.env(),
                    &["git", "status"],
                );
                // The second top is a repository by its own layout once its
                // `.git` is closed: what counts is that its config is not
                // the command's.
                let hit = if layout.contains("commondir") {
                    taken
                } else {
                    Path::new(&mark).exists()
                };
                assert_eq!(
                    hit, !sandbox,
                    "{caller:?} {layout} sandbox={sandbox}: {found:?}"
                );
            }
        }
    }
}

/// Adversarial pass 28: a plant at an unheld top waits for a later run.
/// The top of a root whose `.git` looked sound was left unheld: one run's
/// command planted a bare repository there, and a later git-mode run
/// closed `.git/objects` (as root: gave it to root, mode 0700), after which
/// nobody's git took the top for the planted repository. Likewise a
/// project with `refs` and `objects` of its own, where a git-mode run
/// closed `.git/objects` and planted `HEAD` and `config`. Every top is held
/// now, and where the project has `refs` and `objects` its `config`,
/// `config.worktree` and `hooks` too. Control: the same runs without cordon.
#[test]
fn a_plant_at_a_root_top_does_not_wait_for_a_later_run() {
    let layouts = [
        (
            "a plain repository",
            "git init -q . && echo . > .git/commondir",
        ),
        (
            "a project with refs and objects of its own",
            "mkdir refs objects && echo r > refs/r && echo o > objects/o && git init -q . && echo . > .git/commondir",
        ),
    ];
    for caller in users() {
        for (layout, init) in layouts {
            for sandbox in [false, true] {
                let ws = Ws::new(User::Nobody);
                let top = ws.mkdir("work/t");
                let setup = run_as(User::Nobody, &top, &ws.env(), &["sh", "-c", init]);
                assert_eq!(setup.status, 0, "{setup:?}");
                ws.mkdir("work/t/sub");
                let (t, mark) = (top.to_str().unwrap(), ws.s("outside/pwned"));
                let first = sh_as(
                    caller,
                    &ws,
                    &top,
                    sandbox,
                    &[],
                    &plant_bare_repository(t, &mark),
                );
                assert_eq!(first.status, 0, "{first:?}");
                if sandbox {
                    wait_gone(&[top.join("refs"), top.join("commondir")]);
                }
                let close = close_to_nobody(caller, &format!("{t}/.git/objects"));
                let second = format!("{close}; {}", plant_bare_repository(t, &mark));
                let out = sh_as(caller, &ws, &top, sandbox, &["--git-commits"], &second);
                assert_eq!(out.status, 0, "{out:?}");
                if sandbox {
                    let held = ["refs", "objects", "commondir", "config", "hooks"];
                    wait_gone(&held.map(|n| top.join(n)));
                }
                let pwned = nobodys_git_runs_it(&ws, &top.join("sub"), &mark);
                assert_eq!(pwned, !sandbox, "{caller:?} {layout} sandbox={sandbox}");
            }
        }
    }
}

/// Adversarial pass 27: in a repository whose `.git` is a link (so its top
/// is held), a project with `refs` and `objects` of its own got a `HEAD`
/// placeholder at the top, and `git diff HEAD` failed as ambiguous in the
/// sandbox. Such a top is held by `commondir`, `config`, `config.worktree`
/// and `hooks` instead.
#[test]
fn git_diff_head_works_in_a_held_top_with_its_own_refs_and_objects() {
    for user in users() {
        let ws = Ws::new(user);
        let top = ws.work();
        let init = "mkdir -p refs objects store && echo a > refs/a.bib && git init -q --separate-git-dir=store/gd . && rm .git && ln -s store/gd .git && git add -A && git -c user.name=t -c user.email=t@t commit -qm i && echo b >> refs/a.bib";
        let setup = run_as(user, &top, &ws.env(), &["sh", "-c", init]);
        assert_eq!(setup.status, 0, "{setup:?}");
        let out = cordon(&ws, &["run", "--", "git", "diff", "HEAD", "--stat"]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        assert!(out.stdout.contains("refs/a.bib"), "{user:?}: {out:?}");
        assert!(!top.join("HEAD").exists(), "{user:?}: no HEAD placeholder");
    }
}

/// Root's repository in a nobody-owned root, closed to nobody's git, and
/// root's command plants a bare repository at the top. Adversarial pass 25:
/// whether a root's `.git` stops git's walk up was judged as the caller, and
/// root may search any directory, so a `.git` whose `objects` only root may
/// search (mode 0700) was taken for a repository and nothing was held.
/// Pass 26: an ACL closing `.git` to nobody while its mode bits stay open
/// passed the check that read the bits. Either way nobody's git, refused
/// by `.git`, took the top for the planted repository and ran its
/// fsmonitor. Every root's top is held now, whatever its `.git` (passes
/// 26, 28). Control: planted without cordon, nobody's git runs the
/// fsmonitor.
#[test]
fn a_gitdir_closed_to_another_user_does_not_stop_its_git() {
    if !is_root() {
        return eprintln!(
            "note: not root, so this test is skipped (root plants, nobody is the victim)"
        );
    }
    for layout in [
        "objects only its owner may search",
        "an ACL closing .git to nobody",
    ] {
        for sandbox in [false, true] {
            let ws = Ws::new(User::Nobody);
            let top = if layout.starts_with("objects") {
                let top = repo(&ws, "work/t");
                // Root's own, mode 0700: closed to the victim's git (nobody).
                let objects = top.join(".git/objects");
                std::fs::set_permissions(&objects, std::fs::Permissions::from_mode(0o700)).unwrap();
                std::os::unix::fs::chown(&objects, Some(0), Some(0)).unwrap();
                top
            } else {
                let top = ws.mkdir("work/t");
                let setup = run_as(User::Root, &top, &ws.env(), &["git", "init", "-q", "."]);
                assert_eq!(setup.status, 0, "{setup:?}");
                deny_nobody_by_acl(&top.join(".git"));
                let m = std::fs::metadata(top.join(".git")).unwrap();
                assert_eq!(m.permissions().mode() & 0o7777, 0o755, "the bits look open");
                top
            };
            ws.mkdir("work/t/sub");
            let (t, mark) = (top.to_str().unwrap(), ws.s("outside/pwned"));
            let out = sh_as(
                User::Root,
                &ws,
                &top,
                sandbox,
                &[],
                &plant_bare_repository(t, &mark),
            );
            assert_eq!(out.status, 0, "{out:?}");
            if sandbox {
                wait_gone(&[top.join("refs"), top.join("commondir")]);
            }
            let pwned = nobodys_git_runs_it(&ws, &top.join("sub"), &mark);
            assert_eq!(pwned, !sandbox, "{layout} sandbox={sandbox}");
        }
    }
}

/// Sets on `path` the access ACL user::rwx, user:nobody:---, group::r-x,
/// mask::r-x, other::r-x, written as the kernel's attribute (version 2,
/// then tag, perm, id per entry): no `setfacl` needed.
fn deny_nobody_by_acl(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 7u16, u32::MAX),
        (0x02, 0, 65534),
        (0x04, 5, u32::MAX),
        (0x10, 5, u32::MAX),
        (0x20, 5, u32::MAX),
    ] {
        acl.extend(tag.to_le_bytes());
        acl.extend(perm.to_le_bytes());
        acl.extend(id.to_le_bytes());
    }
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path, a name, and a value of the length passed.
    let rc = unsafe {
        libc::setxattr(
            c.as_ptr(),
            c"system.posix_acl_access".as_ptr(),
            acl.as_ptr().cast(),
            acl.len(),
            0,
        )
    };
    assert_eq!(rc, 0, "setxattr: {}", std::io::Error::last_os_error());
}
