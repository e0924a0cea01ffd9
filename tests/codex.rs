//! Codex's JSON, unchanged (issue 17): every fixture in
//! `tests/fixtures/codex/` is a shape as Codex serializes it, and its plan is
//! a golden in `tests/golden/codex/`. A future Codex shape is one fixture
//! (and one `CORDON_BLESS=1` run, read before committing) away. The
//! enforcement tests below run the shapes whose meaning is cordon's choice
//! (external-sandbox, restricted reads, `access: "none"`, the tool-call
//! fields) as root and as nobody, a control run beside each.

mod support;

use std::path::{Path, PathBuf};

use serde_json::json;
use support::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codex")
}

fn fixture(name: &str) -> String {
    fixtures()
        .join(format!("{name}.json"))
        .to_str()
        .unwrap()
        .to_string()
}

/// The plan part of `explain` (what the policy resolved to), without the
/// host's enforcement report, which depends on the kernel.
fn plan_text(ws: &Ws, stdout: &str) -> String {
    let text = golden_text(ws, stdout).replace(fixtures().to_str().unwrap(), "$FIXTURES");
    text.lines()
        .take_while(|l| !l.starts_with("enforcement on"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// How a fixture is given to cordon: by its name's prefix.
fn args_for(name: &str, file: &str) -> Vec<String> {
    let how = if name.starts_with("request-") {
        "--request"
    } else if name.starts_with("permissions-") {
        // A PermissionProfile is grants: on top of the default turn.
        "--permissions"
    } else {
        "-p"
    };
    vec!["explain".into(), how.into(), file.into()]
}

/// `CORDON_BLESS=1` rewrites the goldens.
#[test]
fn every_fixture_parses_and_its_plan_matches_the_golden() {
    if !is_root() {
        eprintln!("note: not root, so the codex goldens (recorded as root) are not compared");
        return;
    }
    let ws = Ws::new(User::Root);
    // permissions-entries grants project_roots' `build`.
    ws.mkdir("work/build");
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().to_string())
        .filter_map(|n| n.strip_suffix(".json").map(String::from))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "{names:?}");
    let mut goldens = Goldens::default();
    for name in &names {
        let file = fixture(name);
        // Each fixture is one JSON document, exactly as serialized.
        let text = std::fs::read_to_string(&file).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
        let args = args_for(name, &file);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Without the host's system git config, which a fixture writing
        // `/` protects when the host has one (and holds when not).
        let mut env = ws.env();
        env.push(("GIT_CONFIG_NOSYSTEM".into(), "1".into()));
        let mut argv = vec![cordon_bin().to_str().unwrap()];
        argv.extend_from_slice(&args);
        let out = run_as(ws.user, &ws.work(), &env, &argv);
        assert_eq!(out.status, 0, "{name}: {out:?}");
        let mut golden = plan_text(&ws, &out.stdout);
        if !out.stderr.is_empty() {
            golden.push_str(&format!(
                "--- stderr ---\n{}",
                out.stderr
                    .replace(fixtures().to_str().unwrap(), "$FIXTURES")
            ));
        }
        goldens.check(&format!("codex/{name}.txt"), &golden);
    }
    // The macOS extensions as Seatbelt gets them.
    for name in ["permissions-macos", "permissions-macos-older"] {
        let out = cordon(&ws, &["seatbelt", "--permissions", &fixture(name)]);
        assert_eq!(out.status, 0, "{name}: {out:?}");
        let section: String = out
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with(";; ===== macOS extensions"))
            .take_while(|l| !l.starts_with(";; ===== Final denies"))
            .map(|l| format!("{l}\n"))
            .collect();
        goldens.check(&format!("codex/{name}.sb"), &section);
    }
    goldens.assert_all();
}

/// `external-sandbox` never means "no sandbox": cordon cannot see the
/// caller's sandbox, so it applies the read-only base, the network as asked.
#[test]
fn external_sandbox_is_the_read_only_base() {
    for user in users() {
        let ws = Ws::new(user);
        let target = ws.s("work/f");
        control(&ws, &["write", &target]).assert_ok();
        std::fs::remove_file(&target).unwrap();
        for name in [
            "sandbox-external-sandbox",
            "sandbox-external-sandbox-enabled",
            "profile-external",
        ] {
            let out = sandboxed(&ws, &["-p", &fixture(name)], &["write", &target]);
            out.assert_errno(denied_write(user));
            assert!(!Path::new(&target).exists(), "{name}: written");
        }
        // The network is as asked: off for restricted, on for enabled.
        let udp = ["connect-udp", "127.0.0.1", "9"];
        control(&ws, &udp).assert_ok();
        let p = fixture("sandbox-external-sandbox");
        sandboxed(&ws, &["-p", &p], &udp).assert_errno("EPERM");
        let p = fixture("sandbox-external-sandbox-enabled");
        sandboxed(&ws, &["-p", &p], &udp).assert_ok();
    }
}

/// `readable_roots`: reads only there, the cwd and the platform's
/// runtime; a missing root is skipped with one warning.
#[test]
fn restricted_reads_follow_readable_roots() {
    for user in users() {
        let ws = Ws::new(user);
        ws.write("outside/data/f", "DATA\n");
        ws.write("home/private", "PRIVATE\n");
        ws.write("work/mine", "MINE\n");
        let gone = ws.s("outside/gone");
        // The probe itself must be readable to run.
        let probe_dir = probe_bin().parent().unwrap().to_str().unwrap();
        let policy = json!({"type": "read-only", "access": {"type": "restricted", "readable_roots": [ws.s("outside/data"), probe_dir, gone]}}).to_string();
        for f in ["outside/data/f", "home/private", "work/mine"] {
            control(&ws, &["read", &ws.s(f)]).assert_ok();
        }
        let out = sandboxed(
            &ws,
            &["--policy-json", &policy],
            &["read", &ws.s("outside/data/f")],
        );
        out.assert_ok();
        assert_eq!(
            out.stderr,
            format!(
                "cordon: warning: --policy-json: access.readable_roots: {gone} does not exist; skipped, as Codex skips it\n"
            )
        );
        sandboxed(
            &ws,
            &["--policy-json", &policy],
            &["read", &ws.s("work/mine")],
        )
        .assert_ok();
        sandboxed(
            &ws,
            &["--policy-json", &policy],
            &["read", &ws.s("home/private")],
        )
        .assert_errno("EACCES");
    }
}

