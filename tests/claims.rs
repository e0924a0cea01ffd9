//! What `cordon explain` claims, checked against what `cordon run` does
//! (issue 11, item 13: `unix_sockets = false` was reported as denied while
//! nothing denied it). For every profile key (`file_system.read`, restricted
//! or not, `file_system.write`, `protected`, `network.enabled`,
//! `network.unix_sockets` in all four combinations, and the `macos` keys)
//! a profile file is written, `explain --json -p FILE PATH...` says what it
//! enforces, and the probe then runs under `cordon run -p FILE` to observe
//! each claim: every feature `explain` lists (enforced or not) and every
//! path verdict. A feature kind this file has no probe for fails the test,
//! so a new claim cannot go unchecked. As root and as an unprivileged user.

// Linux only: the claims are the Linux backend's.
#![cfg(target_os = "linux")]

mod support;

use std::path::Path;

use serde_json::Value;
use support::*;

/// The processes and files the probes aim at, outside the sandbox.
struct World {
    ws: Ws,
    /// A TCP listener on 127.0.0.1.
    tcp_port: String,
    /// A pathname unix socket listener outside the workspace.
    unix_path: String,
    /// An abstract unix socket listener.
    abstract_name: String,
    victim_pid: String,
    _listeners: Vec<Background>,
}

impl World {
    fn new(user: User) -> World {
        let ws = Ws::new(user);
        ws.write("work/file", "work\n");
        ws.write("work/.git/config", "[core]\n");
        ws.write("work/custom/f", "custom\n");
        ws.write("outside/file", "outside\n");
        ws.write("outside/readable/f", "readable\n");
        ws.write("outside/extra/f", "extra\n");
        ws.write("home/secret", "secret\n");
        let tcp = listener(&ws, &["listen-tcp", "127.0.0.1", "0", "120"]);
        let unix_path = ws.s("outside/l.sock");
        let unix = Background::start(
            &ws,
            &ws.join("outside"),
            &[],
            &["listen-unix", &unix_path, "120"],
        );
        // Unique per workspace: the tests run in parallel threads.
        let ws_name = ws.path().file_name().unwrap().to_string_lossy();
        let abstract_name = format!("cordon-claims-{ws_name}");
        let abs = listener(&ws, &["listen-abstract", &abstract_name, "120"]);
        let victim = victim(&ws, &[]);
        World {
            tcp_port: tcp.port(),
            unix_path,
            abstract_name,
            victim_pid: victim.pid.clone(),
            ws,
            _listeners: vec![tcp, unix, abs, victim],
        }
    }
}

/// One profile file and what `explain` says about it.
struct Profile {
    name: &'static str,
    /// Without the `[macos]` table, which `macos` adds.
    base: String,
    macos: Option<&'static str>,
    file: String,
    explain: Value,
    /// Whether `run` enters a private mount namespace (the errno of a
    /// denied write is then EROFS, the read-only world's, else Landlock's
    /// EACCES).
    namespaced: bool,
}

fn toml(read: &[String], write: &[String], protected: &[&str], net: (bool, bool)) -> String {
    let list = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let protected: Vec<String> = protected.iter().map(|s| s.to_string()).collect();
    format!(
        "[file_system]\nread = {}\nwrite = {}\nprotected = {}\n\n[network]\nenabled = {}\nunix_sockets = {}\n",
        list(read),
        list(write),
        list(&protected),
        net.0,
        net.1,
    )
}

/// `cordon explain --json -p FILE PATHS...`
fn explain(w: &World, file: &str, paths: &[String]) -> Value {
    let mut argv = vec!["explain", "--json", "-p", file];
    argv.extend(paths.iter().map(String::as_str));
    let out = cordon(&w.ws, &argv);
    assert_eq!(out.status, 0, "{out:?}");
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

impl Profile {
    fn new(
        w: &World,
        name: &'static str,
        base: String,
        macos: Option<&'static str>,
        paths: &[String],
    ) -> Profile {
        let text = format!("{base}{}", macos.unwrap_or(""));
        let rel = format!("outside/profiles/{name}.toml");
        w.ws.write(&rel, &text);
        let file = w.ws.s(&rel);
        let explain = explain(w, &file, paths);
        let dry = cordon(&w.ws, &["run", "--dry-run", "-p", &file, "--", "true"]);
        assert_eq!(dry.status, 0, "{dry:?}");
        Profile {
            name,
            base,
            macos,
            namespaced: !dry.stdout.contains("mounts: none"),
            file,
            explain,
        }
    }

    /// The probe under `cordon run -p FILE`.
    fn run(&self, w: &World, op: &[&str]) -> Outcome {
        sandboxed(&w.ws, &["-p", &self.file], op)
    }

    fn denied_write(&self) -> &'static str {
        if self.namespaced { "EROFS" } else { "EACCES" }
    }
}

