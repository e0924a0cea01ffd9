//! `cordon trace` and `cordon learn` (issue 15; contract §6, "Seeing
//! denials"): real programs (sh, python, git, a cache-writing script) under
//! the tracer, as root and as an unprivileged user, each beside a control
//! run without cordon that shows the operation works outside the sandbox.

mod support;

use std::path::Path;

use serde_json::Value;
use support::*;

const PYTHON: &str = "/usr/bin/python3";

/// `cordon trace --json -o REPORT FLAGS -- ARGV`, and the report.
fn trace(ws: &Ws, flags: &[&str], argv: &[&str]) -> (Outcome, Value) {
    let report = ws.s("tmp/report.json");
    let _ = std::fs::remove_file(&report);
    let mut args = vec!["trace", "--json", "-o", &report];
    args.extend_from_slice(flags);
    args.push("--");
    args.extend_from_slice(argv);
    let out = cordon(ws, &args);
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {text:?} {out:?}"));
    (out, json)
}

/// The denial of `op` on `path` in the report.
#[track_caller]
fn denial<'a>(report: &'a Value, op: &str, path: &Path) -> &'a Value {
    report["denials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["op"] == op && d["path"] == path.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {op} of {} in {report:#}", path.display()))
}

/// The mechanism behind a denied write outside the roots, by errno.
fn mechanism(errno: &str) -> &'static str {
    if errno == "EROFS" {
        "mount"
    } else {
        "landlock"
    }
}

/// The command that writes a tool's cache under `$HOME`, as npm or pip do.
fn cache_script(ws: &Ws) -> String {
    format!("echo data > {}/.toolcache/blob", ws.s("home"))
}

#[test]
fn a_cache_write_under_home_is_reported_with_the_directory_to_grant() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("home/.toolcache");
        let script = cache_script(&ws);
        let ctl = run_as(user, &ws.work(), &ws.env(), &["sh", "-c", &script]);
        assert_eq!(ctl.status, 0, "control: {ctl:?}");
        std::fs::remove_file(ws.join("home/.toolcache/blob")).unwrap();

        let (out, report) = trace(&ws, &[], &["sh", "-c", &format!("{script}; exit 7")]);
        assert_eq!(out.status, 7, "the command's status: {out:?}");
        assert!(!ws.join("home/.toolcache/blob").exists());
        let errno = denied_write(user);
        let d = denial(&report, "create", &ws.join("home/.toolcache/blob"));
        assert_eq!(d["errno"], errno, "{d}");
        assert_eq!(d["mechanism"], mechanism(errno), "{d}");
        assert_eq!(d["fix"], "--allow-write ~/.toolcache", "{d}");
        assert_eq!(d["syscall"], "openat", "{d}");
        assert_eq!(report["status"]["code"], 7);
    }
}

#[test]
fn the_text_report_goes_to_stderr_after_the_command() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("home/.toolcache");
        let out = cordon(&ws, &["trace", "--", "sh", "-c", &cache_script(&ws)]);
        assert_ne!(out.status, 0, "{out:?}");
        let at = out
            .stderr
            .find("cordon trace: the command exited with status")
            .unwrap_or_else(|| panic!("{out:?}"));
        let tail = &out.stderr[at..];
        assert!(
            tail.contains(&format!("create {}/.toolcache/blob: ", ws.s("home"))),
            "{out:?}"
        );
        assert!(
            tail.contains("    fix: --allow-write ~/.toolcache\n"),
            "{out:?}"
        );
        // The command's own error came before the report.
        assert!(out.stderr[..at].contains("blob"), "{out:?}");
    }
}

#[test]
fn python_threads_descendants_and_exec_chains_are_followed() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("home/.pycache_t");
        ws.mkdir("home/.forked");
        let home = ws.s("home");
        // A thread of a python that a shell exec'd from a shell's child.
        let py = format!(
            "import threading\ndef w():\n    open('{home}/.pycache_t/thread', 'w')\nt = threading.Thread(target=w)\nt.start(); t.join()\n"
        );
        let inner = format!("exec {PYTHON} -c \"$PY\"");
        let script = format!("sh -c '{inner}'; (touch {home}/.forked/child) & wait; true");
        let env_script = format!("export PY=\"{}\"; {script}", py.replace('"', "\\\""));
        let ctl = run_as(user, &ws.work(), &ws.env(), &["sh", "-c", &env_script]);
        assert_eq!(ctl.status, 0, "control: {ctl:?}");
        assert!(ws.join("home/.pycache_t/thread").exists());
        std::fs::remove_file(ws.join("home/.pycache_t/thread")).unwrap();
        std::fs::remove_file(ws.join("home/.forked/child")).unwrap();

        let (out, report) = trace(&ws, &[], &["sh", "-c", &env_script]);
        assert_eq!(out.status, 0, "{out:?}");
        let errno = denied_write(user);
        let d = denial(&report, "create", &ws.join("home/.pycache_t/thread"));
        assert_eq!(d["errno"], errno);
        assert_eq!(d["fix"], "--allow-write ~/.pycache_t");
        let d = denial(&report, "create", &ws.join("home/.forked/child"));
        assert_eq!(d["errno"], errno);
    }
}