/// `"access": "none"` entries are deny entries: the file is hidden even
/// inside a readable root.
#[test]
fn access_none_entries_hide_the_path() {
    for user in users() {
        let ws = Ws::new(user);
        let key = ws.write("outside/key.pem", "KEY\n");
        let key = key.to_str().unwrap();
        control(&ws, &["read", key]).assert_ok();
        let profile = json!({"type": "managed", "network": "restricted", "file_system": {"type": "restricted", "entries": [
            {"path": {"type": "special", "value": {"kind": "root"}}, "access": "read"},
            {"path": {"type": "special", "value": {"kind": "current_working_directory"}}, "access": "write"},
            {"path": {"type": "path", "path": key}, "access": "none"},
        ]}})
        .to_string();
        let out = sandboxed(&ws, &["--policy-json", &profile], &["read", key]);
        out.assert_errno("EACCES");
        assert!(!out.stdout.contains("KEY"), "{out:?}");
        sandboxed(
            &ws,
            &["--policy-json", &profile],
            &["write", &ws.s("work/x")],
        )
        .assert_ok();
    }
}

/// Codex's tool-call fields in a rerun request: `with_additional_permissions`
/// widens the turn by exactly `additional_permissions`, bounded;
/// `require_escalated` is `unsandboxed`, refused when the turn restricts
/// reads; `workdir` is the cwd.
#[test]
fn rerun_takes_codex_tool_call_fields() {
    for user in users() {
        let ws = Ws::new(user);
        let out_dir = ws.s("outside");
        let target = format!("{out_dir}/made");
        control(&ws, &["write", &target]).assert_ok();
        std::fs::remove_file(&target).unwrap();
        let rerun = |name: &str, req: serde_json::Value| {
            let file = ws.write(&format!("home/{name}.json"), &req.to_string());
            cordon(&ws, &["rerun", "--request", file.to_str().unwrap()])
        };
        let probe = probe_bin().to_str().unwrap();
        let base = |extra: serde_json::Value| {
            let mut req = json!({
                "command": [probe, "write", &target],
                "workdir": ws.s("work"),
                "timeout_ms": 10000,
                "justification": "test",
            });
            for (k, v) in extra.as_object().unwrap() {
                req[k] = v.clone();
            }
            req
        };
        rerun(
            "default",
            base(json!({"sandbox_permissions": "use_default"})),
        )
        .assert_errno(denied_write(user));
        let widened = base(json!({
            "sandbox_permissions": "with_additional_permissions",
            "additional_permissions": {"network": null, "file_system": {"read": null, "write": [out_dir]}, "macos": null},
        }));
        rerun("widened", widened).assert_ok();
        assert!(Path::new(&target).exists());
        // Codex's paths are absolute: a `:name` here is refused, nothing runs.
        std::fs::remove_file(&target).unwrap();
        let special = base(json!({
            "sandbox_permissions": "with_additional_permissions",
            "additional_permissions": {"file_system": {"write": [":root"]}},
        }));
        rerun("special", special).assert_refused("not an absolute path");
        assert!(!Path::new(&target).exists());
        let restricted = base(json!({
            "sandbox_permissions": "require_escalated",
            "turn": {"sandbox_policy": {"type": "read-only", "access": {"type": "restricted"}}},
        }));
        rerun("escalated", restricted).assert_refused("unsandboxed");
        assert!(!Path::new(&target).exists());
    }
}

/// The same request, read from a file or from stdin, resolves to the same
/// plan: the source's name reaches only error messages. (Moved from
/// `src/policy/request.rs`, whose tests keep to the policy it yields.)
#[test]
fn same_request_gives_equal_plan_wherever_it_was_read_from() {
    use cordon::plan::{self, AccountHome, Env};
    use cordon::policy::{parse_request, request_policy};
    let d = tempfile::tempdir().unwrap();
    let turn = r#"{"sandbox_policy":{"type":"workspace-write"},"macos":{"preferences":"read-write","automation":["com.apple.Terminal"],"calendar":true}}"#;
    let execution = r#"{"permissions":{"additional":{"file_system":{"write":[":tmpdir"],"read":["~/x"]},"network":{"enabled":true}}}}"#;
    let text = format!(
        r#"{{"command":["true"],"cwd":{:?},"turn":{turn},"execution":{execution}}}"#,
        d.path().to_str().unwrap()
    );
    let a = request_policy(&parse_request(&text, "request a.json").unwrap()).unwrap();
    let b = request_policy(&parse_request(&text, "request (stdin)").unwrap()).unwrap();
    let env = Env {
        tmpdir: Some(d.path().into()),
        home: None,
        account_home: AccountHome::None,
        terminals: vec![],
        stdio_files: vec![],
        vars: vec![],
    };
    let pa = plan::resolve(&a.0, &a.1, &env).unwrap();
    let pb = plan::resolve(&b.0, &b.1, &env).unwrap();
    assert_eq!(pa, pb);
    assert_eq!(pa.to_string(), pb.to_string());
}
