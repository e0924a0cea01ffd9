//! `cordon rerun --request` (issue 5, contract §3): an approved command gets
//! exactly the sandbox its request asks for, resolved at rerun time; a
//! `permissions` execution runs bounded or not at all. Every denial stands
//! beside a control that succeeds, as root and as an unprivileged user.

mod support;

use serde_json::{Value, json};
use support::*;

/// A request running the probe with `op`, in the workspace.
fn request(ws: &Ws, turn: Value, execution: Value, op: &[&str]) -> Value {
    let mut command = vec![probe_bin().to_str().unwrap()];
    command.extend_from_slice(op);
    json!({
        "command": command,
        "cwd": ws.s("work"),
        "turn": turn,
        "execution": execution,
    })
}

fn workspace_write() -> Value {
    json!({"sandbox_policy": {"type": "workspace-write"}})
}

/// Writes `req` next to the workspace (outside every writable root) and
/// returns its path.
fn save(ws: &Ws, name: &str, req: &Value) -> String {
    ws.write(name, &req.to_string());
    ws.s(name)
}

/// `cordon rerun FLAGS... --request FILE` with the workspace's environment,
/// `TMPDIR` replaced by `tmpdir` when given.
fn rerun_env(ws: &Ws, file: &str, flags: &[&str], tmpdir: Option<&str>) -> Outcome {
    let mut env = ws.env();
    if let Some(t) = tmpdir {
        env.retain(|(k, _)| k != "TMPDIR");
        env.push(("TMPDIR".into(), t.into()));
    }
    let mut argv = vec![cordon_bin().to_str().unwrap(), "rerun"];
    argv.extend_from_slice(flags);
    argv.extend(["--request", file]);
    run_as(ws.user, &ws.work(), &env, &argv)
}

fn rerun(ws: &Ws, req: &Value, flags: &[&str]) -> Outcome {
    let file = save(ws, "request.json", req);
    rerun_env(ws, &file, flags, None)
}

#[test]
fn turn_default_resolves_tmpdir_at_rerun_time() {
    for user in users() {
        let ws = Ws::new(user);
        let (a, b) = (ws.mkdir("tmp-a"), ws.mkdir("tmp-b"));
        let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
        let (in_a, in_b) = (format!("{a}/f"), format!("{b}/f"));
        control(&ws, &["write", &in_a]).assert_ok();
        std::fs::remove_file(&in_a).unwrap();
        let turn =
            json!({"sandbox_policy": {"type": "workspace-write", "exclude_slash_tmp": true}});
        // One request written once; only the rerun's TMPDIR changes.
        let to_a = save(
            &ws,
            "to-a.json",
            &request(&ws, turn.clone(), json!("turn_default"), &["write", &in_a]),
        );
        let to_b = save(
            &ws,
            "to-b.json",
            &request(&ws, turn, json!("turn_default"), &["write", &in_b]),
        );
        rerun_env(&ws, &to_a, &[], Some(a)).assert_ok();
        std::fs::remove_file(&in_a).unwrap();
        rerun_env(&ws, &to_b, &[], Some(b)).assert_ok();
        rerun_env(&ws, &to_a, &[], Some(b)).assert_errno(denied_write(user));
        assert!(!ws.join("tmp-a/f").exists(), "{user:?}");
    }
}

