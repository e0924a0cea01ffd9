//! `cordon run` enforcement on real commands (issue: the core). Every denial
//! asserts the errno beside a control run without cordon that succeeds, as
//! root and as an unprivileged user.

mod support;

use support::*;

/// Probe ops that write a file somewhere.
fn write_op(path: &str) -> Vec<&str> {
    vec!["write", path]
}

#[test]
fn workspace_write_allows_its_roots_and_denies_the_rest() {
    for user in users() {
        let ws = Ws::new(user);
        let extra = ws.mkdir("extra");
        let extra = extra.to_str().unwrap();
        let slash_tmp = format!("/tmp/cordon-run-test-{}-{:?}", std::process::id(), user);
        let targets = [
            ws.s("work/a"),
            format!("{extra}/a"),
            ws.s("tmp/a"),
            slash_tmp.clone(),
            "/dev/null".to_string(),
        ];
        for t in &targets {
            sandboxed(&ws, &["-w", extra], &write_op(t)).assert_ok();
        }
        let _ = std::fs::remove_file(&slash_tmp);
        // Outside every root: the user may write there, the sandbox may not.
        let outside = ws.s("outside/x");
        control(&ws, &write_op(&outside)).assert_ok();
        std::fs::remove_file(&outside).unwrap();
        sandboxed(&ws, &["-w", extra], &write_op(&outside)).assert_errno(denied_write(user));
        assert!(
            !ws.join("outside/x").exists(),
            "{user:?}: denied write left a file"
        );
    }
}

#[test]
fn exclude_slash_tmp_and_tmpdir_take_them_out() {
    for user in users() {
        let ws = Ws::new(user);
        let slash_tmp = format!("/tmp/cordon-excl-test-{}-{:?}", std::process::id(), user);
        control(&ws, &write_op(&slash_tmp)).assert_ok();
        std::fs::remove_file(&slash_tmp).unwrap();
        sandboxed(&ws, &["--exclude-slash-tmp"], &write_op(&slash_tmp))
            .assert_errno(denied_write(user));
        sandboxed(
            &ws,
            &["--exclude-tmpdir-env-var"],
            &write_op(&ws.s("tmp/a")),
        )
        .assert_errno(denied_write(user));
        sandboxed(&ws, &[], &write_op(&ws.s("tmp/a"))).assert_ok();
    }
}

#[test]
fn read_only_denies_every_write_but_dev_null() {
    for user in users() {
        let ws = Ws::new(user);
        for t in [ws.s("work/a"), ws.s("tmp/a"), ws.s("outside/a")] {
            control(&ws, &write_op(&t)).assert_ok();
            std::fs::remove_file(&t).unwrap();
            sandboxed(&ws, &["-p", "read-only"], &write_op(&t)).assert_errno(denied_write(user));
        }
        sandboxed(&ws, &["-p", "read-only"], &write_op("/dev/null")).assert_ok();
        // Reads still work.
        ws.write("work/r", "hello");
        let out = sandboxed(&ws, &["-p", "read-only"], &["read", &ws.s("work/r")]);
        out.assert_ok();
        assert_eq!(out.json()["data"], "hello");
    }
}

#[test]
fn restricted_read_hides_files_outside_the_list_and_programs_still_start() {
    for user in users() {
        let ws = Ws::new(user);
        ws.write("outside/secret", "s3cret");
        let profile = ws.write(
            "outside/minimal.toml",
            "[file_system]\nread = [\":minimal\"]\nwrite = [\":cwd\"]\n",
        );
        let profile = profile.to_str().unwrap();
        let secret = ws.s("outside/secret");
        control(&ws, &["read", &secret]).assert_ok();
        // The probe itself lives outside the read list, so it cannot even start...
        let out = sandboxed(&ws, &["-p", profile], &["read", &secret]);
        assert_eq!(out.status, 126, "{out:?}");
        // ...until its directory is allowed.
        let bins = probe_bin().parent().unwrap().to_str().unwrap().to_string();
        sandboxed(
            &ws,
            &["-p", profile, "--allow-read", &bins],
            &["read", &secret],
        )
        .assert_errno("EACCES");
        let out = cordon(&ws, &["run", "-p", profile, "--", "/bin/sh", "-c", "true"]);
        assert_eq!(out.status, 0, "{out:?}");
        // The workspace stays readable and writable.
        sandboxed(
            &ws,
            &["-p", profile, "--allow-read", &bins],
            &write_op(&ws.s("work/a")),
        )
        .assert_ok();
    }
}

