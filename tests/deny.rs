//! Deny entries (issue 13): `:secrets` by default, `--deny-read` paths and
//! globs, lifted by a grant that names them. Real files hold a marker; a
//! denied read must never print it, as root and as nobody, in the mount
//! namespace and without one (`--best-effort` on a host that refuses
//! `unshare`, stood in for by the probe's `deny-syscall`).

mod support;

use support::*;

/// How cordon is entered: normally, or where `unshare` fails.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ns {
    Yes,
    No,
}

const MODES: [Ns; 2] = [Ns::Yes, Ns::No];

fn marker(what: &str) -> String {
    format!("MARKER-{what}-{}", std::process::id())
}

/// `cordon run FLAGS -- cordon-probe OP...` in mode `ns`.
fn run(ws: &Ws, ns: Ns, flags: &[&str], op: &[&str]) -> Outcome {
    let (c, p) = (
        cordon_bin().to_str().unwrap(),
        probe_bin().to_str().unwrap(),
    );
    let mut argv: Vec<&str> = match ns {
        Ns::Yes => vec![c, "run"],
        Ns::No => vec![
            p,
            "deny-syscall",
            "unshare=EPERM",
            "--",
            c,
            "run",
            "--best-effort",
        ],
    };
    argv.extend_from_slice(flags);
    argv.push("--");
    argv.push(p);
    argv.extend_from_slice(op);
    run_as(ws.user, &ws.work(), &ws.env(), &argv)
}

fn explain(ws: &Ws, flags: &[&str], path: &str) -> String {
    let mut args = vec!["explain"];
    args.extend_from_slice(flags);
    args.push(path);
    let out = cordon(ws, &args);
    assert_eq!(out.status, 0, "{out:?}");
    out.stdout
}

/// A home with credential stores holding markers, and a sibling that
/// shares a prefix.
fn home_with_secrets(ws: &Ws) {
    ws.write("home/.ssh/id_ed25519", &marker("ssh"));
    ws.write("home/.ssh/known_hosts", "KNOWN-HOSTS\n");
    ws.write("home/.aws/credentials", &marker("aws"));
    ws.write("home/.netrc", &marker("netrc"));
    ws.write("home/.sshx/notes", "SIBLING\n");
}

/// Where a hidden file lies.
#[derive(Clone, Copy, PartialEq)]
enum In {
    /// Itself denied: an inert /dev/null in the namespace.
    File,
    /// Under a denied directory: an empty tmpfs, mode 000.
    Dir,
    /// Under a denied directory with a lift inside: mode 0111, passable.
    LiftedDir,
}

/// The errno of reading a hidden file. In the namespace: EACCES at an
/// inert /dev/null for everyone; under a mode-000 tmpfs root passes the
/// mode and finds nothing (ENOENT) where nobody may not look (EACCES);
/// under a passable one both find nothing. Without it, Landlock: EACCES.
fn hidden_errno(user: User, ns: Ns, at: In) -> &'static str {
    match (ns, user, at) {
        (Ns::Yes, _, In::LiftedDir) | (Ns::Yes, User::Root, In::Dir) => "ENOENT",
        _ => "EACCES",
    }
}

#[test]
fn secrets_are_hidden_by_default_with_and_without_the_namespace() {
    for user in users() {
        let ws = Ws::new(user);
        home_with_secrets(&ws);
        let files = [
            ("home/.ssh/id_ed25519", "ssh", In::Dir),
            ("home/.aws/credentials", "aws", In::Dir),
            ("home/.netrc", "netrc", In::File),
        ];
        // Control: readable without cordon.
        for (f, what, _) in files {
            let out = control(&ws, &["read", &ws.s(f)]);
            out.assert_ok();
            assert!(out.stdout.contains(&marker(what)), "{out:?}");
        }
        for ns in MODES {
            for (f, what, in_dir) in files {
                let out = run(&ws, ns, &[], &["read", &ws.s(f)]);
                out.assert_errno(hidden_errno(user, ns, in_dir));
                assert!(
                    !out.stdout.contains(&marker(what)) && !out.stderr.contains(&marker(what)),
                    "{user:?} {ns:?}: the marker leaked: {out:?}"
                );
            }
            // The sibling sharing a prefix stays readable.
            let out = run(&ws, ns, &[], &["read", &ws.s("home/.sshx/notes")]);
            out.assert_ok();
            assert!(out.stdout.contains("SIBLING"), "{out:?}");
        }
    }
}