#[test]
fn additional_grants_exactly_its_paths_and_keeps_the_network_off() {
    for user in users() {
        let ws = Ws::new(user);
        let granted = ws.mkdir("outside/granted");
        let granted = granted.to_str().unwrap();
        let extra = json!({"permissions": {"additional": {"file_system": {"write": [granted]}}}});
        let in_granted = format!("{granted}/f");
        let elsewhere = ws.s("outside/f");
        control(&ws, &["write", &elsewhere]).assert_ok();
        std::fs::remove_file(&elsewhere).unwrap();
        // The turn alone cannot write the new path.
        rerun(
            &ws,
            &request(
                &ws,
                workspace_write(),
                json!("turn_default"),
                &["write", &in_granted],
            ),
            &[],
        )
        .assert_errno(denied_write(user));
        rerun(
            &ws,
            &request(
                &ws,
                workspace_write(),
                extra.clone(),
                &["write", &in_granted],
            ),
            &[],
        )
        .assert_ok();
        // The turn's own roots stay writable, everything else stays denied.
        rerun(
            &ws,
            &request(
                &ws,
                workspace_write(),
                extra.clone(),
                &["write", &ws.s("work/f")],
            ),
            &[],
        )
        .assert_ok();
        rerun(
            &ws,
            &request(
                &ws,
                workspace_write(),
                extra.clone(),
                &["write", &elsewhere],
            ),
            &[],
        )
        .assert_errno(denied_write(user));
        // The network stays off unless the grants turn it on.
        let inet = ["socket", "inet", "stream"];
        control(&ws, &inet).assert_ok();
        rerun(&ws, &request(&ws, workspace_write(), extra, &inet), &[]).assert_errno("EPERM");
        let with_net = json!({"permissions": {"additional": {
            "file_system": {"write": [granted]}, "network": {"enabled": true}}}});
        rerun(&ws, &request(&ws, workspace_write(), with_net, &inet), &[]).assert_ok();
    }
}

#[test]
fn exact_can_be_narrower_than_the_turn() {
    for user in users() {
        let ws = Ws::new(user);
        let target = ws.s("work/f");
        rerun(
            &ws,
            &request(
                &ws,
                workspace_write(),
                json!("turn_default"),
                &["write", &target],
            ),
            &[],
        )
        .assert_ok();
        std::fs::remove_file(&target).unwrap();
        for exact in [
            json!({}),
            json!({"file_system": {"read": [":root"]}}),
            json!({"type": "read-only"}),
        ] {
            let execution = json!({"permissions": {"exact": exact}});
            let out = rerun(
                &ws,
                &request(
                    &ws,
                    workspace_write(),
                    execution.clone(),
                    &["write", &target],
                ),
                &[],
            );
            out.assert_errno(denied_write(user));
            assert!(!ws.join("work/f").exists(), "{user:?} {exact}");
            let out = rerun(
                &ws,
                &request(
                    &ws,
                    workspace_write(),
                    execution,
                    &["env", "CORDON_SANDBOX"],
                ),
                &[],
            );
            assert_eq!(out.json()["value"], "landlock", "{out:?}");
        }
        // Exact may also be wider: a granted path outside the turn's roots.
        let grant = ws.mkdir("outside/g");
        let exact = json!({"permissions": {"exact": {"file_system": {"write": [grant]}}}});
        rerun(
            &ws,
            &request(
                &ws,
                workspace_write(),
                exact.clone(),
                &["write", &ws.s("outside/g/f")],
            ),
            &[],
        )
        .assert_ok();
        rerun(
            &ws,
            &request(&ws, workspace_write(), exact, &["write", &target]),
            &[],
        )
        .assert_errno(denied_write(user));
    }
}

#[test]
fn unsandboxed_runs_without_a_sandbox_unless_the_turn_restricts_reads() {
    for user in users() {
        let ws = Ws::new(user);
        let outside = ws.s("outside/f");
        let out = rerun(
            &ws,
            &request(
                &ws,
                workspace_write(),
                json!("unsandboxed"),
                &["env", "CORDON_SANDBOX"],
            ),
            &[],
        );
        assert_eq!(out.status, 0, "{out:?}");
        assert_eq!(out.json()["value"], "none", "{out:?}");
        rerun(
            &ws,
            &request(
                &ws,
                workspace_write(),
                json!("unsandboxed"),
                &["write", &outside],
            ),
            &[],
        )
        .assert_ok();
        std::fs::remove_file(&outside).unwrap();
        // A turn that reads only part of the filesystem: bypassing it would
        // silently grant the rest.
        let bins = probe_bin().parent().unwrap().to_str().unwrap();
        let restricted = json!({"sandbox_policy": {"file_system": {
            "read": [":minimal", bins, ws.s("work")], "write": [":cwd"]}}});
        let out = rerun(
            &ws,
            &request(
                &ws,
                restricted.clone(),
                json!("unsandboxed"),
                &["create", &outside],
            ),
            &[],
        );
        out.assert_refused("read restriction");
        assert!(!ws.join("outside/f").exists(), "{user:?}: it ran");
        // The same turn under turn_default runs, restricted.
        ws.write("outside/secret", "s");
        rerun(
            &ws,
            &request(
                &ws,
                restricted,
                json!("turn_default"),
                &["read", &ws.s("outside/secret")],
            ),
            &[],
        )
        .assert_errno("EACCES");
    }
}

