//! Configuration and command-line conventions (issue 18 items 7 and 8;
//! contract §6): user profiles, `CORDON_PROFILE`, a workspace never
//! choosing its own sandbox, completions, the manual page, `profiles
//! --json`, errors as JSON. Real files and real shells, as root and nobody.

mod support;

use serde_json::Value;
use support::*;

/// `cordon ARGS` as the workspace's user with `extra` variables.
fn cordon_env(ws: &Ws, extra: &[(&str, &str)], args: &[&str]) -> Outcome {
    let mut env = ws.env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut argv = vec![cordon_bin().to_str().unwrap()];
    argv.extend_from_slice(args);
    run_as(ws.user, &ws.work(), &env, &argv)
}

/// A profile that makes `outside/` writable: which profile was used shows
/// in whether the probe may write there.
fn outside_profile(ws: &Ws) -> String {
    format!(
        "description = \"writes outside\"\n[file_system]\nwrite = [\":cwd\", \"{}\"]\n",
        ws.s("outside")
    )
}

/// A workspace whose user has the profile NAME (`outside_profile`), and
/// the file in `outside/` that shows whether it was used.
fn user_profile(user: User, name: &str) -> (Ws, String) {
    let ws = Ws::new(user);
    ws.write(
        &format!("home/.config/cordon/profiles/{name}.toml"),
        &outside_profile(&ws),
    );
    let f = ws.s("outside/x");
    (ws, f)
}

#[test]
fn p_name_finds_the_user_profile_directory() {
    for user in users() {
        let (ws, f) = user_profile(user, "wide");
        control(&ws, &["write", &f]).assert_ok();
        std::fs::remove_file(&f).unwrap();
        sandboxed(&ws, &[], &["write", &f]).assert_errno(denied_write(user));
        sandboxed(&ws, &["-p", "wide"], &["write", &f]).assert_ok();
        std::fs::remove_file(&f).unwrap();
        // $XDG_CONFIG_HOME wins over ~/.config.
        ws.write(
            "xdg/cordon/profiles/wide.toml",
            "[file_system]\nwrite = [\":cwd\"]\n",
        );
        let xdg = ws.s("xdg");
        let mut argv = vec!["run", "-p", "wide", "--", probe_bin().to_str().unwrap()];
        argv.extend(["write", &f]);
        cordon_env(&ws, &[("XDG_CONFIG_HOME", &xdg)], &argv).assert_errno(denied_write(user));
        // A missing one names the file to create.
        let out = cordon(&ws, &["run", "-p", "nope", "--", "true"]);
        out.assert_refused(&ws.s("home/.config/cordon/profiles/nope.toml"));
        // A name is a file name, never a path.
        cordon(&ws, &["run", "-p", "a b", "--", "true"]).assert_refused("profile name");
    }
}

/// A sandboxed command with $HOME writable cannot rewrite or add the
/// user's profiles (a later `-p NAME` or `CORDON_PROFILE` run would pick
/// them up): `~/.config/cordon` is protected, like `~/.bashrc`.
#[test]
fn the_user_profile_directory_is_protected_from_the_sandbox() {
    for user in users() {
        let ws = Ws::new(user);
        let profile = ws.write(
            "home/.config/cordon/profiles/build.toml",
            "[file_system]\nwrite = [\":cwd\"]\n",
        );
        let profile = profile.to_str().unwrap().to_string();
        let planted = ws.s("home/.config/cordon/profiles/evil.toml");
        let home = ws.s("home");
        // Control: $HOME writable reaches a sibling of the directory.
        let sibling = ws.s("home/.config/other.toml");
        sandboxed(&ws, &["-w", &home], &["write", &sibling]).assert_ok();
        sandboxed(&ws, &["-w", &home], &["write", &profile]).assert_errno_in(&["EROFS", "EACCES"]);
        sandboxed(&ws, &["-w", &home], &["write", &planted]).assert_errno_in(&["EROFS", "EACCES"]);
        wait_for_placeholders(&ws);
        assert!(!std::path::Path::new(&planted).exists(), "{user:?}");
        assert_eq!(
            ws.read("home/.config/cordon/profiles/build.toml"),
            "[file_system]\nwrite = [\":cwd\"]\n"
        );
    }
}