#[test]
fn git_writing_into_a_protected_git_directory_names_unprotect() {
    for user in users() {
        let ws = Ws::new(user);
        let g = git(&ws, &ws.work(), &["init", "-q"]);
        assert_eq!(g.status, 0, "{g:?}");
        let ctl = git(&ws, &ws.work(), &["config", "cordon.probe", "control"]);
        assert_eq!(ctl.status, 0, "control: {ctl:?}");

        let (out, report) = trace(&ws, &[], &["git", "config", "cordon.probe", "sandboxed"]);
        assert_ne!(out.status, 0, "{out:?}");
        let d = denial(&report, "create", &ws.join("work/.git/config.lock"));
        assert_eq!(d["fix"], "--unprotect .git", "{d}");
        assert!(
            d["warning"]
                .as_str()
                .unwrap()
                .contains("writable in every writable root"),
            "{d}"
        );
    }
}

#[test]
fn a_seccomp_denial_without_a_path_names_the_syscall_and_the_flag() {
    for user in users() {
        let ws = Ws::new(user);
        let py = "import socket\ntry:\n    socket.socket()\nexcept OSError as e:\n    print('errno', e.errno)\n";
        let ctl = run_as(user, &ws.work(), &ws.env(), &[PYTHON, "-c", py]);
        assert_eq!(ctl.status, 0, "control: {ctl:?}");
        assert!(!ctl.stdout.contains("errno"), "control: {ctl:?}");

        let (out, report) = trace(&ws, &[], &[PYTHON, "-c", py]);
        // The command still sees EPERM, as under `run`.
        assert_eq!(out.stdout.trim(), "errno 1", "{out:?}");
        let d = report["denials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["syscall"] == "socket")
            .unwrap_or_else(|| panic!("{report:#}"));
        assert_eq!(d["target"], "AF_INET");
        assert_eq!(d["errno"], "EPERM");
        assert_eq!(d["mechanism"], "seccomp");
        assert_eq!(d["fix"], "--network");
        assert_eq!(d["path"], Value::Null);

        // With the network on, nothing is denied.
        let (out, report) = trace(&ws, &["--network"], &[PYTHON, "-c", py]);
        assert_eq!(out.stdout.trim(), "", "{out:?}");
        assert!(
            report["denials"].as_array().unwrap().is_empty(),
            "{report:#}"
        );
    }
}

#[test]
fn the_json_report_has_a_fixed_shape() {
    let ws = Ws::new(users()[0]);
    ws.mkdir("home/.toolcache");
    let (_, report) = trace(&ws, &[], &["sh", "-c", &cache_script(&ws)]);
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&report),
        [
            "command",
            "denials",
            "dropped",
            "not_sandbox",
            "outlived",
            "policy",
            "status",
            "version"
        ]
    );
    assert_eq!(report["version"], 1);
    assert_eq!(keys(&report["status"]), ["code", "signal"]);
    assert_eq!(
        keys(&report["denials"][0]),
        [
            "count",
            "errno",
            "fix",
            "mechanism",
            "op",
            "path",
            "rule",
            "syscall",
            "target",
            "warning"
        ]
    );
}

#[test]
fn a_command_killed_by_a_signal_kills_cordon_with_it() {
    for user in users() {
        let ws = Ws::new(user);
        let out = cordon(&ws, &["trace", "--", "sh", "-c", "kill -TERM $$"]);
        assert_eq!(out.status, 128 + libc::SIGTERM, "{out:?}");
        assert!(out.stderr.contains("was killed by signal 15"), "{out:?}");
    }
}