#[test]
fn the_command_runs_in_the_request_cwd_and_its_status_passes_through() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("work/sub");
        let mut req = request(
            &ws,
            workspace_write(),
            json!("turn_default"),
            &["write", "rel"],
        );
        req["cwd"] = json!(ws.s("work/sub"));
        rerun(&ws, &req, &[]).assert_ok();
        assert!(ws.join("work/sub/rel").exists(), "{user:?}");
        let req = json!({"command": ["sh", "-c", "exit 7"], "cwd": ws.s("work")});
        assert_eq!(rerun(&ws, &req, &[]).status, 7);
        let req = json!({"command": ["no-such-command-xyz"], "cwd": ws.s("work")});
        assert_eq!(rerun(&ws, &req, &[]).status, 127);
    }
}

#[test]
fn malformed_requests_are_refused_with_one_line_and_nothing_runs() {
    for user in users() {
        let ws = Ws::new(user);
        let marker = ws.s("work/marker");
        let good = request(
            &ws,
            workspace_write(),
            json!("turn_default"),
            &["create", &marker],
        );
        let with = |key: &str, value: Value| {
            let mut r = good.clone();
            r[key] = value;
            r.to_string()
        };
        let without = |key: &str| {
            let mut r = good.clone();
            r.as_object_mut().unwrap().remove(key);
            r.to_string()
        };
        let cases: Vec<(String, &str)> = vec![
            (without("command"), "missing field `command`"),
            (without("cwd"), "missing field `cwd`"),
            (with("command", json!([])), "command: is empty"),
            (
                with("cwd", json!("work")),
                "cwd: `work` is not an absolute path",
            ),
            (
                with("execution", json!("sandboxed")),
                "unknown variant `sandboxed`",
            ),
            (
                with("execution", json!({"permissions": {"widen": {}}})),
                "unknown variant `widen`",
            ),
            (
                with("approved_by", json!("alice")),
                "unknown field `approved_by`",
            ),
            (
                with(
                    "turn",
                    json!({"sandbox_policy": {"type": "workspace-write", "net": true}}),
                ),
                "unknown field `net`",
            ),
            (
                with(
                    "execution",
                    json!({"permissions": {"additional": {"file_system": {"writes": []}}}}),
                ),
                "unknown field `writes`",
            ),
            (good.to_string().replace('}', ""), "not valid JSON"),
            ("".into(), "not valid JSON"),
        ];
        for (text, needle) in cases {
            ws.write("bad.json", &text);
            let out = rerun_env(&ws, &ws.s("bad.json"), &[], None);
            out.assert_refused(needle);
            assert!(out.stderr.contains("bad.json"), "{out:?}");
            assert!(
                !ws.join("work/marker").exists(),
                "{user:?}: ran despite {text}"
            );
        }
        rerun_env(&ws, &ws.s("missing.json"), &[], None).assert_refused("missing.json");
        // The good request does run.
        rerun(&ws, &good, &[]).assert_ok();
        assert!(ws.join("work/marker").exists());
    }
}

/// `cordon-probe deny-syscall landlock_create_ruleset=ENOSYS -- cordon rerun
/// FLAGS... --request FILE`: a host without Landlock.
fn rerun_without_landlock(ws: &Ws, req: &Value, flags: &[&str]) -> Outcome {
    let file = save(ws, "request.json", req);
    let mut argv = vec![
        probe_bin().to_str().unwrap(),
        "deny-syscall",
        "landlock_create_ruleset=ENOSYS",
        "--",
        cordon_bin().to_str().unwrap(),
        "rerun",
    ];
    argv.extend_from_slice(flags);
    argv.extend(["--request", &file]);
    run_as(ws.user, &ws.work(), &ws.env(), &argv)
}

