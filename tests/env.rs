//! The environment policy (issue 13, part 3; contract §6): which of the
//! caller's variables reach the command. Real variables with marker values,
//! through the built `cordon`, as root and as an unprivileged user, each
//! beside a control run without cordon where the point is that the variable
//! would otherwise arrive.

mod support;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use support::*;

/// Secrets by name, with values that must never show up where they should
/// not: not in the command's environment, not in any output of cordon.
const SECRETS: [(&str, &str); 3] = [
    ("AWS_SECRET_ACCESS_KEY", "marker-aws-5b1e"),
    ("GITHUB_TOKEN", "marker-gh-93ad"),
    ("MY_API_KEY", "marker-api-c20f"),
];

/// Harmless variables that are not in the core set.
const PLAIN: [(&str, &str); 2] = [("EDITOR", "vi"), ("CORDON_TEST_PLAIN", "plain")];

/// Every marker value, for "never printed" checks.
fn markers() -> Vec<&'static str> {
    SECRETS.iter().map(|(_, v)| *v).collect()
}

/// The workspace's environment (PATH HOME TMPDIR LANG) plus the secrets,
/// the plain variables, `TERM` and an `LC_*`, plus `extra`.
fn caller_env(ws: &Ws, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = ws.env();
    let more = SECRETS
        .iter()
        .chain(PLAIN.iter())
        .chain([("TERM", "dumb"), ("LC_ALL", "C")].iter())
        .chain(extra.iter());
    env.extend(more.map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// `cordon ARGS...` as the workspace's user, with [`caller_env`].
fn cordon_env(ws: &Ws, extra: &[(&str, &str)], args: &[&str]) -> Outcome {
    let mut argv = vec![cordon_bin().to_str().unwrap()];
    argv.extend_from_slice(args);
    run_as(ws.user, &ws.work(), &caller_env(ws, extra), &argv)
}

/// `/usr/bin/env -0`'s output as a map (values may hold newlines).
fn parse_env(out: &Outcome) -> BTreeMap<String, String> {
    assert_eq!(out.status, 0, "{out:?}");
    out.stdout
        .split('\0')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The command's environment under `cordon run FLAGS -- env -0`.
fn child_env(ws: &Ws, extra: &[(&str, &str)], flags: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend(["--", "/usr/bin/env", "-0"]);
    parse_env(&cordon_env(ws, extra, &args))
}

/// The same without cordon: the control.
fn control_env(ws: &Ws, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    parse_env(&run_as(
        ws.user,
        &ws.work(),
        &caller_env(ws, extra),
        &["/usr/bin/env", "-0"],
    ))
}

#[track_caller]
fn assert_no_marker(text: &str, what: &str) {
    for m in markers().iter().chain(["marker-set-4e77"].iter()) {
        assert!(!text.contains(m), "{what} shows the value {m}:\n{text}");
    }
}

#[test]
fn secret_names_are_absent_by_default_and_present_without_cordon() {
    for user in users() {
        let ws = Ws::new(user);
        let control = control_env(&ws, &[]);
        for (k, v) in SECRETS {
            assert_eq!(control.get(k).map(String::as_str), Some(v), "control");
        }
        // Every built-in profile drops them, full-access (no sandbox) too.
        for profile in ["workspace-write", "read-only", "full-access"] {
            let env = child_env(&ws, &[], &["-p", profile]);
            for (k, _) in SECRETS {
                assert!(
                    !env.contains_key(k),
                    "{user:?} {profile}: {k} arrived: {env:?}"
                );
            }
            assert_no_marker(&format!("{env:?}"), profile);
            // Everything else passes, values unchanged.
            for (k, v) in PLAIN
                .iter()
                .chain([("PATH", ws.env()[0].1.as_str())].iter())
            {
                assert_eq!(env.get(*k).map(String::as_str), Some(*v), "{profile}");
            }
        }
        // So do the harness shapes, which carry no env policy.
        for json in [
            r#"{"type":"danger-full-access"}"#,
            r#"{"type":"workspace-write"}"#,
            r#"{"file_system":{"write":[":cwd"]}}"#,
        ] {
            let env = child_env(&ws, &[], &["--policy-json", json]);
            assert!(
                !env.keys().any(|k| k.contains("KEY") || k.contains("TOKEN")),
                "{json}: {env:?}"
            );
        }
    }
}

#[test]
fn keepenv_keeps_exactly_what_it_names_case_insensitively() {
    for user in users() {
        let ws = Ws::new(user);
        for flag in ["GITHUB_TOKEN", "github_token", "GITHUB_TOKE?", "GITHUB_*"] {
            let env = child_env(&ws, &[], &["--keepenv", flag]);
            assert_eq!(
                env.get("GITHUB_TOKEN").map(String::as_str),
                Some("marker-gh-93ad"),
                "--keepenv {flag}"
            );
            assert!(
                !env.contains_key("AWS_SECRET_ACCESS_KEY"),
                "--keepenv {flag}"
            );
            assert!(!env.contains_key("MY_API_KEY"), "--keepenv {flag}");
        }
        // --unsetenv adds a pattern: case-insensitive globs.
        let env = child_env(
            &ws,
            &[],
            &["--unsetenv", "editor", "--unsetenv", "cordon_test_?lain"],
        );
        assert!(
            !env.contains_key("EDITOR") && !env.contains_key("CORDON_TEST_PLAIN"),
            "{env:?}"
        );
        assert!(env.contains_key("PATH"));
    }
}

#[test]
fn env_inherit_core_leaves_only_the_core_set_and_none_only_what_cordon_sets() {
    const CORE: [&str; 12] = [
        "HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "TMPDIR", "TEMP", "TMP", "LANG",
        "TERM", "TZ",
    ];
    let cordons = |k: &str| k.starts_with("CORDON_SANDBOX");
    for user in users() {
        let ws = Ws::new(user);
        let extra = [("TZ", "UTC"), ("SHELL", "/bin/sh"), ("OLDPWD", "/")];
        let control = control_env(&ws, &extra);
        assert!(control.contains_key("EDITOR") && control.contains_key("OLDPWD"));
        let env = child_env(&ws, &extra, &["--env-inherit", "core"]);
        for k in env.keys() {
            assert!(
                CORE.contains(&k.as_str()) || k.starts_with("LC_") || cordons(k),
                "{user:?}: {k} is not in the core set: {env:?}"
            );
        }
        for k in [
            "HOME", "PATH", "TMPDIR", "LANG", "TERM", "TZ", "SHELL", "LC_ALL",
        ] {
            assert_eq!(env.get(k), control.get(k), "{user:?}: core {k}");
        }
        assert_eq!(env["CORDON_SANDBOX"], "landlock");

        let env = child_env(&ws, &extra, &["--env-inherit", "none"]);
        let names: Vec<&str> = env.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["CORDON_SANDBOX", "CORDON_SANDBOX_NETWORK_DISABLED"],
            "{user:?}"
        );
        let env = child_env(
            &ws,
            &extra,
            &[
                "--env-inherit",
                "none",
                "--setenv",
                "FOO=bar",
                "--keepenv",
                "PATH",
            ],
        );
        let names: Vec<&str> = env.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "CORDON_SANDBOX",
                "CORDON_SANDBOX_NETWORK_DISABLED",
                "FOO",
                "PATH"
            ],
            "{user:?}"
        );
        // With no PATH, the command is found the way execvp finds it then.
        let out = cordon_env(&ws, &[], &["run", "--env-inherit", "none", "--", "true"]);
        assert_eq!(out.status, 0, "{out:?}");
    }
}

