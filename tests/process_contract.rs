//! The process contract (issue: hardening): cordon execs the command in
//! place, so its exit status, signals, terminal and standard streams are the
//! command's own. Each test runs as root and as an unprivileged user.

// Linux only: it runs users through setpriv and terminals through tmux.
#![cfg(target_os = "linux")]

mod support;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// `argv` as the workspace's user in the workspace, with its environment.
fn command_in(ws: &Ws, argv: &[&str]) -> Command {
    command_as(ws.user, &ws.work(), &ws.env(), argv)
}

fn c() -> &'static str {
    cordon_bin().to_str().unwrap()
}

#[test]
fn exit_codes_0_to_255_pass_through() {
    for user in users() {
        let ws = Ws::new(user);
        for code in 0..=255 {
            let script = format!("exit {code}");
            let out = cordon(&ws, &["run", "--", "sh", "-c", &script]);
            assert_eq!(out.status, code, "{user:?}: {out:?}");
            assert!(out.stderr.is_empty(), "{out:?}");
        }
    }
}

#[test]
fn death_by_signal_is_128_plus_n_to_the_calling_shell() {
    for user in users() {
        let ws = Ws::new(user);
        for (name, n) in [
            ("HUP", 1),
            ("INT", 2),
            ("QUIT", 3),
            ("ABRT", 6),
            ("KILL", 9),
            ("USR1", 10),
            ("SEGV", 11),
            ("PIPE", 13),
            ("TERM", 15),
        ] {
            // The calling shell reports the status; no core files.
            let victim = format!("sh -c 'kill -{name} $$'");
            let report = |wrap: &str| {
                let script = format!("ulimit -c 0; {wrap}{victim}; echo status=$?");
                run_as(user, &ws.work(), &ws.env(), &["sh", "-c", &script])
            };
            let want = format!("status={}", 128 + n);
            let control = report("");
            assert_eq!(control.stdout.trim(), want, "control: {control:?}");
            let out = report(&format!("{} run -- ", c()));
            assert_eq!(out.stdout.trim(), want, "{user:?} SIG{name}: {out:?}");
        }
    }
}

/// Deterministic bytes with every value, NULs and no line structure.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Runs `argv` with `input` on stdin (written from another thread, so a
/// full pipe cannot deadlock) and returns (status, stdout, stderr).
fn pipe_through(ws: &Ws, argv: &[&str], input: &[u8]) -> (i32, Vec<u8>, Vec<u8>) {
    let mut child = command_in(ws, argv)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    (out.status.code().unwrap_or(-1), out.stdout, out.stderr)
}

#[test]
fn stdin_stdout_and_stderr_pass_byte_for_byte() {
    let data = noise(1 << 20);
    assert!((0..=255u8).all(|b| data.contains(&b)));
    for user in users() {
        let ws = Ws::new(user);
        let (status, out, err) = pipe_through(&ws, &[c(), "run", "--", "cat"], &data);
        assert_eq!(status, 0, "{user:?}: {}", String::from_utf8_lossy(&err));
        assert!(
            out == data,
            "{user:?}: stdout differs ({} bytes)",
            out.len()
        );
        assert!(err.is_empty());
        let (status, out, err) =
            pipe_through(&ws, &[c(), "run", "--", "sh", "-c", "cat >&2"], &data);
        assert_eq!(status, 0, "{user:?}");
        assert!(out.is_empty());
        assert!(
            err == data,
            "{user:?}: stderr differs ({} bytes)",
            err.len()
        );
        // A file as stdin (not a pipe), read back through stdout.
        let file = ws.join("outside/noise");
        std::fs::write(&file, &data).unwrap();
        let out = command_in(&ws, &[c(), "run", "--", "cat"])
            .stdin(std::fs::File::open(&file).unwrap())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(out.stdout == data, "{user:?}: file stdin differs");
    }
}