#[test]
fn permissions_run_bounded_or_not_at_all() {
    for user in users() {
        let ws = Ws::new(user);
        let marker = ws.s("work/marker");
        let additional =
            json!({"permissions": {"additional": {"file_system": {"write": [ws.s("outside")]}}}});
        let exact = json!({"permissions": {"exact": {"type": "read-only"}}});
        for execution in [&additional, &exact] {
            let req = request(
                &ws,
                workspace_write(),
                execution.clone(),
                &["create", &marker],
            );
            // No Landlock: refused, with or without --best-effort.
            rerun_without_landlock(&ws, &req, &[]).assert_refused("Landlock is unavailable");
            rerun_without_landlock(&ws, &req, &["--best-effort"]).assert_refused("--best-effort");
            rerun_without_landlock(&ws, &req, &["--dry-run"]).assert_refused("bounded");
            // An older ABI leaves gaps: refused too.
            rerun(&ws, &req, &["--landlock-abi", "5"]).assert_refused("signals");
            assert!(
                !ws.join("work/marker").exists(),
                "{user:?}: ran {execution}"
            );
        }
        // turn_default is the turn's own sandbox: --best-effort applies as in
        // `cordon run`.
        let req = request(
            &ws,
            workspace_write(),
            json!("turn_default"),
            &["create", &marker],
        );
        rerun_without_landlock(&ws, &req, &[]).assert_refused("--best-effort");
        assert!(!ws.join("work/marker").exists());
        let req = request(
            &ws,
            workspace_write(),
            json!("turn_default"),
            &["env", "CORDON_SANDBOX"],
        );
        let out = rerun_without_landlock(&ws, &req, &["--best-effort"]);
        assert!(
            out.stderr
                .contains("cordon: warning: not enforced: landlock"),
            "{out:?}"
        );
        assert_eq!(out.json()["value"], "none", "{out:?}");
        // A permissions execution that amounts to no sandbox is refused.
        let none = json!({"permissions": {"exact": {"type": "danger-full-access"}}});
        rerun(
            &ws,
            &request(&ws, workspace_write(), none, &["create", &marker]),
            &[],
        )
        .assert_refused("bounded");
        assert!(!ws.join("work/marker").exists());
        // Writing everywhere with the network on still keeps the protected
        // paths: a sandbox, not none (issue 11 item 11).
        let wide = json!({"permissions": {"additional": {
            "file_system": {"write": [":root"]}, "network": {"enabled": true}}}});
        let out = rerun(
            &ws,
            &request(&ws, workspace_write(), wide, &["env", "CORDON_SANDBOX"]),
            &[],
        );
        assert_eq!(out.json()["value"], "landlock", "{out:?}");
    }
}

#[test]
fn dry_run_is_deterministic_and_runs_nothing() {
    let ws = Ws::new(User::Root);
    let marker = ws.s("work/marker");
    let req = request(
        &ws,
        json!({"sandbox_policy": {"type": "workspace-write"}, "macos": {"preferences": "read-write"}}),
        json!({"permissions": {"additional": {"file_system": {"write": [ws.s("outside")]}}}}),
        &["create", &marker],
    );
    let first = rerun(&ws, &req, &["--dry-run"]);
    assert_eq!(first.status, 0, "{first:?}");
    assert!(!ws.join("work/marker").exists());
    for needle in [
        "policy: request permissions.additional (turn: workspace-write)",
        &format!(
            "write {}  (from execution.permissions.additional",
            ws.s("outside")
        ),
        "macos: preferences=read-write",
        "network: off",
        "landlock:",
    ] {
        assert!(
            first.stdout.contains(needle),
            "missing {needle}: {}",
            first.stdout
        );
    }
    // Replayed from another file, and from stdin: the same text.
    let other = save(&ws, "replay.json", &req);
    let again = rerun_env(&ws, &other, &["--dry-run"], None);
    assert_eq!(first.stdout, again.stdout);
    let c = cordon_bin().to_str().unwrap();
    let piped = run_as(
        ws.user,
        &ws.work(),
        &ws.env(),
        &[
            "sh",
            "-c",
            "exec \"$0\" rerun --dry-run --request - < \"$1\"",
            c,
            &other,
        ],
    );
    assert_eq!(piped.status, 0, "{piped:?}");
    assert_eq!(first.stdout, piped.stdout);
    assert!(!ws.join("work/marker").exists());
}