#[test]
fn network_off_denies_inet_sockets_and_keeps_unix_ipc() {
    let listener = listener(
        &Ws::new(User::Root),
        &["listen-tcp", "127.0.0.1", "0", "30"],
    );
    let port = listener.port();
    for user in users() {
        let ws = Ws::new(user);
        let connect = ["connect-tcp", "127.0.0.1", port.as_str()];
        control(&ws, &connect).assert_ok();
        let out = sandboxed(&ws, &[], &connect);
        out.assert_errno("EPERM");
        assert_eq!(out.json()["step"], "socket");
        sandboxed(&ws, &["--network"], &connect).assert_ok();

        for sock in [
            &["socket", "inet", "dgram"][..],
            &["socket", "inet6", "stream"],
            &["socket", "inet6", "dgram"],
            &["socket", "netlink", "raw"],
            &["socket", "unix", "stream", "mptcp"],
        ] {
            if sock[1] != "unix" {
                control(&ws, sock).assert_ok();
            }
            sandboxed(&ws, &[], sock).assert_errno("EPERM");
        }
        if user == User::Root {
            // Raw and packet sockets need CAP_NET_RAW, so only root has a control.
            for sock in [
                &["socket", "inet", "raw", "icmp"][..],
                &["socket", "packet", "raw"],
            ] {
                control(&ws, sock).assert_ok();
                sandboxed(&ws, &[], sock).assert_errno("EPERM");
            }
        }
        control(&ws, &["socket", "inet", "stream", "mptcp"]).assert_ok();
        sandboxed(&ws, &["--network"], &["socket", "inet", "stream", "mptcp"]).assert_ok();
        sandboxed(&ws, &[], &["socket", "inet", "stream", "mptcp"]).assert_errno("EPERM");
        sandboxed(&ws, &[], &["socketpair"]).assert_ok();
        sandboxed(&ws, &[], &["socket", "unix", "dgram"]).assert_ok();
        control(&ws, &["io-uring-setup"]).assert_ok();
        sandboxed(&ws, &[], &["io-uring-setup"]).assert_errno("EPERM");
        sandboxed(&ws, &["--network"], &["io-uring-setup"]).assert_errno("EPERM");
    }
}

#[test]
fn signals_reach_own_children_but_not_outside_processes() {
    for user in users() {
        let ws = Ws::new(user);
        let mut victim = victim(&ws, &[]);
        let pid = victim.pid.clone();
        // Signal 0 only checks permission: the control may signal it.
        control(&ws, &["kill", &pid, "0"]).assert_ok();
        sandboxed(&ws, &[], &["kill", &pid, "15"]).assert_errno("EPERM");
        assert!(victim.alive(), "victim died");
        sandboxed(&ws, &[], &["kill-child"]).assert_ok();
    }
}