/// `ok` or the errno, and the failing step if any.
fn result(out: &Outcome) -> (String, String) {
    let j = out.json();
    let r = j["error"].as_str().unwrap_or("ok").to_string();
    (r, j["step"].as_str().unwrap_or("").to_string())
}

#[track_caller]
fn expect(out: &Outcome, want: &str, ctx: &str) {
    assert_eq!(result(out).0, want, "{ctx}: {out:?}");
}

/// Checks one feature `explain` listed against the kernel. Every kind
/// `explain` can report has an arm here; any other fails the test.
fn check_feature(w: &World, p: &Profile, f: &Value) {
    let kind = f["kind"].as_str().unwrap_or("?");
    let enforced = f["enforced"] == true;
    let path = f["path"].as_str().unwrap_or("").to_string();
    let ctx = format!("{:?} profile {} claims {f}", w.ws.user, p.name);
    let run = |op: &[&str]| p.run(w, op);
    // A denial: its errno when enforced, success when not.
    let denied = |errno: &str| {
        if enforced {
            errno.to_string()
        } else {
            "ok".into()
        }
    };
    // A grant (a readable path, a writable root): success when in force,
    // the denial's errno when not.
    let granted = |errno: &str| {
        if enforced {
            "ok".to_string()
        } else {
            errno.into()
        }
    };
    match kind {
        "filesystem" => {
            // Landlock unavailable: run refuses without --best-effort.
            assert!(!enforced, "{ctx}");
            let out = cordon(&w.ws, &["run", "-p", &p.file, "--", "true"]);
            assert_eq!(out.status, 125, "{ctx}: {out:?}");
        }
        "read-scope" => {
            assert!(enforced, "{ctx}");
            if path == "/" {
                expect(&run(&["read", &w.ws.s("outside/file")]), "ok", &ctx);
                expect(&run(&["read", &w.ws.s("home/secret")]), "ok", &ctx);
            } else {
                // :minimal: the runtime set (the probe itself started).
                expect(&run(&["read", "/etc/passwd"]), "ok", &ctx);
                expect(&run(&["read", "/usr/bin/env"]), "ok", &ctx);
            }
        }
        "readable-path" => {
            // A directory opens (read_dir) and read(2) then says EISDIR.
            let out = run(&["read", &path]);
            let got = match result(&out) {
                (e, step) if e == "EISDIR" && step == "read" => "ok".to_string(),
                (e, _) => e,
            };
            assert_eq!(got, granted("EACCES"), "{ctx}: {out:?}");
        }
        "reads-elsewhere" => {
            expect(
                &run(&["read", &w.ws.s("outside/file")]),
                &denied("EACCES"),
                &ctx,
            );
            expect(
                &run(&["read", &w.ws.s("home/secret")]),
                &denied("EACCES"),
                &ctx,
            );
        }
        "writable-root" => {
            let new = format!("{path}/claims-{:?}", w.ws.user);
            expect(&run(&["create", &new]), &granted(p.denied_write()), &ctx);
            let _ = std::fs::remove_file(&new);
        }
        "writes-elsewhere" => {
            let new = w.ws.s("outside/claims-new");
            expect(&run(&["create", &new]), &denied(p.denied_write()), &ctx);
            assert_eq!(Path::new(&new).exists(), !enforced, "{ctx}");
            let _ = std::fs::remove_file(&new);
        }
        "protected"
            if f["mechanism"]
                .as_str()
                .unwrap_or("")
                .contains("placeholder") =>
        {
            // Missing, held by a placeholder: the name cannot be taken.
            expect(&run(&["mkdir", &path]), &denied("EEXIST"), &ctx);
            if !enforced {
                std::fs::remove_dir(&path).unwrap();
            }
        }
        "protected-unheld" => {
            // Missing and, by design, not held here: creating it works.
            assert!(!enforced, "{ctx}");
            expect(&run(&["mkdir", &path]), "ok", &ctx);
            std::fs::remove_dir(&path).unwrap();
        }
        "protected" => {
            // Pinned by a read-only bind (EROFS), or outside every root.
            let errno = if f["mechanism"].as_str().unwrap_or("").starts_with("mount") {
                "EROFS"
            } else {
                p.denied_write()
            };
            let new = format!("{path}/claims-new");
            expect(&run(&["create", &new]), &denied(errno), &ctx);
            assert_eq!(Path::new(&new).exists(), !enforced, "{ctx}");
            let _ = std::fs::remove_file(&new);
        }
        "deny" | "deny-waived" => {
            // A file the host holds there (the path itself, or one inside
            // a denied directory): hidden (EACCES at the inert /dev/null or
            // the mode-000 tmpfs, ENOENT when root passes the mode), or
            // readable when waived or not enforced.
            let target = if Path::new(&path).is_dir() {
                std::fs::read_dir(&path).ok().and_then(|d| {
                    d.flatten()
                        .find(|e| e.file_type().is_ok_and(|t| t.is_file()))
                        .map(|e| e.path().display().to_string())
                })
            } else {
                Some(path.clone())
            };
            let lifted = f["feature"].as_str().unwrap_or("").contains(" lifted by ");
            if let Some(t) = target.filter(|_| !lifted) {
                let got = result(&run(&["read", &t])).0;
                if enforced && kind == "deny" {
                    assert!(got == "EACCES" || got == "ENOENT", "{ctx}: {t}: {got}");
                } else {
                    assert_eq!(got, "ok", "{ctx}: {t}");
                }
            }
        }
        "metadata" => {
            // The caller's own file outside the roots: chmod is allowed by
            // DAC and not checked by Landlock; the read-only world says no.
            let f = w.ws.s("outside/file");
            expect(&run(&["chmod", &f, "600"]), &denied("EROFS"), &ctx);
            let _ =
                std::fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(0o644));
        }
        "devices" => {
            // A host device outside the list is absent from the private /dev.
            expect(&run(&["stat", "/dev/kmsg"]), &denied("ENOENT"), &ctx);
        }
        "terminals" => {
            expect(&run(&["stat", "/dev/tty1"]), &denied("ENOENT"), &ctx);
            expect(&run(&["stat", "/dev/pts/0"]), &denied("ENOENT"), &ctx);
        }
        "own-terminals" => {
            // stdin, stdout and stderr are not terminals here: a new session,
            // no controlling terminal.
            expect(&run(&["open", "/dev/tty", "rw"]), "ENXIO", &ctx);
        }
        "ptys" => {
            let script = "import pty; pty.openpty()";
            let argv = ["run", "-p", &p.file, "--", "python3", "-c", script];
            let out = cordon(&w.ws, &argv);
            assert_eq!(out.status == 0, enforced, "{ctx}: {out:?}");
        }
        "ipc" => {
            // A System V segment made outside is not in the sandbox's IPC
            // namespace.
            let made = control(&w.ws, &["shm-create"]);
            made.assert_ok();
            let id = made.json()["id"].to_string();
            expect(&run(&["shm-attach", &id]), &denied("EINVAL"), &ctx);
            control(&w.ws, &["shm-remove", &id]).assert_ok();
        }
        "leftovers" => {
            // A child left behind is gone once the command has exited.
            let argv = ["run", "-p", &p.file, "--", "sh", "-c", "sleep 30 & echo $!"];
            let out = cordon(&w.ws, &argv);
            let pid = out.stdout.trim().to_string();
            let gone = (0..200).any(|_| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                !Path::new(&format!("/proc/{pid}")).exists()
            });
            assert_eq!(gone, enforced, "{ctx}: {out:?}");
        }
        "identity" => {
            let out = run(&["setresuid-root"]);
            assert_eq!(out.json()["setresuid"], "EPERM", "{ctx}: {out:?}");
        }
        "network" => {
            // "network on" is a claim too ("nothing to enforce"); "network
            // off" not enforced would mean it is on.
            let off = f["feature"] == "network off" && enforced;
            let want = if off { "EPERM" } else { "ok" };
            for family in ["inet", "inet6"] {
                expect(&run(&["socket", family, "stream"]), want, &ctx);
                expect(&run(&["socket", family, "dgram"]), want, &ctx);
            }
            let out = run(&["connect-tcp", "127.0.0.1", &w.tcp_port]);
            expect(&out, want, &ctx);
            if off {
                assert_eq!(result(&out).1, "socket", "{ctx}: {out:?}");
            }
        }
        "unix-sockets" => {
            let denies = f["feature"] == "unix sockets denied" && enforced;
            let want = if denies { "EPERM" } else { "ok" };
            expect(&run(&["socket", "unix", "stream"]), want, &ctx);
            expect(&run(&["socket", "unix", "dgram"]), want, &ctx);
            let out = run(&["connect-unix", &w.unix_path]);
            expect(&out, want, &ctx);
            if denies {
                assert_eq!(result(&out).1, "socket", "{ctx}: {out:?}");
            }
        }
        "local-ipc" => {
            // Allowed, whatever the network and unix_sockets say.
            assert!(enforced, "{ctx}");
            expect(&run(&["socketpair"]), "ok", &ctx);
            let argv = ["run", "-p", &p.file, "--", "sh", "-c", "printf piped | cat"];
            let out = cordon(&w.ws, &argv);
            assert_eq!(
                (out.status, out.stdout.as_str()),
                (0, "piped"),
                "{ctx}: {out:?}"
            );
        }
        "vsock" => {
            expect(&run(&["socket", "vsock", "stream"]), &denied("EPERM"), &ctx);
        }
        "daemon-socket" => {
            if !Path::new(&path).exists() {
                return eprintln!("note: {path} went away before it could be checked");
            }
            let allowed = f["mechanism"].as_str().unwrap_or("").starts_with("allowed");
            // With unix sockets denied, socket(2) says so before any mount.
            let unix_off = p.explain["plan"]["network"]["unix_sockets"] == false;
            let want = match (unix_off, allowed) {
                (true, _) => "EPERM",
                (false, true) => "ok",
                (false, false) => "ECONNREFUSED",
            };
            expect(&run(&["connect-unix", &path]), want, &ctx);
        }
        "unix-connect" => {
            // Not enforced: a pathname socket outside the workspace answers.
            assert!(!enforced, "{ctx}");
            expect(&run(&["connect-unix", &w.unix_path]), "ok", &ctx);
        }
        "io-uring" => expect(&run(&["io-uring-setup"]), &denied("EPERM"), &ctx),
        "terminal-injection" => {
            // stdin is /dev/null: the kernel would say ENOTTY.
            expect(&run(&["ioctl-stdin", "5412"]), &denied("EPERM"), &ctx);
            expect(&run(&["ioctl-stdin", "541c"]), &denied("EPERM"), &ctx);
        }
        "capabilities" => {
            expect(&run(&["reboot-bad-magic"]), &denied("EPERM"), &ctx);
            expect(&run(&["sethostname-same"]), &denied("EPERM"), &ctx);
        }
        "mount-changes" => {
            let work = w.ws.s("work");
            expect(&run(&["mount-tmpfs", &work]), &denied("EPERM"), &ctx);
            expect(&run(&["chroot", &work]), &denied("EPERM"), &ctx);
            let out = run(&["setns", "/proc/self/ns/mnt"]);
            expect(&out, &denied("EPERM"), &ctx);
        }
        "open-by-handle" => {
            let out = run(&["open-by-handle", &w.ws.s("work/file"), &w.ws.s("work")]);
            expect(&out, &denied("EPERM"), &ctx);
            assert_eq!(result(&out).1, "open_by_handle_at", "{ctx}: {out:?}");
        }
        "user-namespaces" => {
            expect(&run(&["unshare-user"]), &denied("EPERM"), &ctx);
            expect(&run(&["clone-user"]), &denied("EPERM"), &ctx);
            expect(&run(&["clone3"]), &denied("ENOSYS"), &ctx);
            expect(&run(&["thread"]), "ok", &ctx);
        }
        "keyrings" => expect(&run(&["keyctl-session"]), &denied("EPERM"), &ctx),
        "process-targets" => {
            let v = w.victim_pid.as_str();
            let want = denied("EPERM");
            expect(&run(&["prlimit", v, "nofile", "100", "100"]), &want, &ctx);
            expect(&run(&["setpriority", "process", v, "19"]), &want, &ctx);
            expect(&run(&["sched-setaffinity", v, "0"]), &want, &ctx);
            expect(&run(&["ioprio-set", "process", v, "idle"]), &want, &ctx);
            // The caller itself stays its own.
            expect(&run(&["setpriority", "process", "0", "19"]), "ok", &ctx);
        }
        "truncate" => {
            let out = run(&["truncate", &w.ws.s("outside/file")]);
            expect(&out, &denied(p.denied_write()), &ctx);
            assert_eq!(w.ws.read("outside/file"), "outside\n", "{ctx}");
        }
        "ioctl-dev" => {
            // A read-only query ioctl on a device outside the always-usable
            // list; only root can open one here.
            let (dev, tungetfeatures) = ("/dev/net/tun", "800454cf");
            if control(&w.ws, &["ioctl", dev, tungetfeatures]).json()["ok"] != true {
                let user = w.ws.user;
                return eprintln!("note: ioctl-dev: no device {user:?} may open to try it on");
            }
            // The private /dev does not hold it (ENOENT); without the
            // namespace Landlock's ioctl_dev right would refuse (EACCES).
            let out = run(&["ioctl", dev, tungetfeatures]);
            expect(&out, &denied("ENOENT"), &ctx);
        }
        "signal-scope" => {
            expect(&run(&["kill", &w.victim_pid, "0"]), &denied("EPERM"), &ctx);
        }
        "abstract-unix-scope" => {
            let out = run(&["connect-abstract", &w.abstract_name]);
            expect(&out, &denied("EPERM"), &ctx);
        }
        "macos" => {
            // Carried for Seatbelt, not enforced: the Linux sandbox is the
            // same with or without the profile's [macos] table.
            assert!(!enforced, "{ctx}");
            let rel = format!("outside/profiles/{}-no-macos.toml", p.name);
            w.ws.write(&rel, &p.base);
            let without = explain(w, &w.ws.s(&rel), &[]);
            let art = &p.explain["sandbox"]["artifacts"];
            assert!(!art.is_null(), "{ctx}");
            // Rules name the profile file they come from.
            let with = art.to_string();
            let without = without["sandbox"]["artifacts"]
                .to_string()
                .replace(&w.ws.s(&rel), &p.file);
            if with != without {
                let at = with
                    .bytes()
                    .zip(without.bytes())
                    .take_while(|(a, b)| a == b);
                let at = at.count().saturating_sub(200);
                panic!(
                    "{ctx}: the artifacts differ without [macos], from:\n{}\n---\n{}",
                    &with[at..(at + 400).min(with.len())],
                    &without[at..(at + 400).min(without.len())]
                );
            }
        }
        other => panic!(
            "{ctx}: explain claims a feature of kind {other:?} that tests/claims.rs has no \
             probe for; add an arm to check_feature that observes it under cordon run"
        ),
    }
}