#[test]
fn builtin_names_are_reserved() {
    for user in users() {
        let (ws, f) = user_profile(user, "workspace-write");
        // -p workspace-write is the built-in, whatever the directory holds.
        sandboxed(&ws, &["-p", "workspace-write"], &["write", &f]).assert_errno(denied_write(user));
        sandboxed(&ws, &[], &["write", &f]).assert_errno(denied_write(user));
        // `profiles` says why the file is never used.
        let out = cordon(&ws, &["profiles"]);
        assert_eq!(out.status, 0, "{out:?}");
        assert!(
            out.stdout
                .contains("unusable: `workspace-write` is a built-in name, which is reserved"),
            "{out:?}"
        );
    }
}

#[test]
fn cordon_profile_names_the_profile_used_without_p() {
    for user in users() {
        let (ws, f) = user_profile(user, "wide");
        let probe = probe_bin().to_str().unwrap();
        let run = |env: &[(&str, &str)], flags: &[&str]| {
            let mut argv = vec!["run"];
            argv.extend_from_slice(flags);
            argv.extend(["--", probe, "write", &f]);
            cordon_env(&ws, env, &argv)
        };
        run(&[("CORDON_PROFILE", "wide")], &[]).assert_ok();
        std::fs::remove_file(&f).unwrap();
        // A file works as with -p; -p and --policy-json win over it.
        let file = ws.write("outside/p.toml", &outside_profile(&ws));
        run(&[("CORDON_PROFILE", file.to_str().unwrap())], &[]).assert_ok();
        std::fs::remove_file(&f).unwrap();
        run(&[("CORDON_PROFILE", "wide")], &["-p", "workspace-write"])
            .assert_errno(denied_write(user));
        run(
            &[("CORDON_PROFILE", "wide")],
            &["--policy-json", "{\"type\":\"workspace-write\"}"],
        )
        .assert_errno(denied_write(user));
        // Empty counts as unset; a bad one names the variable.
        run(&[("CORDON_PROFILE", "")], &[]).assert_errno(denied_write(user));
        let out = cordon_env(&ws, &[("CORDON_PROFILE", "nope")], &["run", "--", "true"]);
        out.assert_refused("CORDON_PROFILE=nope: unknown profile `nope`");
        let out = cordon_env(&ws, &[("CORDON_PROFILE", "wide")], &["profiles", "--json"]);
        let list: Value = serde_json::from_str(&out.stdout).unwrap();
        let default: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["default"] == true)
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(default, ["wide"], "{out:?}");
    }
}

#[test]
fn a_workspace_profile_is_used_only_when_named() {
    for user in users() {
        let ws = Ws::new(user);
        let f = ws.s("outside/x");
        // An untrusted repository ships a profile that widens its sandbox.
        ws.write("work/.cordon/profile.toml", &outside_profile(&ws));
        ws.write("work/cordon.toml", &outside_profile(&ws));
        ws.write(
            "work/.cordon/profiles/workspace-write.toml",
            &outside_profile(&ws),
        );
        sandboxed(&ws, &[], &["write", &f]).assert_errno(denied_write(user));
        // Not even as a bare name (which means the user's directory).
        cordon(&ws, &["run", "-p", "profile", "--", "true"])
            .assert_refused("profiles/profile.toml");
        // Named explicitly, it is used.
        sandboxed(&ws, &["-p", "./.cordon/profile.toml"], &["write", &f]).assert_ok();
    }
}

#[test]
fn profiles_json_lists_builtins_and_user_profiles() {
    let ws = Ws::new(User::Nobody);
    ws.write(
        "home/.config/cordon/profiles/dev.toml",
        "description = \"mine\"\n",
    );
    ws.write("home/.config/cordon/profiles/broken.toml", "nonsense = 1\n");
    let out = cordon(&ws, &["profiles", "--json"]);
    assert_eq!(out.status, 0, "{out:?}");
    let list: Value = serde_json::from_str(&out.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "read-only",
            "workspace-write",
            "full-access",
            "broken",
            "dev"
        ]
    );
    assert_eq!(list[1]["default"], true);
    assert_eq!(list[1]["kind"], "builtin");
    assert_eq!(list[4]["kind"], "user");
    assert_eq!(list[4]["description"], "mine");
    assert_eq!(
        list[4]["path"],
        ws.s("home/.config/cordon/profiles/dev.toml")
    );
    assert!(
        list[3]["unusable"]
            .as_str()
            .unwrap()
            .contains("unknown field `nonsense`")
    );
    let one = cordon(&ws, &["profiles", "dev", "--json"]);
    let one: Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(one["toml"], "description = \"mine\"\n");
    let out = cordon(&ws, &["profiles", "dev"]);
    assert_eq!(out.stdout, "description = \"mine\"\n");
}