#[test]
fn exit_status_passes_through() {
    let ws = Ws::new(User::Root);
    let c = cordon_bin().to_str().unwrap();
    let out = cordon(&ws, &["run", "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status, 7, "{out:?}");
    // The calling shell reports death by SIGTERM as 143.
    let script = format!("{c} run -- sh -c 'kill -TERM $$'; echo status=$?");
    let out = run_as(User::Root, &ws.work(), &ws.env(), &["sh", "-c", &script]);
    assert!(out.stdout.contains("status=143"), "{out:?}");
    let out = cordon(&ws, &["run", "--", "no-such-command-xyz"]);
    assert_eq!(out.status, 127, "{out:?}");
    assert!(
        out.stderr
            .starts_with("cordon: no-such-command-xyz: command not found")
    );
    let out = cordon(&ws, &["run", "--", ws.s("outside").as_str()]);
    assert_eq!(out.status, 126, "{out:?}");
}

#[test]
fn child_sees_cordon_environment() {
    for user in users() {
        let ws = Ws::new(user);
        let out = sandboxed(&ws, &[], &["env", "CORDON_SANDBOX"]);
        assert_eq!(out.json()["value"], "landlock", "{out:?}");
        let out = sandboxed(&ws, &[], &["env", "CORDON_SANDBOX_NETWORK_DISABLED"]);
        assert_eq!(out.json()["value"], "1", "{out:?}");
        let out = sandboxed(
            &ws,
            &["--network"],
            &["env", "CORDON_SANDBOX_NETWORK_DISABLED"],
        );
        assert!(out.json()["value"].is_null(), "{out:?}");
        let out = sandboxed(&ws, &["-p", "full-access"], &["env", "CORDON_SANDBOX"]);
        assert_eq!(out.json()["value"], "none", "{out:?}");
        // Ordinary variables pass through unchanged.
        let out = sandboxed(&ws, &[], &["env", "HOME"]);
        assert_eq!(out.json()["value"], ws.s("home"), "{out:?}");
    }
}

#[test]
fn dry_run_prints_the_plan_and_runs_nothing() {
    let ws = Ws::new(User::Root);
    let marker = ws.s("work/marker");
    let out = sandboxed(&ws, &["--dry-run"], &["create", &marker]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(!ws.join("work/marker").exists());
    for needle in [
        "landlock:",
        "handled_fs:",
        "seccomp:",
        "bpf_instructions:",
        "rule socket",
    ] {
        assert!(
            out.stdout.contains(needle),
            "missing {needle}: {}",
            out.stdout
        );
    }
}

#[test]
fn older_landlock_abis_refuse_or_warn_per_gap() {
    for user in users() {
        let ws = Ws::new(user);
        let outside = ws.s("outside/x");
        let marker = ws.s("work/m");
        // ABI 6 and 7 enforce the whole default profile.
        sandboxed(&ws, &["--landlock-abi", "6"], &write_op(&marker)).assert_ok();
        sandboxed(&ws, &["--landlock-abi", "6"], &write_op(&outside))
            .assert_errno(denied_write(user));
        // ABI 5 has no signal scope: refused, and nothing runs.
        std::fs::remove_file(ws.join("work/m")).unwrap();
        let out = sandboxed(&ws, &["--landlock-abi", "5"], &write_op(&marker));
        out.assert_refused("--best-effort");
        assert!(out.stderr.contains("signals"), "{out:?}");
        assert!(!ws.join("work/m").exists());
        // With --best-effort: one warning per gap, and the filesystem rules hold.
        let out = sandboxed(
            &ws,
            &["--landlock-abi", "2", "--best-effort"],
            &write_op(&outside),
        );
        out.assert_errno(denied_write(user));
        let warnings = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("cordon: warning:"))
            .count();
        // As root (or with a daemon socket to mask) the read-only world
        // backfills truncate: one gap fewer.
        let namespaced = user == User::Root || nobody_gets_a_namespace();
        let want = if namespaced { 3 } else { 4 };
        assert_eq!(warnings, want, "{out:?}");
        // ABI 2 cannot restrict truncate: the gap is real, which is why it
        // warns (as root, the read-only mount closes it).
        ws.write("outside/t", "data");
        let t = ws.s("outside/t");
        sandboxed(
            &ws,
            &["--landlock-abi", "3", "--best-effort"],
            &["truncate", &t],
        )
        .assert_errno(denied_write(user));
        let out = sandboxed(
            &ws,
            &["--landlock-abi", "2", "--best-effort"],
            &["truncate", &t],
        );
        if namespaced {
            out.assert_errno("EROFS");
        } else {
            out.assert_ok();
        }
    }
}

#[test]
fn missing_landlock_is_refused_unless_best_effort() {
    for user in users() {
        let ws = Ws::new(user);
        let p = probe_bin().to_str().unwrap();
        let c = cordon_bin().to_str().unwrap();
        let outside = ws.s("outside/x");
        let deny = [
            p,
            "deny-syscall",
            "landlock_create_ruleset=ENOSYS",
            "--",
            c,
            "run",
        ];
        let mut argv = deny.to_vec();
        argv.extend(["--", p, "write", &outside]);
        let out = run_as(user, &ws.work(), &ws.env(), &argv);
        out.assert_refused("Landlock");
        assert!(out.stderr.contains("--best-effort"), "{out:?}");
        assert!(!ws.join("outside/x").exists());

        let mut argv = deny.to_vec();
        argv.extend(["--best-effort", "--", p, "env", "CORDON_SANDBOX"]);
        let out = run_as(user, &ws.work(), &ws.env(), &argv);
        assert!(
            out.stderr
                .contains("cordon: warning: not enforced: landlock"),
            "{out:?}"
        );
        assert_eq!(out.json()["value"], "none", "{out:?}");
        // The network filter still holds without Landlock.
        let mut argv = deny.to_vec();
        argv.extend(["--best-effort", "--", p, "socket", "inet", "stream"]);
        run_as(user, &ws.work(), &ws.env(), &argv).assert_errno("EPERM");
    }
}

#[test]
fn bad_input_is_refused_with_one_line_and_runs_nothing() {
    let ws = Ws::new(User::Root);
    ws.write("outside/bad.toml", "[file_system]\nread = [\":root\"\n");
    ws.write(
        "outside/unknown.toml",
        "[file_system]\nwrite = []\nwrtie = [\"x\"]\n",
    );
    let marker = ws.s("work/marker");
    let p = probe_bin().to_str().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["-p".into(), "nope".into()], "unknown profile `nope`"),
        (vec!["-p".into(), ws.s("outside/bad.toml")], "line 2"),
        (vec!["-p".into(), ws.s("outside/unknown.toml")], "wrtie"),
        (vec!["-w".into(), ws.s("missing")], "does not exist"),
        (
            vec!["--network".into(), "--no-network".into()],
            "--no-network",
        ),
        (vec!["-C".into(), ws.s("work/nofile")], "--cwd"),
        (
            vec!["--policy-json".into(), "{\"type\":\"nope\"}".into()],
            "--policy-json",
        ),
        (
            vec![
                "--policy-json".into(),
                "{\"type\":\"read-only\",\"x\":1}".into(),
            ],
            "`x`",
        ),
        (vec!["-w".into(), ":bogus".into()], ":bogus"),
        (vec!["--bogus".into()], "unexpected argument '--bogus'"),
    ];
    for (flags, needle) in cases {
        let mut argv: Vec<&str> = vec!["run"];
        argv.extend(flags.iter().map(String::as_str));
        argv.extend(["--", p, "create", &marker]);
        let out = cordon(&ws, &argv);
        out.assert_refused(needle);
        assert!(!ws.join("work/marker").exists(), "ran despite {flags:?}");
    }
    // The file is named too.
    let out = cordon(
        &ws,
        &["run", "-p", &ws.s("outside/unknown.toml"), "--", "true"],
    );
    assert!(out.stderr.contains("unknown.toml"), "{out:?}");
    // An empty command.
    cordon(&ws, &["run"]).assert_refused("no command");
    cordon(&ws, &["run", "--"]).assert_refused("no command");
    // A relative TMPDIR where an absolute path is required.
    let mut env = ws.env();
    env.retain(|(k, _)| k != "TMPDIR");
    env.push(("TMPDIR".into(), "relative/tmp".into()));
    let c = cordon_bin().to_str().unwrap();
    let out = run_as(
        User::Root,
        &ws.work(),
        &env,
        &[c, "run", "--", p, "create", &marker],
    );
    out.assert_refused("TMPDIR");
    assert!(!ws.join("work/marker").exists());
}