#[test]
fn argv_and_environment_pass_byte_for_byte() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    // Invalid UTF-8, control characters, an empty argument, a newline.
    let odd: &[u8] = b"\xff\xfe a\x01\tb\nc";
    let odd = OsStr::from_bytes(odd);
    for user in users() {
        let ws = Ws::new(user);
        let script = r#"printf '%s|' "$@"; printf '%s' "$CORDON_TEST_ODD""#;
        let run = |wrap: bool| {
            let mut argv: Vec<&OsStr> = Vec::new();
            if wrap {
                argv.extend([c(), "run", "--"].map(OsStr::new));
            }
            argv.extend(["sh", "-c", script, "sh", ""].map(OsStr::new));
            argv.push(odd);
            let first = argv[0].to_str().unwrap();
            let mut cmd = command_in(&ws, &[first]);
            cmd.args(&argv[1..]).env("CORDON_TEST_ODD", odd);
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "{out:?}");
            out.stdout
        };
        let control = run(false);
        assert!(control.starts_with(b"|\xff\xfe a\x01"), "{control:?}");
        assert_eq!(run(true), control, "{user:?}");
    }
}

#[test]
fn two_hundred_concurrent_runs_all_succeed_with_their_own_output() {
    for user in users() {
        let ws = Ws::new(user);
        let start = std::sync::Barrier::new(200);
        let results: Vec<(usize, std::process::Output)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..200)
                .map(|i| {
                    let (ws, start) = (&ws, &start);
                    s.spawn(move || {
                        let n = i.to_string();
                        let argv = [c(), "run", "--", "sh", "-c", "echo \"run $1\"", "sh", &n];
                        let mut cmd = command_in(ws, &argv);
                        start.wait();
                        (i, cmd.output().unwrap())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.len(), 200);
        for (i, out) in results {
            assert!(out.status.success(), "{user:?} run {i}: {out:?}");
            assert_eq!(out.stdout, format!("run {i}\n").as_bytes(), "{user:?}");
            assert!(out.stderr.is_empty(), "{user:?} run {i}: {out:?}");
        }
    }
}

/// A tmux server of the workspace's user, with one session running
/// `script` (a file in the workspace, run by sh).
struct Tmux<'a> {
    ws: &'a Ws,
    sock: PathBuf,
}

impl<'a> Tmux<'a> {
    fn start(ws: &'a Ws, name: &str, script: &str) -> Tmux<'a> {
        let file = ws.write(&format!("work/{name}.sh"), script);
        Tmux::launch(ws, &format!("sh {}", file.display()))
    }

    /// A session whose pane runs the shell command `cmd`, on a server of
    /// its own (one that is still shutting down would take the session).
    fn launch(ws: &'a Ws, cmd: &str) -> Tmux<'a> {
        static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = Tmux {
            ws,
            sock: ws.join(&format!("tmp/tmux-{n}.sock")),
        };
        let out = t.tmux(&["new-session", "-d", "-x", "120", "-y", "40", cmd]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        t
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        let sock = self.sock.to_str().unwrap();
        let mut argv = vec!["tmux", "-S", sock, "-f", "/dev/null"];
        argv.extend_from_slice(args);
        // tmux runs commands with $SHELL, else the passwd shell (nobody's
        // is nologin).
        command_in(self.ws, &argv)
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        let out = self.tmux(&args);
        assert!(out.status.success(), "send-keys: {out:?}");
    }

    fn pane(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-t", "0", "-S", "-"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pane once it shows `needle` (polled; gives up after 30 s).
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let pane = self.pane();
            if pane.contains(needle) {
                return pane;
            }
            assert!(
                Instant::now() < deadline,
                "{:?}: no {needle:?} in the pane:\n{pane}",
                self.ws.user
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// tmux must be there (.ci/run installs it): a missing tool must not read
/// as a pass.
fn require_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tmux is needed for the terminal tests: apt-get install -y tmux"
    );
}

#[test]
fn sigint_from_the_terminal_reaches_the_command() {
    require_tmux();
    for user in users() {
        let ws = Ws::new(user);
        // The outer shell survives ^C (a trap, not an ignore: an ignored
        // signal would stay ignored in the command) to report the status.
        let script = format!(
            "trap 'true' INT\n\
             {} run -- sh -c 'trap \"echo got-int; exit 3\" INT; echo ready; sleep 30; echo no-int'\n\
             echo \"status=$?\"\n\
             sleep 60\n",
            c()
        );
        let t = Tmux::start(&ws, "int", &script);
        t.wait_for("ready");
        t.keys(&["C-c"]);
        let pane = t.wait_for("status=");
        assert!(pane.contains("got-int"), "{user:?}:\n{pane}");
        assert!(pane.contains("status=3"), "{user:?}:\n{pane}");
        assert!(!pane.contains("no-int"), "{user:?}:\n{pane}");
    }
}

#[test]
fn commands_reading_the_terminal_work_under_tmux() {
    require_tmux();
    for user in users() {
        let ws = Ws::new(user);
        let script = format!(
            "{c} run -- sh -c 'tty; echo tty-named; exec cat'\n\
             echo \"cat-status=$?\"\n\
             {c} run -- python3 -c 'print(\"got:\", input())'\n\
             echo \"py-status=$?\"\n\
             sleep 60\n",
            c = c()
        );
        let t = Tmux::start(&ws, "tty", &script);
        // The command's stdin is the pane's terminal (named /dev/pts/N, or
        // /dev/console where a private /dev/pts hides that name).
        let pane = t.wait_for("tty-named");
        assert!(
            pane.contains("/dev/pts/") || pane.contains("/dev/console"),
            "{user:?}:\n{pane}"
        );
        t.keys(&["hello-cat", "Enter"]);
        // Once echoed by the terminal, once by cat.
        let deadline = Instant::now() + Duration::from_secs(30);
        while t.pane().matches("hello-cat").count() < 2 {
            assert!(Instant::now() < deadline, "{user:?}:\n{}", t.pane());
            std::thread::sleep(Duration::from_millis(50));
        }
        t.keys(&["C-d"]);
        t.wait_for("cat-status=0");
        t.keys(&["hello-py", "Enter"]);
        let pane = t.wait_for("py-status=");
        assert!(pane.contains("got: hello-py"), "{user:?}:\n{pane}");
        assert!(pane.contains("py-status=0"), "{user:?}:\n{pane}");
    }
}

#[test]
fn a_full_pipe_and_a_closed_stdout_behave_as_without_cordon() {
    // SIGPIPE: `yes | head -1` ends with yes killed by SIGPIPE (141) in
    // both cases; the pipeline itself succeeds.
    for user in users() {
        let ws = Ws::new(user);
        for wrap in ["", &format!("{} run -- ", c())] {
            let script = format!("{wrap}yes | head -1; echo \"${{PIPESTATUS[0]}}\"");
            let out = run_as(user, &ws.work(), &ws.env(), &["bash", "-c", &script]);
            assert_eq!(out.stdout, "y\n141\n", "{user:?} {wrap:?}: {out:?}");
        }
        // Reading a large output partially is fine too.
        let mut child = command_in(&ws, &[c(), "run", "--", "cat", "/dev/zero"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut buf = vec![0u8; 1 << 16];
        child.stdout.as_mut().unwrap().read_exact(&mut buf).unwrap();
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGPIPE), "{user:?}");
    }
}

/// A command that leaves a process behind, which holds the terminal: it
/// opens `/dev/tty`, forks a child that calls setsid (so the shell's job
/// control no longer sees it) and keeps reading the terminal after the
/// command has exited. Writes what it got, or why it could not, to `out`.
const LEFTOVER: &str = r#"
import os, sys
out = sys.argv[1]
try:
    fd = os.open("/dev/tty", os.O_RDWR)
except OSError as e:
    open(out, "w").write("no-tty: %s\n" % os.strerror(e.errno))
    sys.exit(0)
if os.fork() == 0:
    os.setsid()
    data = os.read(fd, 100).decode(errors="replace").strip()
    open(out, "w").write("leftover-read: %s\n" % data)
    os._exit(0)
"#;

/// The agent's call: stdin, stdout and stderr away from the terminal, in a
/// terminal session (a tmux pane), from a shell without job control (`sh`:
/// cordon can setsid) and with it (`bash` with `set -m`: cordon leads its
/// process group, setsid is refused, TIOCNOTTY drops the terminal).
#[test]
fn a_command_without_the_terminal_on_stdio_cannot_keep_it_for_a_leftover() {
    require_tmux();
    for user in users() {
        for shell in ["sh", "bash-m"] {
            let ws = Ws::new(user);
            ws.write("work/leftover.py", LEFTOVER);
            let prefix = if shell == "bash-m" {
                "#!/bin/bash\nset -m\n"
            } else {
                ""
            };
            let redirect = "</dev/null >/dev/null 2>&1";
            for wrap in ["", &format!("{} run -- ", c())] {
                let out = ws.join(&format!("work/out-{}", wrap.len()));
                let script = format!(
                    "{prefix}\
                     {c} run --dry-run -- true </dev/null 2>/dev/null | grep '^session'\n\
                     {wrap}python3 -c 'import os,sys; print(\"ctty\", os.ttyname(os.open(\"/dev/tty\", os.O_RDONLY)))' {redirect} || echo no-dev-tty\n\
                     {wrap}python3 leftover.py {out} {redirect}\n\
                     echo command-done\n\
                     sleep 2\n\
                     read -r line; echo \"shell-got:$line\"\n\
                     sleep 60\n",
                    c = c(),
                    out = out.display(),
                );
                // Run by bash for `set -m`, by sh otherwise.
                let file = ws.write("work/pane.sh", &script);
                let runner = if shell == "bash-m" { "bash" } else { "sh" };
                let t = Tmux::launch(&ws, &format!("{runner} {}", file.display()));
                let pane = t.wait_for("command-done");
                // While the shell sleeps, the user types the next line.
                t.keys(&["secret-line", "Enter"]);
                let what = format!("{user:?} {shell} wrap={wrap:?}");
                if wrap.is_empty() {
                    // Control: the leftover took the line.
                    let got = wait_file(&out);
                    assert_eq!(got, "leftover-read: secret-line\n", "{what}");
                    t.keys(&["second-line", "Enter"]);
                    let pane = t.wait_for("shell-got:");
                    assert!(pane.contains("shell-got:second-line"), "{what}:\n{pane}");
                } else {
                    let pane2 = t.wait_for("shell-got:");
                    assert!(pane2.contains("shell-got:secret-line"), "{what}:\n{pane2}");
                    let got = wait_file(&out);
                    assert_eq!(got, "no-tty: No such device or address\n", "{what}");
                    // The dry run said how.
                    let how = if shell == "bash-m" {
                        "TIOCNOTTY: cordon leads its process group"
                    } else {
                        "new, without a controlling terminal (setsid)"
                    };
                    assert!(pane.contains(how), "{what}:\n{pane}");
                    assert!(pane.contains("no-dev-tty"), "{what}:\n{pane}");
                }
            }
        }
    }
}

/// The contents of `path` once it has some (polled; gives up after 30 s).
fn wait_file(path: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.ends_with('\n') {
            return text;
        }
        assert!(Instant::now() < deadline, "nothing in {}", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Interactive use (fds 0-2 on the terminal) keeps the terminal: `/dev/tty`
/// opens and `tty` names it. `--new-session` takes it away without
/// disturbing the caller's shell, from a shell with job control (cordon
/// leads its group: TIOCNOTTY) and without (setsid); `^C` reaching the
/// command is `sigint_from_the_terminal_reaches_the_command`.
#[test]
fn interactive_use_keeps_the_terminal_unless_new_session() {
    require_tmux();
    for user in users() {
        for runner in ["sh", "bash"] {
            let ws = Ws::new(user);
            let job_control = if runner == "bash" { "set -m\n" } else { "" };
            let probe = "tty; exec 3<>/dev/tty && echo dev-tty-opened";
            let script = format!(
                "{job_control}\
                 {c} run -- sh -c '{probe}'\n\
                 echo \"kept-status=$?\"\n\
                 {c} run --new-session -- sh -c '{probe}'\n\
                 echo \"new-status=$?\"\n\
                 sleep 60\n",
                c = c()
            );
            let file = ws.write("work/pane.sh", &script);
            let t = Tmux::launch(&ws, &format!("{runner} {}", file.display()));
            let pane = t.wait_for("new-status=");
            let what = format!("{user:?} {runner}");
            let (kept, new) = pane.split_once("kept-status=").unwrap();
            assert!(kept.contains("dev-tty-opened"), "{what}:\n{pane}");
            assert!(
                kept.lines().any(|l| l.starts_with("/dev/")),
                "{what}:\n{pane}"
            );
            assert!(new.starts_with('0'), "{what}:\n{pane}");
            // fd 0 is still the terminal, so `tty` names it; /dev/tty (the
            // controlling terminal) is gone. The shell goes on.
            assert!(new.contains("No such device or address"), "{what}:\n{pane}");
            assert!(!new.contains("dev-tty-opened"), "{what}:\n{pane}");
            assert!(
                new.lines().any(|l| l.starts_with("/dev/")),
                "{what}:\n{pane}"
            );
            assert!(pane.contains("new-status=2"), "{what}:\n{pane}");
        }
    }
}

/// cordon exec'd by a session leader that has a terminal (`script -c 'exec
/// cordon ...'`, a tmux pane's shell that execs): dropping the terminal
/// would take TIOCNOTTY from the session leader, which hangs up the
/// terminal's foreground process group. cordon never does that: by default
/// the command keeps the terminal (and `--dry-run` says so); an explicit
/// `--new-session` is refused before anything runs.
#[test]
fn a_session_leader_keeps_its_terminal_and_refuses_new_session() {
    for user in users() {
        let ws = Ws::new(user);
        let in_script = |cmd: String| {
            let argv = ["script", "-qec", &cmd, "/dev/null"];
            let mut env = ws.env();
            env.push(("SHELL".into(), "/bin/sh".into()));
            run_as(user, &ws.work(), &env, &argv)
        };
        let out = in_script(format!(
            "exec {} run --new-session -- touch ran </dev/null 2>&1",
            c()
        ));
        assert_eq!(out.status, 125, "{user:?}: {out:?}");
        assert!(
            out.stdout
                .contains("cordon: --new-session: cordon leads its session"),
            "{user:?}: {out:?}"
        );
        assert!(!ws.join("work/ran").exists());
        // Without the flag the command keeps the terminal, with none of
        // fds 0-2 on it, and the dry run says why.
        let out = in_script(format!(
            "exec {} run -- sh -c 'exec 3</dev/tty && echo dev-tty-opened' </dev/null >out.txt 2>&1",
            c()
        ));
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        assert_eq!(ws.read("work/out.txt"), "dev-tty-opened\n", "{user:?}");
        in_script(format!(
            "exec {} run --dry-run -- true </dev/null >dry.txt 2>&1",
            c()
        ));
        let dry = ws.read("work/dry.txt");
        assert!(
            dry.contains(
                "session: the caller's, with its controlling terminal: cordon leads its session"
            ),
            "{user:?}: {dry}"
        );
    }
}

/// The command's own terminal, in a tmux pane: `tty` names it (`/dev/pts/N`,
/// or `/dev/console` in the mount namespace, where a private `/dev/pts`
/// hides the name), and that name, `/dev/tty` and `/proc/self/fd/0` open
/// it for reading and writing.
#[test]
fn terminals_the_own_terminal_opens_by_path_under_tmux() {
    require_tmux();
    for user in users() {
        for git in [false, true] {
            let ws = Ws::new(user);
            if git {
                ws.write("work/.git/config", "[core]\n");
            }
            let p = probe_bin().display();
            let script = format!(
                "{c} run -- sh -c 'echo \"name=$(tty)\"; {p} open \"$(tty)\" rw; {p} open /dev/tty rw; {p} open /proc/self/fd/0 rw'\n\
                 echo \"status=$?\"\n\
                 sleep 60\n",
                c = c()
            );
            let t = Tmux::start(&ws, "own", &script);
            let pane = t.wait_for("status=");
            let what = format!("{user:?} git={git}");
            assert!(pane.contains("status=0"), "{what}:\n{pane}");
            assert_eq!(pane.matches(r#""ok":true"#).count(), 3, "{what}:\n{pane}");
            let name = pane.lines().find_map(|l| l.strip_prefix("name=")).unwrap();
            assert!(
                name.starts_with("/dev/pts/") || name == "/dev/console",
                "{what}:\n{pane}"
            );
        }
    }
}

/// Ptys the command makes: `script`, python's `pty.openpty()` and
/// `pty.fork()`, a tmux server inside the sandbox (its panes are ptys) and
/// an interactive tmux client on the command's own terminal. They live in
/// the private /dev/pts of the mount namespace, which an unprivileged
/// caller gets in a git workspace (root always does).
#[test]
fn terminals_ptys_made_inside_the_sandbox_work() {
    require_tmux();
    for user in users() {
        let ws = Ws::new(user);
        ws.write("work/.git/config", "[core]\n");
        // The agent's call: no terminal on fds 0-2.
        let out = cordon(&ws, &["run", "--", "script", "-qc", "tty", "/dev/null"]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        assert!(out.stdout.starts_with("/dev/pts/"), "{user:?}: {out:?}");
        let py = "import os, pty\n\
                  m, s = pty.openpty()\n\
                  print('openpty', os.ttyname(s), flush=True)\n\
                  pid, fd = pty.fork()\n\
                  if pid == 0:\n    print('child', os.ttyname(0), flush=True)\n    os._exit(0)\n\
                  out = b''\n\
                  while b'\\n' not in out:\n    try:\n        d = os.read(fd, 100)\n    except OSError:\n        break\n    if not d:\n        break\n    out += d\n\
                  print(out.decode().strip())\n\
                  os.waitpid(pid, 0)\n";
        let out = cordon(&ws, &["run", "--", "python3", "-c", py]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        assert!(out.stdout.contains("openpty /dev/pts/"), "{out:?}");
        assert!(out.stdout.contains("child /dev/pts/"), "{out:?}");
        // A detached tmux server inside: its pane is a pty.
        let sock = ws.s("tmp/inner.sock");
        let done = ws.s("work/inner-done");
        let pane_cmd = format!("tty > {done}");
        // The server outlives the client that started it: a leftover,
        // which cordon kills unless told to keep it.
        let tmux = |args: &[&str]| {
            let mut argv = vec![
                c(),
                "run",
                "--keep-leftovers",
                "--",
                "tmux",
                "-S",
                &sock,
                "-f",
                "/dev/null",
            ];
            argv.extend_from_slice(args);
            // tmux runs the pane's command with $SHELL (nobody's login
            // shell is nologin).
            let mut env = ws.env();
            env.push(("SHELL".into(), "/bin/sh".into()));
            run_as(user, &ws.work(), &env, &argv)
        };
        let out = tmux(&["new-session", "-d", &pane_cmd]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        let got = wait_file(std::path::Path::new(&done));
        assert!(got.starts_with("/dev/pts/"), "{user:?}: {got}");
        let _ = tmux(&["kill-server"]);
        // Interactive: a tmux client on the pane's terminal, its server
        // inside the sandbox.
        let inner = ws.s("tmp/inner2.sock");
        let script = format!(
            "unset TMUX\n\
             {c} run -- tmux -S {inner} -f /dev/null new-session 'echo \"inner-pane=$(tty)\"; sleep 2'\n\
             echo \"outer-status=$?\"\n\
             sleep 60\n",
            c = c()
        );
        let t = Tmux::start(&ws, "nested", &script);
        let pane = t.wait_for("inner-pane=");
        assert!(pane.contains("inner-pane=/dev/pts/"), "{user:?}:\n{pane}");
        let pane = t.wait_for("outer-status=");
        assert!(pane.contains("outer-status=0"), "{user:?}:\n{pane}");
    }
}

/// Without the mount namespace (an unprivileged caller with nothing to pin
/// or mask) there is no private /dev/pts to hold new ptys apart from the
/// host's terminals, and Landlock checks the slave a new pty opens: making
/// one fails with EACCES, and `explain` says so. (Fail closed: see
/// SECURITY.md.)
#[test]
fn terminals_without_the_namespace_the_command_cannot_make_ptys() {
    if !users().contains(&User::Nobody) || nobody_gets_a_namespace() {
        eprintln!("note: an unprivileged caller gets the namespace here; nothing to check");
        return;
    }
    let ws = Ws::new(User::Nobody);
    let out = cordon(&ws, &["run", "--", "script", "-qc", "tty", "/dev/null"]);
    assert_ne!(out.status, 0, "{out:?}");
    assert!(out.stderr.contains("Permission denied"), "{out:?}");
    let explain = cordon(&ws, &["explain"]);
    assert!(
        explain
            .stdout
            .contains("ptys the command makes (script, tmux): unavailable (EACCES)"),
        "{explain:?}"
    );
}