/// With $HOME writable, writing into a denied directory fails and leaves
/// nothing; so does overwriting a denied file.
#[test]
fn writes_into_a_denied_path_fail_and_create_nothing() {
    for user in users() {
        let ws = Ws::new(user);
        home_with_secrets(&ws);
        ws.mkdir("home/sub");
        let home = ws.s("home");
        let new = ws.s("home/.ssh/planted");
        // Control: the sandbox lets the command write in $HOME (in a
        // directory: without the namespace, $HOME itself, which holds a
        // denied directory, keeps no rights of its own).
        for ns in MODES {
            let ok = ws.s(&format!("home/sub/ok-{ns:?}"));
            run(&ws, ns, &["-w", &home], &["create", &ok]).assert_ok();
            let out = run(&ws, ns, &["-w", &home], &["create", &new]);
            let want = match (ns, user) {
                (Ns::Yes, User::Root) => "EROFS",
                _ => "EACCES",
            };
            out.assert_errno(want);
            assert!(!ws.join("home/.ssh/planted").exists(), "{user:?} {ns:?}");
            let out = run(
                &ws,
                ns,
                &["-w", &home],
                &["overwrite", &ws.s("home/.netrc")],
            );
            out.assert_errno("EACCES");
            assert_eq!(ws.read("home/.netrc"), marker("netrc"), "{user:?} {ns:?}");
        }
    }
}

/// `--allow-read` of a path inside a denied directory lifts it for that
/// path only; naming the denied path itself lifts it whole. `explain`
/// names the deciding rule either way.
#[test]
fn allow_read_lifts_the_path_it_names_and_explain_says_so() {
    for user in users() {
        let ws = Ws::new(user);
        home_with_secrets(&ws);
        let known = ws.s("home/.ssh/known_hosts");
        let key = ws.s("home/.ssh/id_ed25519");
        let netrc = ws.s("home/.netrc");
        for ns in MODES {
            let lift = ["--allow-read", known.as_str()];
            let out = run(&ws, ns, &lift, &["read", &known]);
            out.assert_ok();
            assert!(
                out.stdout.contains("KNOWN-HOSTS"),
                "{user:?} {ns:?}: {out:?}"
            );
            let out = run(&ws, ns, &lift, &["read", &key]);
            out.assert_errno(hidden_errno(user, ns, In::LiftedDir));
            assert!(!out.stdout.contains(&marker("ssh")));
            let out = run(&ws, ns, &["--allow-read", &netrc], &["read", &netrc]);
            out.assert_ok();
            assert!(out.stdout.contains(&marker("netrc")), "{out:?}");
        }
        let text = explain(&ws, &["--allow-read", &known], &known);
        assert!(
            text.contains("lifted for") && text.contains("--allow-read"),
            "{text}"
        );
        let text = explain(&ws, &[], &key);
        assert!(
            text.contains(&format!("read {key}: denied"))
                && text.contains("hidden by deny entry :secrets"),
            "{text}"
        );
        let text = explain(&ws, &["--allow-read", &netrc], &netrc);
        assert!(text.contains("not applied: --allow-read names"), "{text}");
        // A wider grant does not lift: $HOME writable keeps ~/.ssh hidden.
        let text = explain(&ws, &["-w", &ws.s("home")], &key);
        assert!(text.contains(&format!("write {key}: denied")), "{text}");
    }
}