#[test]
fn profiles_lists_and_prints_builtins() {
    let ws = Ws::new(User::Root);
    let out = cordon(&ws, &["profiles"]);
    assert_eq!(out.status, 0);
    for name in ["read-only", "workspace-write (default)", "full-access"] {
        assert!(out.stdout.contains(name), "{out:?}");
    }
    let out = cordon(&ws, &["profiles", "workspace-write"]);
    assert!(
        out.stdout
            .contains("write = [\":cwd\", \":tmpdir\", \":slash_tmp\"]")
    );
    cordon(&ws, &["profiles", "nope"]).assert_refused("nope");
}

/// cordon's own runtime must not leak into the command: signal dispositions
/// (SIGPIPE above all) and the signal mask are the caller's.
#[test]
fn signal_dispositions_pass_through_unchanged() {
    let ws = Ws::new(User::Root);
    let script = "grep -E '^Sig(Ign|Blk)' /proc/self/status";
    let c = cordon_bin().to_str().unwrap();
    let control = run_as(User::Root, &ws.work(), &ws.env(), &["sh", "-c", script]);
    let inside = run_as(
        User::Root,
        &ws.work(),
        &ws.env(),
        &[c, "run", "--", "sh", "-c", script],
    );
    assert_eq!(control.status, 0, "{control:?}");
    assert_eq!(inside.stdout, control.stdout, "{inside:?}");
    // And the ordinary consequence: `yes` dies of SIGPIPE when `head` exits.
    let out = cordon(
        &ws,
        &[
            "run",
            "--",
            "sh",
            "-c",
            "yes | head -n 1 >/dev/null; echo done",
        ],
    );
    assert_eq!(out.stdout, "done\n", "{out:?}");
    assert_eq!(out.stderr, "", "{out:?}");
}