#[test]
fn setenv_sets_and_wins_over_every_other_rule() {
    for user in users() {
        let ws = Ws::new(user);
        let env = child_env(
            &ws,
            &[],
            &[
                "--setenv",
                "NEW_VAR=a b=c",
                "--setenv",
                "EDITOR=nano",
                "--setenv",
                "GITHUB_TOKEN=dummy",
                "--setenv",
                "EMPTY=",
                "--unsetenv",
                "NEW_*",
            ],
        );
        assert_eq!(env["NEW_VAR"], "a b=c");
        assert_eq!(env["EDITOR"], "nano");
        assert_eq!(env["GITHUB_TOKEN"], "dummy");
        assert_eq!(env["EMPTY"], "");
        // A set PATH is the one the command is looked up in.
        let bin = ws.mkdir("work/bin");
        std::fs::copy("/bin/true", bin.join("only-here")).unwrap();
        ws.chown_tree(&bin);
        let path = format!("PATH={}:/usr/bin:/bin", bin.display());
        let out = cordon_env(&ws, &[], &["run", "--setenv", &path, "--", "only-here"]);
        assert_eq!(out.status, 0, "{out:?}");
        let out = cordon_env(&ws, &[], &["run", "--", "only-here"]);
        assert_eq!(out.status, 127, "{out:?}");
    }
}