/// A glob hides every match in the workspace, at any depth up to the
/// profile's limit; look-alikes stay.
#[test]
fn deny_globs_hide_their_matches() {
    for user in users() {
        let ws = Ws::new(user);
        ws.write("work/.env", &marker("env-top"));
        ws.write("work/app/config/.env", &marker("env-deep"));
        ws.write("work/app/.envrc", "LOOKALIKE\n");
        let glob = ["--deny-read", "**/.env"];
        for ns in MODES {
            for (f, what) in [
                ("work/.env", "env-top"),
                ("work/app/config/.env", "env-deep"),
            ] {
                let out = run(&ws, ns, &glob, &["read", &ws.s(f)]);
                out.assert_errno("EACCES");
                assert!(!out.stdout.contains(&marker(what)), "{out:?}");
                let out = run(&ws, ns, &glob, &["overwrite", &ws.s(f)]);
                out.assert_errno("EACCES");
                assert_eq!(ws.read(f), marker(what));
            }
            let out = run(&ws, ns, &glob, &["read", &ws.s("work/app/.envrc")]);
            out.assert_ok();
        }
        // Without the flag: readable (the control).
        run(&ws, Ns::Yes, &[], &["read", &ws.s("work/.env")]).assert_ok();
        // A depth limit of 1 leaves the deep one unmatched, and says so.
        let profile = ws.write(
            "outside/shallow.toml",
            "[file_system]\nread = [\":root\"]\nwrite = [\":cwd\"]\ndeny = [\"**/.env\"]\nglob_depth = 1\n",
        );
        let p = profile.to_str().unwrap();
        let out = cordon(&ws, &["run", "-p", p, "--dry-run", "--", "true"]);
        assert!(
            out.stdout.contains("depth 1): 1 matched; ")
                && out
                    .stdout
                    .contains("directories at the depth limit not searched"),
            "{out:?}"
        );
        run(
            &ws,
            Ns::Yes,
            &["-p", p],
            &["read", &ws.s("work/app/config/.env")],
        )
        .assert_ok();
    }
}

#[test]
fn bad_deny_entries_are_refused() {
    let ws = Ws::new(User::Nobody);
    let marker_file = ws.s("work/ran");
    for (flag, needle) in [
        ("relative/path", "is not absolute after expansion"),
        ("/**", "matches everything"),
        ("**", "matches everything"),
        (":nope", "unknown special name"),
        ("/a/../b", "contains `..`"),
    ] {
        let out = cordon(
            &ws,
            &[
                "run",
                "--deny-read",
                flag,
                "--",
                probe_bin().to_str().unwrap(),
                "create",
                &marker_file,
            ],
        );
        out.assert_refused(needle);
        assert!(!ws.join("work/ran").exists(), "{flag}: the command ran");
    }
    for (toml, needle) in [
        ("deny = [\"x\"]", "is not absolute after expansion"),
        ("glob_depth = 0", "use a depth from 1"),
    ] {
        let text = format!("[file_system]\nread = [\":root\"]\nwrite = [\":cwd\"]\n{toml}\n");
        let profile = ws.write("outside/bad.toml", &text);
        let out = cordon(&ws, &["run", "-p", profile.to_str().unwrap(), "--", "true"]);
        out.assert_refused(needle);
    }
}