/// Issue 18 item 1: `execvp` semantics. An executable script without `#!`
/// runs with `/bin/sh`, its arguments intact (bash and env do the same:
/// the control); a program on PATH that the sandbox hides is passed over
/// with a warning naming it, and the next one on PATH runs.
#[test]
fn exec_runs_scripts_without_a_shebang_and_names_a_hidden_path_entry() {
    use std::os::unix::fs::PermissionsExt;
    for user in users() {
        let ws = Ws::new(user);
        let script = ws.write("work/noshebang", "echo \"ran $0 $1\"\n");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let control = run_as(
            user,
            &ws.work(),
            &ws.env(),
            &["bash", "-c", "./noshebang one"],
        );
        assert_eq!(control.stdout, "ran ./noshebang one\n", "{control:?}");
        let out = cordon(&ws, &["run", "--", "./noshebang", "one"]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        assert_eq!(out.stdout, "ran ./noshebang one\n", "{user:?}: {out:?}");

        // A `hello` in a denied directory first on PATH, another after it.
        let hidden = ws.write("outside/hidden/hello", "#!/bin/sh\necho hidden\n");
        let shown = ws.write("outside/shown/hello", "#!/bin/sh\necho shown\n");
        for f in [&hidden, &shown] {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut env = ws.env();
        env.retain(|(k, _)| k != "PATH");
        env.push((
            "PATH".into(),
            format!(
                "{}:{}:/usr/bin:/bin",
                ws.s("outside/hidden"),
                ws.s("outside/shown")
            ),
        ));
        let control = run_as(user, &ws.work(), &env, &["sh", "-c", "hello"]);
        assert_eq!(control.stdout, "hidden\n", "{control:?}");
        let c = cordon_bin().to_str().unwrap();
        let deny = ws.s("outside/hidden");
        let out = run_as(
            user,
            &ws.work(),
            &env,
            &[c, "run", "--deny-read", &deny, "--", "hello"],
        );
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        assert_eq!(out.stdout, "shown\n", "{user:?}: {out:?}");
        assert!(
            out.stderr.starts_with("cordon: warning: skipped ")
                && out.stderr.contains(&format!("{deny}/hello"))
                && out.stderr.lines().count() == 1,
            "{user:?}: {out:?}"
        );
    }
}

/// Issue 18 item 3: a `$TMPDIR` that no longer exists drops `:tmpdir` with
/// one warning (it failed every command with 125); an explicit `-w` of a
/// missing path stays an error.
#[test]
fn a_missing_tmpdir_is_dropped_with_one_warning() {
    for user in users() {
        let ws = Ws::new(user);
        let gone = ws.s("outside/gone-tmp");
        let mut env = ws.env();
        env.retain(|(k, _)| k != "TMPDIR");
        env.push(("TMPDIR".into(), gone.clone()));
        let c = cordon_bin().to_str().unwrap();
        let p = probe_bin().to_str().unwrap();
        let target = ws.s("work/ok");
        let out = run_as(
            user,
            &ws.work(),
            &env,
            &[c, "run", "--", p, "create", &target],
        );
        out.assert_ok();
        assert_eq!(
            out.stderr,
            format!(
                "cordon: warning: $TMPDIR={gone} does not exist; :tmpdir dropped from the writable roots\n"
            ),
            "{user:?}"
        );
        let out = cordon(&ws, &["run", "-w", &gone, "--", "true"]);
        out.assert_refused("does not exist; create it or remove it from the policy");
    }
}

/// Issue 18 item 4: `-w .git` and `--allow-write .git/hooks` were accepted
/// and silently left read-only (the outer root's protection won). Refused
/// now, naming `--unprotect`; with it the grant works. A harness approves a
/// `git commit` with an `exact` profile that does not protect `.git`.
#[test]
fn a_grant_inside_a_protected_path_is_refused_and_unprotect_lifts_it() {
    for user in users() {
        let ws = Ws::new(user);
        git(&ws, &ws.work(), &["init", "-q"]);
        for flag in [["-w", ".git"], ["--allow-write", ".git/hooks"]] {
            let out = cordon(&ws, &["run", flag[0], flag[1], "--", "true"]);
            out.assert_refused("a grant does not lift a protection; pass --unprotect .git");
        }
        let desc_rel = ".git/description";
        let out = sandboxed(
            &ws,
            &["--unprotect", ".git", "-w", ".git"],
            &["write", desc_rel],
        );
        out.assert_ok();
        // The approval: exactly the workspace, .git not protected.
        let req = serde_json::json!({
            "command": ["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                        "commit", "-q", "--allow-empty", "-m", "approved"],
            "cwd": ws.s("work"),
            "turn": {"sandbox_policy": {"type": "workspace-write"}},
            "execution": {"permissions": {"exact": {"file_system": {
                "read": [":root"], "write": [":cwd"], "protected": [".agents", ".codex", ".cordon"]}}}},
        });
        let file = ws.write("outside/commit.json", &req.to_string());
        let out = cordon(&ws, &["rerun", "--request", file.to_str().unwrap()]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        let log = git(&ws, &ws.work(), &["log", "--format=%s"]);
        assert_eq!(log.stdout, "approved\n", "{user:?}: {log:?}");
        // The turn's own sandbox refuses the same commit.
        let mut req = req;
        req["execution"] = serde_json::json!("turn_default");
        let file = ws.write("outside/commit2.json", &req.to_string());
        let out = cordon(&ws, &["rerun", "--request", file.to_str().unwrap()]);
        assert_ne!(out.status, 0, "{user:?}: {out:?}");
        assert!(
            out.stderr.contains("Read-only file system"),
            "{user:?}: {out:?}"
        );
    }
}

/// Every Landlock layer denies `refer` unless one of its rules grants it,
/// even a layer that handles no filesystem right: the command's nested
/// scopes-only domain made every rename or link into another directory of
/// a writable root fail with EXDEV (rustc writes `.rmeta` so, git moves
/// objects so). Found by running cargo under `:caches` (issue 18 item 5).
#[test]
fn rename_and_link_across_directories_inside_a_writable_root() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("work/a/b");
        ws.mkdir("work/c");
        for op in ["rename", "link"] {
            let (from, to) = (format!("work/a/b/{op}"), format!("work/c/{op}"));
            ws.write(&from, "x\n");
            control(&ws, &[op, &ws.s(&from), &ws.s(&to)]).assert_ok();
            std::fs::remove_file(ws.join(&to)).unwrap();
            ws.write(&from, "x\n");
            sandboxed(&ws, &[], &[op, &ws.s(&from), &ws.s(&to)]).assert_ok();
            assert_eq!(ws.read(&to), "x\n", "{user:?} {op}");
            // And back up the tree, and from the workspace's top.
            let top = format!("work/{op}-top");
            sandboxed(&ws, &[], &["rename", &ws.s(&to), &ws.s(&top)]).assert_ok();
            sandboxed(&ws, &[], &["rename", &ws.s(&top), &ws.s(&to)]).assert_ok();
        }
    }
}