#[test]
fn profile_env_tables_apply_and_flags_layer_on_top() {
    for user in users() {
        let ws = Ws::new(user);
        let profile = ws.write(
            "work/p.toml",
            "[file_system]\nwrite = [\":cwd\"]\n\n[env]\ninherit = \"core\"\nexclude = [\"LANG\"]\nkeep = [\"EDITOR\"]\nset = { FROM_PROFILE = \"1\", OVERRIDDEN = \"profile\" }\n",
        );
        let p = profile.to_str().unwrap();
        let env = child_env(&ws, &[], &["-p", p, "--setenv", "OVERRIDDEN=flag"]);
        assert_eq!(env["EDITOR"], "vi", "keep brings back what core left out");
        assert!(!env.contains_key("LANG"), "{env:?}");
        assert!(!env.contains_key("CORDON_TEST_PLAIN"), "{env:?}");
        assert_eq!(env["FROM_PROFILE"], "1");
        assert_eq!(env["OVERRIDDEN"], "flag");
        // exclude = [] in a profile: nothing dropped by name.
        let open = ws.write("work/open.toml", "[env]\nexclude = []\n");
        let env = child_env(&ws, &[], &["-p", open.to_str().unwrap()]);
        assert_eq!(env["GITHUB_TOKEN"], "marker-gh-93ad");
        // A profile with no [env] drops secrets, like the built-ins.
        let bare = ws.write("work/bare.toml", "[file_system]\nwrite = [\":cwd\"]\n");
        let env = child_env(&ws, &[], &["-p", bare.to_str().unwrap()]);
        assert!(!env.contains_key("GITHUB_TOKEN"), "{env:?}");
    }
}

#[test]
fn the_callers_cordon_sandbox_never_reaches_the_command() {
    for user in users() {
        let ws = Ws::new(user);
        let fake = [
            ("CORDON_SANDBOX", "fake"),
            ("CORDON_SANDBOX_NETWORK_DISABLED", "fake"),
            ("CORDON_SANDBOX_OTHER", "fake"),
        ];
        assert_eq!(control_env(&ws, &fake)["CORDON_SANDBOX"], "fake");
        let env = child_env(&ws, &fake, &[]);
        assert_eq!(env["CORDON_SANDBOX"], "landlock");
        assert_eq!(env["CORDON_SANDBOX_NETWORK_DISABLED"], "1");
        assert!(!env.contains_key("CORDON_SANDBOX_OTHER"));
        // Network on: cordon sets no NETWORK_DISABLED, and the caller's goes.
        let env = child_env(&ws, &fake, &["--network"]);
        assert!(
            !env.contains_key("CORDON_SANDBOX_NETWORK_DISABLED"),
            "{env:?}"
        );
        let env = child_env(&ws, &fake, &["-p", "full-access", "--keepenv", "*"]);
        assert_eq!(env["CORDON_SANDBOX"], "none");
        assert!(
            !env.contains_key("CORDON_SANDBOX_NETWORK_DISABLED"),
            "{env:?}"
        );
        assert!(!env.contains_key("CORDON_SANDBOX_OTHER"), "{env:?}");
        assert_eq!(env["GITHUB_TOKEN"], "marker-gh-93ad", "--keepenv '*'");
    }
}