#[test]
fn errors_are_json_on_stdout_when_json_is_given() {
    let ws = Ws::new(User::Nobody);
    for args in [
        &["explain", "--json", "-p", "nope"][..],
        &["explain", "--json", "--bogus"],
        &[
            "run",
            "--dry-run",
            "--json",
            "-w",
            "/nonexistent",
            "--",
            "true",
        ],
        &["profiles", "--json", "nope"],
        &["seatbelt", "--json", "--allow-write-optional", ":cwd"],
    ] {
        let out = cordon(&ws, args);
        assert_eq!(out.status, 125, "{args:?}: {out:?}");
        let line = out.stderr.trim_end().strip_prefix("cordon: ").unwrap();
        let json: Value = serde_json::from_str(out.stdout.trim_end()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": line, "exit": 125}),
            "{args:?}"
        );
    }
    // Without --json, stdout stays empty; a `--json` after `--` is the
    // command's.
    for args in [
        &["explain", "-p", "nope"][..],
        &["run", "--bogus", "--", "x", "--json"],
    ] {
        let out = cordon(&ws, args);
        assert_eq!(out.status, 125);
        assert_eq!(out.stdout, "", "{args:?}");
    }
}

#[test]
fn clap_errors_are_one_line_from_their_kind() {
    let ws = Ws::new(User::Nobody);
    for (args, want) in [
        (
            &["run", "--landlock-abi", "9"][..],
            "invalid value '9' for '--landlock-abi <N>': 9 is not in 1..=7",
        ),
        (
            &["completions", "elvish"],
            "invalid value 'elvish' for '<SHELL>' [possible values: bash, zsh, fish]",
        ),
        (
            &["run", "--new-session", "--no-new-session"],
            "the argument '--new-session' cannot be used with '--no-new-session'",
        ),
        (
            &["rerun"],
            "the following required arguments were not provided: --request <FILE|->",
        ),
        (&["bogus"], "unrecognized subcommand 'bogus'"),
        (
            &["run", "-p"],
            "a value is required for '--profile <NAME|FILE>' but none was supplied",
        ),
    ] {
        cordon(&ws, args).assert_refused(want);
    }
}

#[test]
fn completions_load_in_each_shell() {
    let ws = Ws::new(User::Nobody);
    for (shell, load, marker) in [
        (
            "bash",
            "source /dev/stdin; complete -p cordon",
            "complete -F _cordon",
        ),
        (
            "zsh",
            "autoload -Uz compinit; compinit -u; source /dev/stdin; print ok",
            "#compdef cordon",
        ),
        (
            "fish",
            "source; complete -C 'cordon expl'",
            "complete -c cordon",
        ),
    ] {
        let out = cordon(&ws, &["completions", shell]);
        assert_eq!(out.status, 0, "{out:?}");
        assert!(out.stdout.contains(marker), "{shell}");
        assert!(out.stdout.contains("allow-write-optional"), "{shell}");
        // Loaded by the shell itself (the test fails where it is missing:
        // .ci/run installs bash, zsh and fish).
        let mut child = std::process::Command::new(shell)
            .args(["-c", load])
            .env("HOME", ws.s("home"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{shell}: {e}"));
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(out.stdout.as_bytes())
            .unwrap();
        let done = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&done.stdout);
        assert!(done.status.success(), "{shell}: {done:?}");
        let want = match shell {
            "bash" => "-F _cordon cordon",
            "zsh" => "ok",
            _ => "explain",
        };
        assert!(stdout.contains(want), "{shell}: {stdout}");
    }
}

#[test]
fn man_prints_roff_that_man_renders() {
    let ws = Ws::new(User::Nobody);
    for (args, title, want) in [
        (&["man"][..], "cordon", "cordon-completions(1)"),
        (&["man", "run"], "cordon-run", "--allow-write-optional"),
    ] {
        let out = cordon(&ws, args);
        assert_eq!(out.status, 0, "{out:?}");
        assert!(out.stdout.starts_with(".ie"), "{out:?}");
        assert!(out.stdout.contains(&format!(".TH {title} 1")), "{out:?}");
        let page = ws.write(&format!("outside/{title}.1"), &out.stdout);
        let text = std::process::Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("SYNOPSIS"), "{text}");
        assert!(text.contains(want), "{text}");
    }
    cordon(&ws, &["man", "nope"]).assert_refused("man nope: no such subcommand");
}