#[test]
fn learn_writes_a_profile_that_makes_the_next_run_succeed() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("home/.toolcache");
        let script = cache_script(&ws);
        let plain = cordon(&ws, &["run", "--", "sh", "-c", &script]);
        assert_ne!(plain.status, 0, "plain run must fail first: {plain:?}");

        let learned = ws.s("tmp/learned.toml");
        let out = cordon(&ws, &["learn", "-o", &learned, "--", "sh", "-c", &script]);
        assert_ne!(out.status, 0, "{out:?}");
        let text = std::fs::read_to_string(&learned).unwrap();
        assert!(text.contains("extends = \"workspace-write\"\n"), "{text}");
        let errno = denied_write(user);
        assert!(
            text.contains(&format!(
                "  # denied: create {}/.toolcache/blob ({errno})\n  \"{}/.toolcache\",\n",
                ws.s("home"),
                ws.s("home")
            )),
            "{text}"
        );

        let again = cordon(&ws, &["run", "-p", &learned, "--", "sh", "-c", &script]);
        assert_eq!(again.status, 0, "{again:?}\n{text}");
        assert_eq!(ws.read("home/.toolcache/blob"), "data\n");
    }
}

#[test]
fn learn_never_grants_protected_paths_the_network_or_home() {
    let ws = Ws::new(users()[0]);
    git(&ws, &ws.work(), &["init", "-q"]);
    let learned = ws.s("tmp/learned.toml");
    let script = format!(
        "touch .git/x; {PYTHON} -c 'import socket; socket.socket()'; touch {}/newfile; touch /etc/cordon-learn-probe /proc/sys/kernel/core_pattern {}/ancestor-probe; true",
        ws.s("home"),
        ws.path().display()
    );
    let out = cordon(&ws, &["learn", "-o", &learned, "--", "sh", "-c", &script]);
    assert_eq!(out.status, 0, "{out:?}");
    let text = std::fs::read_to_string(&learned).unwrap();
    // Nothing is granted: every line past `extends` is a comment.
    let live: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    assert_eq!(live, ["extends = \"workspace-write\""], "{text}");
    assert!(text.contains("not granted: protected path .git"), "{text}");
    assert!(text.contains("not granted: the network"), "{text}");
    assert!(text.contains("not granted: all of $HOME"), "{text}");
    // What the host runs or trusts: never granted (adversarial pass 6).
    assert!(
        text.contains("is in /etc, which the host runs or trusts"),
        "{text}"
    );
    assert!(
        text.contains("is in /proc, which the host runs or trusts"),
        "{text}"
    );
    // A directory above $HOME holds all of it (adversarial pass 8).
    assert!(text.contains("holds $HOME: never granted"), "{text}");
    // And the profile loads.
    let run = cordon(&ws, &["run", "-p", &learned, "--", "true"]);
    assert_eq!(run.status, 0, "{run:?}");
}