/// Checks every feature of `p`, and the read and write verdict of each of
/// `paths` (explain's answer for the path-shaped keys) against the probe.
fn check_profile(w: &World, p: &Profile, paths: &[String]) {
    let sandbox = &p.explain["sandbox"];
    assert_eq!(sandbox["platform"], "linux");
    let features = sandbox["features"].as_array().unwrap();
    assert!(!features.is_empty());
    for f in features {
        check_feature(w, p, f);
    }
    let verdicts = p.explain["paths"].as_array().unwrap();
    assert_eq!(verdicts.len(), paths.len());
    for (path, v) in paths.iter().zip(verdicts) {
        let ctx = format!(
            "{:?} profile {}: explain {path} said {v}",
            w.ws.user, p.name
        );
        let exists = v["exists"] == true;
        if exists && v["is_dir"] == false {
            let out = p.run(w, &["read", path]);
            let want = if v["read"]["allowed"] == true {
                "ok"
            } else {
                "EACCES"
            };
            expect(&out, want, &ctx);
        }
        // Directories are written by creating in them (the missing paths);
        // system files are never written, and their owner would refuse the
        // unprivileged user before the sandbox does.
        if v["is_dir"] == true || !path.starts_with(w.ws.path().to_str().unwrap()) {
            continue;
        }
        // Writing appends (an existing file is restored after) or creates
        // (removed after).
        let before = std::fs::read(path).ok();
        let out = p.run(w, &["write", path]);
        let errno = if v["write"]["rule"]
            .as_str()
            .unwrap_or("")
            .contains("protected")
        {
            "EROFS"
        } else {
            p.denied_write()
        };
        let want = if v["write"]["allowed"] == true {
            "ok"
        } else {
            errno
        };
        expect(&out, want, &ctx);
        match before {
            Some(bytes) => std::fs::write(path, bytes).unwrap(),
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// The profile's keys are what the plan says (the claims start there).
fn assert_plan(p: &Profile, network: (bool, bool), read_all: bool, protected: &[&str]) {
    let plan = &p.explain["plan"];
    assert_eq!(plan["network"]["enabled"], network.0, "{}", p.name);
    assert_eq!(plan["network"]["unix_sockets"], network.1, "{}", p.name);
    let scope = if read_all { "all" } else { "restricted" };
    assert_eq!(plan["read"]["scope"], scope, "{}", p.name);
    assert_eq!(
        plan["protected_names"],
        serde_json::json!(protected),
        "{}",
        p.name
    );
}

fn kinds(p: &Profile) -> Vec<String> {
    p.explain["sandbox"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn filesystem_claims_match_the_kernel() {
    for user in users() {
        let w = World::new(user);
        let ws = &w.ws;
        let s = |rel: &str| ws.s(rel);
        let cwd = [":cwd".to_string()];
        let off = (false, true);

        // file_system.read = [":root"], write = [":cwd"], protected with an
        // existing name (.git), a custom one and a missing one (.agents).
        let protected = [".git", "custom", ".agents"];
        let paths = [
            s("work/file"),
            s("work/new"),
            s("work/.git/config"),
            s("work/custom/f"),
            s("outside/file"),
            s("outside/new"),
            s("home/secret"),
        ];
        let base = toml(&[":root".into()], &cwd, &protected, off);
        let p = Profile::new(&w, "root-read", base, None, &paths);
        assert_plan(&p, off, true, &protected);
        let k = kinds(&p);
        for want in ["read-scope", "writable-root", "protected"] {
            assert!(k.iter().any(|x| x == want), "{user:?}: no {want} in {k:?}");
        }
        check_profile(&w, &p, &paths);

        // A restricted read list: the runtime set, one directory outside
        // the workspace and the probe's own directory.
        let bins = probe_bin().parent().unwrap().to_str().unwrap().to_string();
        let read = [":minimal".to_string(), s("outside/readable"), bins];
        let paths = [
            s("outside/readable/f"),
            s("outside/file"),
            s("home/secret"),
            s("work/file"),
            "/etc/passwd".to_string(),
        ];
        let base = toml(&read, &cwd, &[".git"], off);
        let p = Profile::new(&w, "restricted-read", base, None, &paths);
        assert_plan(&p, off, false, &[".git"]);
        let k = kinds(&p);
        for want in ["read-scope", "readable-path", "reads-elsewhere"] {
            assert!(k.iter().any(|x| x == want), "{user:?}: no {want} in {k:?}");
        }
        check_profile(&w, &p, &paths);

        // A write list beyond the cwd, and no protected names at all: .git
        // is then as writable as the rest of the workspace.
        let write = [":cwd".to_string(), s("outside/extra")];
        let paths = [
            s("outside/extra/f"),
            s("outside/extra/new"),
            s("outside/file"),
            s("work/.git/config"),
        ];
        let base = toml(&[":root".into()], &write, &[], off);
        let p = Profile::new(&w, "write-list", base, None, &paths);
        assert_plan(&p, off, true, &[]);
        assert!(!kinds(&p).iter().any(|k| k.starts_with("protected")));
        check_profile(&w, &p, &paths);
    }
}

#[test]
fn network_claims_match_the_kernel_in_all_four_combinations() {
    for user in users() {
        let w = World::new(user);
        // The controls: everything the profiles may deny works without cordon.
        for op in [
            &["socket", "inet", "stream"][..],
            &["socket", "inet6", "stream"],
            &["socket", "unix", "stream"],
            &["socketpair"],
            &["connect-tcp", "127.0.0.1", &w.tcp_port],
            &["connect-unix", &w.unix_path],
            &["connect-abstract", &w.abstract_name],
        ] {
            control(&w.ws, op).assert_ok();
        }
        let names = [
            "net-off-unix-off",
            "net-off-unix-on",
            "net-on-unix-off",
            "net-on-unix-on",
        ];
        let combos = [(false, false), (false, true), (true, false), (true, true)];
        for (name, net) in names.into_iter().zip(combos) {
            let base = toml(&[":root".into()], &[":cwd".into()], &[".git"], net);
            let p = Profile::new(&w, name, base, None, &[]);
            assert_plan(&p, net, true, &[".git"]);
            let k = kinds(&p);
            for want in ["network", "unix-sockets", "local-ipc", "vsock"] {
                assert!(k.iter().any(|x| x == want), "{user:?} {name}: no {want}");
            }
            check_profile(&w, &p, &[]);
            // The case of item 13, stated once more without explain: with
            // the network on and unix_sockets = false, socket(AF_UNIX) fails.
            let unix = p.run(&w, &["socket", "unix", "stream"]);
            expect(&unix, if net.1 { "ok" } else { "EPERM" }, name);
            expect(&p.run(&w, &["socketpair"]), "ok", name);
        }
    }
}

#[test]
fn macos_keys_are_reported_not_enforced_and_change_nothing_on_linux() {
    for user in users() {
        let w = World::new(user);
        let base = toml(
            &[":root".into()],
            &[":cwd".into()],
            &[".git"],
            (false, true),
        );
        let variants = [
            (
                "macos-all",
                "\n[macos]\npreferences = \"read-write\"\nautomation = \"all\"\naccessibility = true\ncalendar = true\n",
            ),
            (
                "macos-none",
                "\n[macos]\npreferences = \"none\"\nautomation = [\"com.apple.Terminal\"]\naccessibility = false\ncalendar = false\n",
            ),
        ];
        for (name, macos) in variants {
            let p = Profile::new(&w, name, base.clone(), Some(macos), &[]);
            assert!(p.macos.is_some());
            let plan_macos = &p.explain["plan"]["macos"];
            let all = name == "macos-all";
            assert_eq!(plan_macos["accessibility"], all, "{name}");
            assert_eq!(plan_macos["calendar"], all, "{name}");
            let f = p.explain["sandbox"]["features"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["kind"] == "macos")
                .cloned()
                .unwrap_or_else(|| panic!("{name}: explain does not report the macos keys"));
            assert_eq!(f["enforced"], false, "{name}: {f}");
            // The text form says so too.
            let out = cordon(&w.ws, &["explain", "-p", &p.file]);
            assert!(
                out.stdout.contains("macos extensions: NOT ENFORCED"),
                "{name}: {out:?}"
            );
            check_profile(&w, &p, &[]);
        }
    }
}

#[test]
#[should_panic(expected = "has no probe for")]
fn a_claim_kind_without_a_probe_fails_loudly() {
    let w = World::new(users()[0]);
    let base = toml(&[":root".into()], &[":cwd".into()], &[], (false, true));
    let p = Profile::new(&w, "unknown-kind", base, None, &[]);
    let made_up = serde_json::json!({
        "kind": "teleportation", "feature": "teleportation", "path": null,
        "enforced": true, "mechanism": "none"
    });
    check_feature(&w, &p, &made_up);
}