/// Reruns (issue 13 §4): an `additional` grant lifts a deny entry only when
/// it names the entry or a path inside it, never by covering it ($HOME
/// writable keeps `~/.ssh` hidden); an `exact` profile brings its own
/// `deny`: none given means `:secrets`, `deny = []` means none.
#[test]
fn reruns_lift_only_what_a_grant_names_and_exact_brings_its_own_deny() {
    use serde_json::json;
    for user in users() {
        let ws = Ws::new(user);
        home_with_secrets(&ws);
        let key = ws.s("home/.ssh/id_ed25519");
        let known = ws.s("home/.ssh/known_hosts");
        let rerun = |name: &str, execution: serde_json::Value, op: &[&str]| {
            let req = probe_request(&ws, execution, op);
            let file = ws.write(&format!("outside/{name}.json"), &req.to_string());
            cordon(&ws, &["rerun", "--request", file.to_str().unwrap()])
        };
        let additional =
            |fs: serde_json::Value| json!({"permissions": {"additional": {"file_system": fs}}});
        // The turn default hides the key.
        let out = rerun("default", json!("turn_default"), &["read", &key]);
        out.assert_errno(hidden_errno(user, Ns::Yes, In::Dir));
        // $HOME made writable covers ~/.ssh but does not name it.
        let out = rerun(
            "home",
            additional(json!({"write": [ws.s("home")]})),
            &["read", &key],
        );
        out.assert_errno(hidden_errno(user, Ns::Yes, In::Dir));
        assert!(!out.stdout.contains(&marker("ssh")), "{user:?}: {out:?}");
        // Naming a path inside lifts that path only.
        let lift = additional(json!({"read": [known.clone()]}));
        let out = rerun("lift", lift.clone(), &["read", &known]);
        out.assert_ok();
        assert!(out.stdout.contains("KNOWN-HOSTS"), "{user:?}: {out:?}");
        rerun("lift-key", lift, &["read", &key]).assert_errno(hidden_errno(
            user,
            Ns::Yes,
            In::LiftedDir,
        ));
        // Naming the entry's path lifts it whole.
        let out = rerun(
            "whole",
            additional(json!({"read": [ws.s("home/.ssh")]})),
            &["read", &key],
        );
        out.assert_ok();
        assert!(out.stdout.contains(&marker("ssh")), "{user:?}: {out:?}");
        // An exact profile that says nothing denies :secrets ...
        let exact = |p: serde_json::Value| json!({"permissions": {"exact": p}});
        rerun("exact", exact(json!({})), &["read", &key]).assert_errno(hidden_errno(
            user,
            Ns::Yes,
            In::Dir,
        ));
        // ... and one with its own deny list gets exactly that.
        let own = exact(json!({"file_system": {"deny": [ws.s("home/.netrc")]}}));
        let out = rerun("exact-own", own.clone(), &["read", &key]);
        out.assert_ok();
        assert!(out.stdout.contains(&marker("ssh")), "{user:?}: {out:?}");
        rerun("exact-own-netrc", own, &["read", &ws.s("home/.netrc")]).assert_errno("EACCES");
    }
}