/// The output may lie in a writable root, where the command can remove,
/// refill or swap it while it runs: what `learn` and `trace -o` leave there
/// is what cordon wrote after the command ended (adversarial pass 6 made
/// the learned profile say `extends = "full-access"`).
#[test]
fn the_command_cannot_write_the_learned_profile_or_the_report() {
    for user in users() {
        let ws = Ws::new(user);
        let learned = ws.s("work/learned.toml");
        let forged = "rm -f learned.toml; printf 'extends = \"full-access\"\\n' > learned.toml; ";
        let refill = format!(
            "{PYTHON} -c \"f=open('learned.toml','r+'); f.seek(0, 2); f.write(chr(10)*2000+'[network]'+chr(10)+'enabled = true'+chr(10))\"; true"
        );
        // Control: the same script unsandboxed rewrites the file.
        std::fs::write(&learned, "").unwrap();
        ws.chown(Path::new(&learned));
        let c = run_as(
            user,
            &ws.work(),
            &ws.env(),
            &["sh", "-c", &format!("{forged}{refill}")],
        );
        assert_eq!(c.status, 0, "{c:?}");
        assert!(
            std::fs::read_to_string(&learned)
                .unwrap()
                .contains("full-access")
        );
        for script in [format!("{forged}true"), refill.clone()] {
            let out = cordon(&ws, &["learn", "-o", &learned, "--", "sh", "-c", &script]);
            assert_eq!(out.status, 0, "{user:?}: {out:?}");
            let text = std::fs::read_to_string(&learned).unwrap();
            let live: Vec<&str> = text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .collect();
            assert_eq!(live, ["extends = \"workspace-write\""], "{user:?}: {text}");
        }
        // trace -o swapped for a symlink to a file the command wrote.
        let report = ws.s("work/report.txt");
        let swap = "echo forged > fake.txt; rm -f report.txt; ln -s fake.txt report.txt; touch /etc/cordon-trace-probe; true";
        let out = cordon(&ws, &["trace", "-o", &report, "--", "sh", "-c", swap]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        let meta = std::fs::symlink_metadata(&report).unwrap();
        assert!(
            meta.is_file(),
            "{user:?}: the report is still the command's symlink"
        );
        let text = std::fs::read_to_string(&report).unwrap();
        assert!(text.contains("cordon trace:"), "{user:?}: {text}");
        assert_eq!(ws.read("work/fake.txt"), "forged\n");
    }
}

#[test]
fn an_unwritable_output_is_refused_before_anything_runs() {
    for user in users() {
        let ws = Ws::new(user);
        let marker = ws.s("work/ran");
        for sub in ["trace", "learn"] {
            let out = cordon(
                &ws,
                &[sub, "-o", "/nonexistent-dir/report", "--", "touch", &marker],
            );
            out.assert_refused("-o /nonexistent-dir/report");
            assert!(!Path::new(&marker).exists(), "{sub} ran the command");
        }
    }
}

#[test]
fn extends_takes_a_builtin_or_a_file_and_refuses_cycles_and_missing_files() {
    let ws = Ws::new(users()[0]);
    ws.write(
        "work/base.toml",
        "extends = \"read-only\"\n[file_system]\nwrite = [\"../outside\"]\n",
    );
    ws.write("work/sub/child.toml", "extends = \"../base.toml\"\n");
    let ok = cordon(
        &ws,
        &[
            "run",
            "-p",
            "sub/child.toml",
            "--",
            "touch",
            &ws.s("outside/f"),
        ],
    );
    assert_eq!(ok.status, 0, "{ok:?}");
    assert!(ws.join("outside/f").exists());
    // The chain ends in read-only: the workspace itself is not writable.
    let ro = cordon(&ws, &["run", "-p", "sub/child.toml", "--", "touch", "w"]);
    assert_ne!(ro.status, 0, "{ro:?}");

    ws.write("work/a.toml", "extends = \"b.toml\"\n");
    ws.write("work/b.toml", "extends = \"./a.toml\"\n");
    cordon(&ws, &["run", "-p", "a.toml", "--", "true"]).assert_refused("a cycle");
    ws.write("work/m.toml", "extends = \"missing.toml\"\n");
    cordon(&ws, &["run", "-p", "m.toml", "--", "true"]).assert_refused("missing.toml");
    ws.write("work/n.toml", "extends = \"no-such-builtin\"\n");
    cordon(&ws, &["run", "-p", "n.toml", "--", "true"]).assert_refused("no built-in profile");
}

#[test]
fn doctor_names_the_denial_source_trace_gets() {
    let ws = Ws::new(users()[0]);
    let out = cordon(&ws, &["doctor", "--json"]);
    let j: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").ok();
    let want = match scope.as_deref().map(str::trim) {
        Some("3") => "none",
        _ => "ptrace",
    };
    assert_eq!(j["trace"]["source"], want, "{j}");
    let abi = j["landlock"]["abi"].as_u64().unwrap();
    assert_eq!(j["trace"]["landlock_audit"], abi >= 7, "{j}");
    let text = cordon(&ws, &["doctor"]);
    assert!(text.stdout.contains("\ntrace: denials from "), "{text:?}");
}

#[test]
fn explain_ends_each_denied_verdict_with_the_flag_that_allows_it() {
    for user in users() {
        let ws = Ws::new(user);
        ws.write("outside/f", "x");
        ws.write("home/.ssh/id_test", "secret");
        git(&ws, &ws.work(), &["init", "-q"]);
        let out = cordon(
            &ws,
            &[
                "explain",
                &ws.s("outside/f"),
                ".git/config",
                &ws.s("home/.ssh/id_test"),
            ],
        );
        assert_eq!(out.status, 0, "{out:?}");
        let s = &out.stdout;
        let after = |line: &str| -> String {
            let at = s.find(line).unwrap_or_else(|| panic!("no {line:?} in {s}"));
            s[at..].lines().nth(1).unwrap_or("").to_string()
        };
        assert_eq!(
            after(&format!("write {}: denied", ws.s("outside/f"))),
            format!("  fix: --allow-write {}", ws.s("outside/f"))
        );
        assert!(
            after("/.git/config: denied").starts_with("  fix: --unprotect .git ("),
            "{s}"
        );
        assert!(
            after("/home/.ssh/id_test: denied")
                .starts_with("  fix: --allow-read ~/.ssh/id_test (lifts deny entry :secrets"),
            "{s}"
        );
        // A write there is outside every root too: both flags.
        assert!(
            after(&format!("write {}: denied", ws.s("home/.ssh/id_test")))
                .starts_with("  fix: --allow-read ~/.ssh/id_test --allow-write ~/.ssh/id_test ("),
            "{s}"
        );
        // Allowed verdicts have no fix line.
        assert!(
            !after(&format!("read {}: allowed", ws.s("outside/f"))).contains("fix"),
            "{s}"
        );
        // And the flag works.
        let lifted = cordon(
            &ws,
            &[
                "explain",
                "--allow-read",
                &ws.s("home/.ssh/id_test"),
                &ws.s("home/.ssh/id_test"),
            ],
        );
        assert!(
            lifted
                .stdout
                .contains(&format!("read {}: allowed", ws.s("home/.ssh/id_test"))),
            "{lifted:?}"
        );
    }
}

#[test]
fn run_names_the_flag_when_the_sandbox_refuses_to_execute_the_command() {
    for user in users() {
        let ws = Ws::new(user);
        let tool = ws.write("outside/tool.sh", "#!/bin/sh\necho ran\n");
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        ws.write("work/min.toml", "[file_system]\nread = [\":minimal\"]\n");
        let ctl = run_as(user, &ws.work(), &ws.env(), &[tool.to_str().unwrap()]);
        assert_eq!(ctl.stdout, "ran\n", "control: {ctl:?}");
        let out = cordon(
            &ws,
            &["run", "-p", "min.toml", "--", tool.to_str().unwrap()],
        );
        assert_eq!(out.status, 126, "{out:?}");
        assert!(
            out.stderr.contains(&format!(
                "the sandbox denies it (outside the read scope): --allow-read {} would allow it",
                tool.display()
            )),
            "{out:?}"
        );
    }
}

#[test]
fn learn_never_grants_a_protected_name_outside_a_writable_root() {
    // $HOME is in no writable root here, so ~/.bashrc is not protected by
    // the plan; a grant of it would make it writable. learn refuses.
    let ws = Ws::new(users()[0]);
    ws.write("home/.bashrc", "# rc\n");
    let learned = ws.s("tmp/learned.toml");
    let script = format!("echo evil >> {}/.bashrc; true", ws.s("home"));
    let out = cordon(&ws, &["learn", "-o", &learned, "--", "sh", "-c", &script]);
    assert_eq!(out.status, 0, "{out:?}");
    let text = std::fs::read_to_string(&learned).unwrap();
    assert!(!text.contains("\n  \""), "a grant was written: {text}");
    assert!(text.contains("inside) protected name ~/.bashrc"), "{text}");
}

/// The tracer is outside the sandbox with the caller's rights: the command
/// cannot ptrace it, signal it, or open its /proc files.
#[test]
fn the_command_cannot_reach_its_tracer() {
    for user in users() {
        let ws = Ws::new(user);
        let mut v = victim(&ws, &[]);
        // Controls: each works against a process of the same user outside.
        control(&ws, &["ptrace-attach", &v.pid]).assert_ok();
        control(&ws, &["kill", &v.pid, "0"]).assert_ok();
        control(&ws, &["read", &format!("/proc/{}/environ", v.pid)]).assert_ok();
        assert!(v.alive());
        let p = probe_bin().to_str().unwrap();
        // `sh`'s parent is the tracer; the probe takes sh's place by exec.
        for (op, errno) in [
            ("ptrace-attach $PPID", "EPERM"),
            ("kill $PPID 9", "EPERM"),
            ("read /proc/$PPID/environ", "EACCES"),
            ("read-at /proc/$PPID/mem 0", "EACCES"),
        ] {
            let (out, _) = trace(&ws, &[], &["sh", "-c", &format!("exec {p} {op}")]);
            out.assert_errno(errno);
        }
    }
}

/// A process that escapes the tracer (clone with CLONE_UNTRACED) keeps both
/// filters: every traced call fails with ENOSYS (no tracer answers the trace
/// action), so it cannot even write in the workspace, and a call the
/// sandbox denies kills it
/// (the trap's SIGSYS, which no tracer drops).
#[cfg(target_arch = "x86_64")]
#[test]
fn a_process_that_escapes_the_tracer_fails_closed() {
    let py = r#"
import ctypes, os, socket
libc = ctypes.CDLL(None, use_errno=True)
def untraced(body):
    pid = libc.syscall(56, 0x00800000 | 17, 0, 0, 0, 0)
    if pid == 0:
        body()
        os._exit(0)
    return os.waitpid(pid, 0)[1]
def opener():
    try:
        os.open("escaped", os.O_WRONLY | os.O_CREAT)
        os.write(1, b"opened\n")
    except OSError as e:
        os.write(1, b"open errno %d\n" % e.errno)
def sock():
    libc.syscall(41, 2, 1, 0)
    os.write(1, b"socket returned\n")
os.write(1, b"status %d\n" % untraced(opener))
os.write(1, b"status %d\n" % untraced(sock))
"#;
    for user in users() {
        let ws = Ws::new(user);
        let ctl = run_as(user, &ws.work(), &ws.env(), &[PYTHON, "-c", py]);
        assert_eq!(
            ctl.stdout, "opened\nstatus 0\nsocket returned\nstatus 0\n",
            "control: {ctl:?}"
        );
        let (out, _) = trace(&ws, &[], &[PYTHON, "-c", py]);
        // SIGSYS (31) by default action: status 31 (and a core bit, if any).
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines[..2], ["open errno 38", "status 0"], "{out:?}");
        let status: i32 = lines[2].trim_start_matches("status ").parse().unwrap();
        assert_eq!(status & 0x7f, libc::SIGSYS, "{out:?}");
    }
}