#[test]
fn request_from_stdin_runs() {
    for user in users() {
        let ws = Ws::new(user);
        let file = save(
            &ws,
            "request.json",
            &request(
                &ws,
                workspace_write(),
                json!("turn_default"),
                &["write", &ws.s("work/f")],
            ),
        );
        let c = cordon_bin().to_str().unwrap();
        run_as(
            user,
            &ws.work(),
            &ws.env(),
            &[
                "sh",
                "-c",
                "exec \"$0\" rerun --request - < \"$1\"",
                c,
                &file,
            ],
        )
        .assert_ok();
        assert!(ws.join("work/f").exists());
    }
}

/// The turn's macOS extensions survive into the SBPL of `turn_default` and
/// `additional` (unioned with P's), as `cordon seatbelt --request` shows.
#[test]
fn macos_extensions_of_the_turn_survive_into_the_seatbelt_profile() {
    let ws = Ws::new(User::Root);
    let turn = json!({
        "sandbox_policy": {"type": "workspace-write"},
        "macos": {"preferences": "read-write", "calendar": true}
    });
    let calendar = "com.apple.CalendarAgent";
    let prefs_write = "user-preference-write";
    let accessibility = "com.apple.axserver";
    let seatbelt = |req: &Value| {
        let file = save(&ws, "request.json", req);
        let out = cordon(&ws, &["seatbelt", "--json", "--request", &file]);
        assert_eq!(out.status, 0, "{out:?}");
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["argv"][0], "/usr/bin/sandbox-exec");
        assert!(
            v["argv"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == probe_bin().to_str().unwrap())
        );
        v["profile"].as_str().unwrap().to_string()
    };
    let sbpl = seatbelt(&request(
        &ws,
        turn.clone(),
        json!("turn_default"),
        &["getuid"],
    ));
    assert!(
        sbpl.contains(calendar) && sbpl.contains(prefs_write),
        "{sbpl}"
    );
    assert!(!sbpl.contains(accessibility), "{sbpl}");

    let additional = json!({"permissions": {"additional": {"macos": {"accessibility": true}}}});
    let sbpl = seatbelt(&request(&ws, turn.clone(), additional, &["getuid"]));
    assert!(
        sbpl.contains(calendar) && sbpl.contains(prefs_write),
        "{sbpl}"
    );
    assert!(
        sbpl.contains(accessibility),
        "P's extension is unioned in: {sbpl}"
    );

    // A plain turn carries none of them: the clauses above come from the turn.
    let sbpl = seatbelt(&request(
        &ws,
        workspace_write(),
        json!("turn_default"),
        &["getuid"],
    ));
    assert!(
        !sbpl.contains(calendar) && !sbpl.contains(prefs_write),
        "{sbpl}"
    );
}