/// Adversarial pass 3, F1: a run that may write `$HOME` closes it
/// (`chmod 000`); planning, which runs as the caller, could no longer look
/// the stores up and hid nothing, while the next command opened `$HOME`
/// again and read every key. The next run now refuses (125) as long as the
/// directory is the caller's and closed; root passes the mode and still
/// hides the stores.
#[test]
fn a_closed_home_is_refused_not_taken_as_empty() {
    for user in users() {
        let ws = Ws::new(user);
        home_with_secrets(&ws);
        // Made now: written later, it would land in the placeholder the
        // runs below hold for git's ~/.config/git/config.
        ws.write("home/.config/gh/hosts.yml", &marker("gh"));
        let home = ws.s("home");
        let key = ws.s("home/.ssh/id_ed25519");
        run(&ws, Ns::Yes, &["-w", &home], &["chmod", &home, "0"]).assert_ok();
        let script = format!("chmod 755 {home}; cat {key}");
        let out = sandboxed_sh(&ws, &["-w", &home], &script);
        assert!(!out.stdout.contains(&marker("ssh")), "{user:?}: {out:?}");
        match user {
            User::Root => assert_ne!(out.status, 125, "{out:?}"),
            User::Nobody => {
                out.assert_refused("cannot look up");
            }
        }
        std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        // Closed below $HOME: a directory on the way to a store.
        let config = ws.s("home/.config");
        run(&ws, Ns::Yes, &["-w", &home], &["chmod", &config, "0"]).assert_ok();
        let gh = ws.s("home/.config/gh/hosts.yml");
        let script = format!("chmod 755 {config}; cat {gh}");
        let out = sandboxed_sh(&ws, &["-w", &home], &script);
        assert!(!out.stdout.contains(&marker("gh")), "{user:?}: {out:?}");
        if user == User::Nobody {
            out.assert_refused("cannot look up");
        }
        std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
}

/// F1 for globs: a directory of the caller's that the glob cannot list is
/// denied whole rather than skipped.
#[test]
fn a_closed_directory_is_denied_whole_by_a_glob() {
    let ws = Ws::new(User::Nobody);
    ws.write("work/a/b/.env", &marker("env"));
    let a = ws.s("work/a");
    let env = ws.s("work/a/b/.env");
    let glob = ["--deny-read", "**/.env"];
    run(&ws, Ns::Yes, &glob, &["read", &env]).assert_errno("EACCES");
    run(&ws, Ns::Yes, &glob, &["chmod", &a, "0"]).assert_ok();
    let out = cordon(
        &ws,
        &["run", "--deny-read", "**/.env", "--dry-run", "--", "true"],
    );
    assert!(
        out.stdout.contains(&format!(
            "denied whole, as yours but closed to listing: {a}"
        )),
        "{out:?}"
    );
    let out = sandboxed_sh(&ws, &glob, &format!("chmod 755 {a}; cat {env}"));
    assert!(!out.stdout.contains(&marker("env")), "{out:?}");
    assert!(out.stderr.contains("Permission denied"), "{out:?}");
}

/// F4: with `$HOME` writable, renaming a denied file's directory moved the
/// secret to a name no entry denies. The directories between the writable
/// root and a denied path are pinned: EBUSY. The control renames it.
#[test]
fn the_directories_above_a_denied_path_cannot_be_renamed() {
    for user in users() {
        let ws = Ws::new(user);
        ws.write("home/.docker/config.json", &marker("docker"));
        let (from, to) = (ws.s("home/.docker"), ws.s("home/.docker-moved"));
        control(&ws, &["rename", &from, &to]).assert_ok();
        control(&ws, &["rename", &to, &from]).assert_ok();
        let home = ws.s("home");
        run(&ws, Ns::Yes, &["-w", &home], &["rename", &from, &to]).assert_errno("EBUSY");
        assert!(ws.join("home/.docker/config.json").exists(), "{user:?}");
        let out = run(
            &ws,
            Ns::Yes,
            &[],
            &["read", &ws.s("home/.docker/config.json")],
        );
        assert!(!out.stdout.contains(&marker("docker")), "{out:?}");
    }
}

/// F8: a working directory (`:cwd`, a rerun's `cwd`) inside a denied path
/// does not lift it: refused with 125, and naming the path lifts it.
#[test]
fn a_working_directory_inside_a_denied_path_is_refused() {
    for user in users() {
        let ws = Ws::new(user);
        home_with_secrets(&ws);
        let ssh = ws.s("home/.ssh");
        let key = ws.s("home/.ssh/id_ed25519");
        let out = cordon(
            &ws,
            &[
                "run",
                "-C",
                &ssh,
                "--",
                probe_bin().to_str().unwrap(),
                "read",
                &key,
            ],
        );
        out.assert_refused("a special name does not lift a deny entry");
        let out = cordon(
            &ws,
            &[
                "run",
                "-C",
                &ssh,
                "--allow-write",
                &ssh,
                "--",
                probe_bin().to_str().unwrap(),
                "read",
                &key,
            ],
        );
        out.assert_ok();
        let req = serde_json::json!({
            "command": [probe_bin().to_str().unwrap(), "read", key],
            "cwd": ssh,
            "turn": {"sandbox_policy": {"type": "workspace-write"}},
            "execution": "turn_default",
        });
        let file = ws.write("outside/cwd.json", &req.to_string());
        cordon(&ws, &["rerun", "--request", file.to_str().unwrap()])
            .assert_refused("a special name does not lift a deny entry");
    }
}