#[test]
fn a_command_that_daemonizes_is_traced_until_its_last_process_exits() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("home/.daemon");
        let file = ws.join("home/.daemon/pid");
        // The daemon writes after the command has exited.
        let script = format!("(sleep 0.3; echo 1 > {}) & exit 0", file.display());
        let (out, report) = trace(&ws, &["--keep-leftovers"], &["sh", "-c", &script]);
        assert_eq!(out.status, 0, "{out:?}");
        assert_eq!(report["outlived"], true, "{report:#}");
        denial(&report, "create", &file);
        // Without a process left over, the report does not say so.
        let (_, report) = trace(&ws, &[], &["sh", "-c", "exit 0"]);
        assert_eq!(report["outlived"], false, "{report:#}");
    }
}

#[test]
fn a_read_outside_a_restricted_read_scope_is_reported() {
    for user in users() {
        let ws = Ws::new(user);
        let f = ws.write("outside/data", "x\n");
        ws.write("work/min.toml", "[file_system]\nread = [\":minimal\"]\n");
        let ctl = run_as(user, &ws.work(), &ws.env(), &["cat", f.to_str().unwrap()]);
        assert_eq!(ctl.stdout, "x\n", "control: {ctl:?}");
        let (out, report) = trace(&ws, &["-p", "min.toml"], &["cat", f.to_str().unwrap()]);
        assert_ne!(out.status, 0, "{out:?}");
        let d = denial(&report, "open-read", &f);
        assert_eq!(d["errno"], "EACCES");
        assert_eq!(d["mechanism"], "landlock");
        assert_eq!(d["fix"], format!("--allow-read {}", f.display()));
    }
}

#[test]
fn a_signal_sent_to_cordon_reaches_the_command() {
    for user in users() {
        let ws = Ws::new(user);
        let ready = ws.s("work/ready");
        let script = format!("trap 'echo got-term; exit 3' TERM; touch {ready}; sleep 20 & wait");
        let argv = [
            cordon_bin().to_str().unwrap(),
            "trace",
            "--",
            "sh",
            "-c",
            &script,
        ];
        let mut cmd = command_as(user, &ws.work(), &ws.env(), &argv);
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().unwrap();
        let started = std::time::Instant::now();
        while !Path::new(&ready).exists() {
            assert!(
                started.elapsed().as_secs() < 10,
                "the command never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // setpriv execs cordon: the spawned pid is cordon's.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout, "got-term\n", "{out:?}");
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        assert!(
            started.elapsed().as_secs() < 15,
            "cordon waited for the sleep"
        );
    }
}