/// `explain --json --request` shows the plan a request gets, byte for byte
/// the same when the same request is replayed (from another file or stdin),
/// so a cached approval provably reuses the same bounded sandbox.
#[test]
fn explain_request_json_is_byte_identical_when_replayed() {
    let ws = Ws::new(User::Root);
    let req = request(
        &ws,
        workspace_write(),
        json!({"permissions": {"additional": {"file_system": {"write": [ws.s("outside")]}}}}),
        &["getuid"],
    );
    let a = save(&ws, "a.json", &req);
    let b = save(&ws, "b.json", &req);
    let first = cordon(&ws, &["explain", "--json", "--request", &a]);
    assert_eq!(first.status, 0, "{first:?}");
    let again = cordon(&ws, &["explain", "--json", "--request", &b]);
    assert_eq!(first.stdout, again.stdout);
    let piped = run_as(
        User::Root,
        &ws.work(),
        &ws.env(),
        &[
            "sh",
            "-c",
            &format!(
                "{} explain --json --request - < {a}",
                cordon_bin().display()
            ),
        ],
    );
    assert_eq!(first.stdout, piped.stdout, "{piped:?}");
    // And it is the plan rerun would run: the granted root is writable.
    let v: Value = serde_json::from_str(&first.stdout).unwrap();
    let roots: Vec<&str> = v["plan"]["writable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["path"].as_str().unwrap())
        .collect();
    assert!(roots.contains(&ws.s("outside").as_str()), "{roots:?}");
}

/// The probe with `op`, Codex-shaped: `workdir` (chosen by the model) and
/// `sandbox_permissions: "use_default"`, which needs no approval.
fn codex_call(workdir: &str, turn: Value, op: &[&str]) -> Value {
    let mut command = vec![probe_bin().to_str().unwrap()];
    command.extend_from_slice(op);
    json!({
        "command": command,
        "workdir": workdir,
        "sandbox_permissions": "use_default",
        "turn": turn,
    })
}

#[test]
fn a_workdir_of_slash_or_home_does_not_widen_the_turn() {
    for user in users() {
        let ws = Ws::new(user);
        let outside = ws.s("outside/f");
        control(&ws, &["write", &outside]).assert_ok();
        std::fs::remove_file(&outside).unwrap();
        // Without turn.cwd the workdir is `:cwd`: `/`, $HOME and the
        // directories above it would hand the model what it chose.
        for dir in ["/".to_string(), ws.s("home"), ws.s(""), ws.s("home/..")] {
            for req in [
                codex_call(&dir, workspace_write(), &["write", &outside]),
                json!({"command": ["sh", "-c", "exit 0"], "cwd": dir, "turn": workspace_write()}),
            ] {
                let out = rerun(&ws, &req, &[]);
                out.assert_refused("turn.cwd");
                assert!(out.stderr.contains("writable `:cwd`"), "{out:?}");
            }
        }
        assert!(!ws.join("outside/f").exists(), "{user:?}");
        // A read-restricted turn's readable `:cwd` is bounded the same way.
        let reads = json!({"sandbox_policy": {"file_system": {"read": [":minimal", ":cwd"]}}});
        let out = rerun(
            &ws,
            &codex_call(&ws.s("home"), reads, &["read", &outside]),
            &[],
        );
        out.assert_refused("turn.cwd");
        assert!(out.stderr.contains("readable `:cwd`"), "{out:?}");
        // A turn that grants nothing from its cwd has nothing to widen.
        let ro = json!({"sandbox_policy": {"type": "read-only"}});
        rerun(&ws, &codex_call("/", ro, &["write", &outside]), &[])
            .assert_errno(denied_write(user));

        // With turn.cwd, `:cwd` is the turn's workspace and the command runs
        // in its workdir, anywhere: a write outside the workspace is denied.
        let mut turn = workspace_write();
        turn["cwd"] = json!(ws.s("work"));
        for dir in ["/".to_string(), ws.s("home"), ws.s("outside")] {
            let req = codex_call(&dir, turn.clone(), &["write", &outside]);
            rerun(&ws, &req, &[]).assert_errno(denied_write(user));
            // Its own directory is not writable either.
            let req = codex_call(&dir, turn.clone(), &["write", "rel"]);
            rerun(&ws, &req, &[]).assert_errno(denied_write(user));
            let req = codex_call(&dir, turn.clone(), &["write", &ws.s("work/f")]);
            rerun(&ws, &req, &[]).assert_ok();
            std::fs::remove_file(ws.join("work/f")).unwrap();
        }
        assert!(!ws.join("outside/f").exists() && !ws.join("outside/rel").exists());
        // The command runs in its workdir.
        let req = json!({"command": ["sh", "-c", "test \"$(pwd -P)\" = \"$0\"", ws.s("outside")],
            "workdir": ws.s("outside"), "turn": turn.clone()});
        let out = rerun(&ws, &req, &[]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        // No workdir: the command runs in turn.cwd, as Codex runs a call
        // without one.
        let req = json!({"command": [probe_bin().to_str().unwrap(), "write", "rel"], "turn": turn.clone()});
        rerun(&ws, &req, &[]).assert_ok();
        assert!(ws.join("work/rel").exists(), "{user:?}");
        // `:cwd` in a permissions grant is the turn's workspace too.
        let mut ro = json!({"sandbox_policy": {"type": "read-only"}, "cwd": ws.s("work")});
        let grant = json!({"permissions": {"additional": {"file_system": {"write": [":cwd"]}}}});
        for (path, ok) in [(ws.s("work/g"), true), (outside.clone(), false)] {
            let mut req = request(&ws, ro.clone(), grant.clone(), &["write", &path]);
            req["cwd"] = json!(ws.s("outside"));
            let out = rerun(&ws, &req, &[]);
            if ok {
                out.assert_ok();
            } else {
                out.assert_errno(denied_write(user));
            }
        }
        // turn.cwd must be absolute and exist.
        ro["cwd"] = json!("work");
        let req = codex_call(&ws.s("work"), ro.clone(), &["write", &outside]);
        rerun(&ws, &req, &[]).assert_refused("turn.cwd: `work` is not an absolute path");
        ro["cwd"] = json!(ws.s("nope"));
        let req = codex_call(&ws.s("work"), ro, &["write", &outside]);
        rerun(&ws, &req, &[]).assert_refused("turn.cwd");
        assert!(!ws.join("outside/f").exists(), "{user:?}");
        // The same request replayed gives the same sandbox.
        let req = codex_call("/", turn, &["write", &outside]);
        let a = rerun(&ws, &req, &["--dry-run"]);
        let b = rerun(&ws, &req, &["--dry-run"]);
        assert_eq!(a.status, 0, "{a:?}");
        assert_eq!(a.stdout, b.stdout);
        assert!(
            a.stdout.contains(&format!("cwd: {}\n", ws.s("work"))),
            "{a:?}"
        );
        assert!(a.stdout.contains("runs in: / (workdir;"), "{a:?}");
    }
}

#[test]
fn a_workdir_through_a_symlink_is_refused_as_the_turns_cwd() {
    for user in users() {
        let ws = Ws::new(user);
        // As an earlier sandboxed run in the workspace could have planted it.
        std::os::unix::fs::symlink(ws.join("outside"), ws.join("work/link")).unwrap();
        let outside = ws.s("outside/f");
        control(&ws, &["write", &outside]).assert_ok();
        std::fs::remove_file(&outside).unwrap();
        for dir in [ws.s("work/link"), ws.s("work/link/.")] {
            let out = rerun(
                &ws,
                &codex_call(&dir, workspace_write(), &["write", &outside]),
                &[],
            );
            out.assert_refused("passes through a symlink");
            assert!(out.stderr.contains("turn.cwd"), "{out:?}");
        }
        assert!(!ws.join("outside/f").exists(), "{user:?}");
        // `.` and `..` alone are no symlink.
        let dotted = format!("{}/../work/.", ws.s("work"));
        rerun(
            &ws,
            &codex_call(&dotted, workspace_write(), &["write", "f"]),
            &[],
        )
        .assert_ok();
        assert!(ws.join("work/f").exists(), "{user:?}");
        // A link directly in `/` (a merged /usr's /bin, macOS's /tmp) could
        // only be planted by a command that may write `/`: it is followed.
        let top = std::fs::read_dir("/")
            .unwrap()
            .flatten()
            .find(|e| e.file_type().unwrap().is_symlink() && e.path().is_dir());
        if let Some(top) = top {
            let dir = top.path().to_str().unwrap().to_string();
            let out = rerun(
                &ws,
                &codex_call(&dir, workspace_write(), &["write", "f"]),
                &["--dry-run"],
            );
            assert_eq!(out.status, 0, "{user:?} {dir}: {out:?}");
            let real = std::fs::canonicalize(&dir).unwrap();
            assert!(
                out.stdout.contains(&format!("cwd: {}\n", real.display())),
                "{out:?}"
            );
        }
        // With turn.cwd the link is only where the command starts.
        let mut turn = workspace_write();
        turn["cwd"] = json!(ws.s("work"));
        let req = codex_call(&ws.s("work/link"), turn.clone(), &["write", &outside]);
        rerun(&ws, &req, &[]).assert_errno(denied_write(user));
        let req = codex_call(&ws.s("work/link"), turn, &["write", "g"]);
        rerun(&ws, &req, &[]).assert_errno(denied_write(user));
        assert!(!ws.join("outside/f").exists() && !ws.join("outside/g").exists());
    }
}