#[test]
fn dry_run_and_explain_list_removed_names_and_never_a_value() {
    for user in users() {
        let ws = Ws::new(user);
        let flags = [
            "--setenv",
            "INJECTED=marker-set-4e77",
            "--keepenv",
            "MY_API_KEY",
        ];
        let mut outputs = Vec::new();
        for head in [
            &["run", "--dry-run"][..],
            &["run", "--dry-run", "--json"],
            &["run", "--dry-run", "--platform", "macos"],
            &["explain"],
            &["explain", "--json"],
            &["explain", "--platform", "macos"],
        ] {
            let mut args = head.to_vec();
            args.extend_from_slice(&flags);
            if head[0] == "run" {
                args.extend(["--", "env"]);
            }
            let out = cordon_env(&ws, &[], &args);
            assert_eq!(out.status, 0, "{args:?}: {out:?}");
            assert_no_marker(&out.stdout, &format!("{args:?}"));
            assert_no_marker(&out.stderr, &format!("{args:?}"));
            outputs.push((args, out.stdout));
        }
        let (_, text) = &outputs[0];
        assert!(
            text.contains(
                "  removed by exclude *KEY* (profile workspace-write: env.exclude): AWS_SECRET_ACCESS_KEY\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "  removed by exclude *TOKEN* (profile workspace-write: env.exclude): GITHUB_TOKEN\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  kept by keep MY_API_KEY (--keepenv): MY_API_KEY\n"),
            "{text}"
        );
        assert!(text.contains("  set INJECTED (--setenv)\n"), "{text}");
        let j: Value = serde_json::from_str(outputs[1].1.trim()).unwrap();
        let env = &j["plan"]["env"];
        assert_eq!(env["inherit"], "all");
        assert_eq!(
            env["removed"],
            json!([
                {"name": "AWS_SECRET_ACCESS_KEY", "by": "exclude", "pattern": "*KEY*", "origin": "profile workspace-write: env.exclude"},
                {"name": "GITHUB_TOKEN", "by": "exclude", "pattern": "*TOKEN*", "origin": "profile workspace-write: env.exclude"},
            ])
        );
        assert_eq!(env["kept"][0]["name"], "MY_API_KEY");
        assert_eq!(
            env["set"],
            json!([{"name": "INJECTED", "origin": "--setenv"}])
        );
        let j: Value = serde_json::from_str(outputs[4].1.trim()).unwrap();
        assert_eq!(j["plan"]["env"], *env, "explain and run --dry-run agree");
        // The text of explain holds the same lines.
        assert!(outputs[3].1.contains("GITHUB_TOKEN\n"), "{}", outputs[3].1);
    }
}

#[test]
fn bad_env_input_is_refused_in_one_line_and_nothing_runs() {
    for user in users() {
        let ws = Ws::new(user);
        let profiles = [
            (
                "inherit.toml",
                "[env]\ninherit = \"some\"\n",
                "line 2, column 11: unknown variant `some`",
            ),
            (
                "key.toml",
                "[env]\nexclud = [\"X\"]\n",
                "line 2, column 1: unknown field `exclud`",
            ),
            (
                "name.toml",
                "[env]\nset = { \"A=B\" = \"marker-set-4e77\" }\n",
                "env.set: variable name `A=B` contains `=`",
            ),
            (
                "cordon.toml",
                "[env]\nset = { CORDON_SANDBOX = \"marker-set-4e77\" }\n",
                "`CORDON_SANDBOX` is set by cordon itself",
            ),
            (
                "empty.toml",
                "[env]\nexclude = [\"*KEY*\", \"\"]\n",
                "env.exclude: an empty pattern",
            ),
        ];
        let mut cases: Vec<(Vec<String>, &str)> = vec![
            (
                vec!["--setenv".into(), "CORDON_SANDBOX=marker-set-4e77".into()],
                "--setenv: `CORDON_SANDBOX` is set by cordon itself",
            ),
            (
                vec!["--setenv".into(), "=marker-set-4e77".into()],
                "--setenv: an empty variable name",
            ),
            (
                vec!["--setenv".into(), "NO_EQUALS".into()],
                "--setenv NO_EQUALS: give NAME=VALUE",
            ),
            (
                vec!["--unsetenv".into(), "".into()],
                "--unsetenv: an empty pattern",
            ),
            (
                vec!["--keepenv".into(), "".into()],
                "--keepenv: an empty pattern",
            ),
            (
                vec!["--env-inherit".into(), "some".into()],
                "--env-inherit some: use all, core or none",
            ),
            // Adversarial pass 4: a newline in a name forged a
            // `CORDON_SANDBOX=none` line in `env` output.
            (
                vec![
                    "--setenv".into(),
                    "E\nCORDON_SANDBOX=marker-set-4e77".into(),
                ],
                "contains a control character",
            ),
            // What follows `=` in a pattern may be a value: not echoed.
            (
                vec!["--keepenv".into(), "GITHUB_TOKEN=marker-set-4e77".into()],
                "--keepenv: pattern `GITHUB_TOKEN=...` contains `=`",
            ),
        ];
        for (file, text, needle) in profiles {
            let p = ws.write(&format!("work/{file}"), text);
            cases.push((vec!["-p".into(), p.to_str().unwrap().into()], needle));
        }
        for (flags, needle) in &cases {
            for sub in ["run", "explain"] {
                let mut args: Vec<&str> = vec![sub];
                args.extend(flags.iter().map(String::as_str));
                if sub == "run" {
                    args.extend(["--", "sh", "-c", "touch ran"]);
                }
                let out = cordon_env(&ws, &[], &args);
                out.assert_refused(needle);
                assert_no_marker(&out.stderr, &format!("{args:?}"));
                assert!(out.stdout.is_empty(), "{out:?}");
                assert!(!ws.join("work/ran").exists(), "{args:?} ran the command");
            }
        }
    }
}

/// The variables the policy drops must not be reachable some other way:
/// cordon's own processes that live on beside the command (the sentinel
/// outside the sandbox, the reaper inside it) still hold the caller's
/// environment, and so does the caller. The command scans every
/// /proc/PID/environ it can read for the marker.
#[test]
fn the_command_cannot_read_dropped_variables_from_any_process() {
    let scan = "for f in /proc/[0-9]*/environ; do \
                if tr '\\0' '\\n' < $f 2>/dev/null | grep -q marker-gh-93ad; then echo \"found in $f\"; fi; \
                done; echo scanned";
    for user in users() {
        let ws = Ws::new(user);
        // Control: the caller's shell (the command's parent) holds it.
        let outer = format!("sh -c '{}'", scan.replace('\'', "'\\''"));
        let out = run_as(
            ws.user,
            &ws.work(),
            &caller_env(&ws, &[]),
            &["sh", "-c", &outer],
        );
        assert!(out.stdout.contains("found in"), "control: {out:?}");
        // Under cordon (the command's parent is the same caller shell).
        let cordon = cordon_bin().to_str().unwrap();
        let outer = format!("{cordon} run -- sh -c '{}'", scan.replace('\'', "'\\''"));
        let out = run_as(
            ws.user,
            &ws.work(),
            &caller_env(&ws, &[]),
            &["sh", "-c", &outer],
        );
        assert!(out.stdout.ends_with("scanned\n"), "{user:?}: {out:?}");
        assert!(!out.stdout.contains("found in"), "{user:?}: {}", out.stdout);
    }
}

/// `cordon rerun --request`: the turn's environment policy, for every
/// execution; `exact` brings its own only when it names one.
#[test]
fn reruns_keep_the_turns_environment_policy() {
    for user in users() {
        let ws = Ws::new(user);
        let turn = json!({"sandbox_policy": {"type": "workspace-write"}});
        let own = json!({"sandbox_policy": {"file_system": {"write": [":cwd"]}, "env": {"keep": ["GITHUB_TOKEN"]}}});
        let cases = [
            (&turn, json!("turn_default"), false),
            (&turn, json!("unsandboxed"), false),
            (
                &turn,
                json!({"permissions": {"exact": {"type": "read-only"}}}),
                false,
            ),
            (
                &turn,
                json!({"permissions": {"exact": {"env": {"keep": ["GITHUB_*"]}}}}),
                true,
            ),
            (
                &turn,
                json!({"permissions": {"additional": {"env": {"keep": ["GITHUB_TOKEN"]}}}}),
                true,
            ),
            (&own, json!("turn_default"), true),
            (&own, json!("unsandboxed"), true),
            (
                &own,
                json!({"permissions": {"exact": {"type": "read-only"}}}),
                true,
            ),
            (&own, json!({"permissions": {"exact": {"env": {}}}}), false),
        ];
        for (turn, execution, token) in cases {
            let req = json!({
                "command": ["/usr/bin/env", "-0"],
                "cwd": ws.s("work"),
                "turn": turn,
                "execution": execution,
            });
            let file = ws.write("work/req.json", &req.to_string());
            let out = cordon_env(&ws, &[], &["rerun", "--request", file.to_str().unwrap()]);
            let env = parse_env(&out);
            assert_eq!(
                env.contains_key("GITHUB_TOKEN"),
                token,
                "{user:?} {req}: {env:?}"
            );
            assert!(!env.contains_key("AWS_SECRET_ACCESS_KEY"), "{req}");
            let out = cordon_env(
                &ws,
                &[],
                &["rerun", "--dry-run", "--request", file.to_str().unwrap()],
            );
            assert_eq!(out.status, 0, "{out:?}");
            assert_no_marker(&out.stdout, "rerun --dry-run");
            assert!(out.stdout.contains("GITHUB_TOKEN"), "{}", out.stdout);
        }
    }
}

/// Adversarial pass 4: `additional` with `env.inherit = all` under a turn
/// of `inherit = none` passed every variable the turn dropped. An approval
/// widens the sandbox, not the variables: refused (125), nothing runs;
/// `keep` names what it needs.
#[test]
fn an_approval_cannot_widen_the_turns_inherit() {
    for user in users() {
        let ws = Ws::new(user);
        let turn = json!({"sandbox_policy": {"file_system": {"read": [":root"], "write": [":cwd"]}, "env": {"inherit": "none"}}});
        for (extra, refused) in [
            (json!({"env": {"inherit": "all"}}), true),
            (json!({"env": {"inherit": "core"}}), true),
            (
                json!({"env": {"inherit": "none", "keep": ["GITHUB_TOKEN"]}}),
                false,
            ),
        ] {
            let req = json!({
                "command": ["sh", "-c", "env > ran"],
                "cwd": ws.s("work"),
                "turn": turn,
                "execution": {"permissions": {"additional": extra}},
            });
            let file = ws.write("outside/req.json", &req.to_string());
            let out = cordon_env(&ws, &[], &["rerun", "--request", file.to_str().unwrap()]);
            if refused {
                out.assert_refused("an approval widens the sandbox, not the variables");
                assert!(!ws.join("work/ran").exists(), "{user:?} {req}");
            } else {
                assert_eq!(out.status, 0, "{out:?}");
                let ran = ws.read("work/ran");
                assert!(ran.contains("GITHUB_TOKEN="), "{ran}");
                assert!(!ran.contains("AWS_SECRET_ACCESS_KEY"), "{ran}");
                std::fs::remove_file(ws.join("work/ran")).unwrap();
            }
        }
    }
}

/// `explain --json`'s account of the environment is what the command
/// gets: every caller variable it lists as removed is absent, every other
/// one arrives with its value, and the set names arrive (claims.rs's rule
/// for the other profile keys).
#[test]
fn explains_account_of_the_environment_matches_the_command() {
    for user in users() {
        let ws = Ws::new(user);
        let extra = [("CORDON_SANDBOX", "fake"), ("OLDPWD", "/")];
        let caller: BTreeMap<String, String> = caller_env(&ws, &extra).into_iter().collect();
        for flags in [
            &[][..],
            &["--env-inherit", "core"],
            &[
                "--env-inherit",
                "none",
                "--keepenv",
                "PATH",
                "--keepenv",
                "*_token",
            ],
            &[
                "--unsetenv",
                "LC_*",
                "--keepenv",
                "MY_API_KEY",
                "--setenv",
                "EDITOR=x",
            ],
            &["-p", "full-access", "--setenv", "NEW=1"],
        ] {
            let mut args = vec!["explain", "--json"];
            args.extend_from_slice(flags);
            let out = cordon_env(&ws, &extra, &args);
            assert_eq!(out.status, 0, "{out:?}");
            let j: Value = serde_json::from_str(out.stdout.trim()).unwrap();
            let removed: Vec<&str> = j["plan"]["env"]["removed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap())
                .collect();
            let set: Vec<&str> = j["plan"]["env"]["set"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap())
                .collect();
            let got = child_env(&ws, &extra, flags);
            for (k, v) in &caller {
                let ctx = format!("{user:?} {flags:?} {k}");
                if k.starts_with("CORDON_SANDBOX") {
                    assert!(removed.contains(&k.as_str()), "{ctx}");
                } else if set.contains(&k.as_str()) {
                    assert!(got.contains_key(k), "{ctx}");
                } else if removed.contains(&k.as_str()) {
                    assert!(!got.contains_key(k), "{ctx}: explain says removed");
                } else {
                    assert_eq!(got.get(k), Some(v), "{ctx}: explain says it passes");
                }
            }
            for s in &set {
                assert!(got.contains_key(*s), "{flags:?}: set {s}");
            }
        }
    }
}
