//! Skills (issue 14): `cordon skill`, `run --skills` matching and a
//! request's `"skill"` run a skill's commands with exactly its declared
//! permissions, bounded by the turn. Real skill directories built here,
//! the probe run as root and as an unprivileged user; every denial stands
//! beside a control that succeeds.

mod support;

use std::path::Path;

use serde_json::json;
use support::*;

/// Makes the skill `work/.agents/skills/NAME` with `SKILL.md` (front
/// matter `front`, when given) and `agents/openai.yaml` (when given), and a
/// `bin/probe` script that runs the probe. Returns its path relative to
/// the workspace.
fn skill(ws: &Ws, name: &str, front: Option<&str>, openai: Option<&str>) -> String {
    let rel = format!("work/.agents/skills/{name}");
    let md = match front {
        Some(f) => format!("---\nname: {name}\ndescription: test skill\n{f}---\n# {name}\n"),
        None => format!("---\nname: {name}\ndescription: test skill\n---\n# {name}\n"),
    };
    ws.write(&format!("{rel}/SKILL.md"), &md);
    if let Some(y) = openai {
        ws.write(&format!("{rel}/agents/openai.yaml"), y);
    }
    let script = ws.write(
        &format!("{rel}/bin/probe"),
        &format!("#!/bin/sh\nexec {} \"$@\"\n", probe_bin().display()),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    rel
}

/// `cordon skill FLAGS SKILL -- cordon-probe OP...`.
fn in_skill(ws: &Ws, flags: &[&str], skill_rel: &str, op: &[&str]) -> Outcome {
    let dir = ws.s(skill_rel);
    let mut args = vec!["skill"];
    args.extend_from_slice(flags);
    args.push(&dir);
    args.push("--");
    args.push(probe_bin().to_str().unwrap());
    args.extend_from_slice(op);
    cordon(ws, &args)
}

const WRITES_OUT: &str = "permissions:\n  file_system:\n    write: [../../../out]\n";

#[test]
fn a_declared_write_root_is_writable_and_the_rest_of_the_workspace_is_not() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("work/out");
        let s = skill(&ws, "report", None, Some(WRITES_OUT));
        in_skill(&ws, &[], &s, &["create", "out/report.txt"]).assert_ok();
        assert!(ws.join("work/out/report.txt").exists());
        // The rest of the workspace: writable under the turn (the
        // control), not under the skill's sandbox.
        sandboxed(&ws, &[], &["create", "control.txt"]).assert_ok();
        in_skill(&ws, &[], &s, &["create", "notes.txt"]).assert_errno(denied_write(user));
        assert!(!ws.join("work/notes.txt").exists());
        // $TMPDIR is the turn's, not the skill's.
        sandboxed(&ws, &[], &["create", &ws.s("tmp/control")]).assert_ok();
        in_skill(&ws, &[], &s, &["create", &ws.s("tmp/x")]).assert_errno(denied_write(user));
        // The same block in SKILL.md's front matter gives the same sandbox.
        let s2 = skill(
            &ws,
            "report2",
            Some("permissions:\n  file_system:\n    write: [../../../out]\n"),
            None,
        );
        in_skill(&ws, &[], &s2, &["create", "out/front.txt"]).assert_ok();
        in_skill(&ws, &[], &s2, &["create", "notes2.txt"]).assert_errno(denied_write(user));
    }
}

#[test]
fn a_skill_without_a_permissions_block_gets_the_turn_default() {
    for user in users() {
        let ws = Ws::new(user);
        let s = skill(&ws, "plain", None, None);
        in_skill(&ws, &[], &s, &["create", "notes.txt"]).assert_ok();
        in_skill(&ws, &[], &s, &["create", &ws.s("tmp/t")]).assert_ok();
        control(&ws, &["create", &ws.s("outside/control")]).assert_ok();
        in_skill(&ws, &[], &s, &["create", &ws.s("outside/x")]).assert_errno(denied_write(user));
        // And the turn's network: off by default, on with --network.
        in_skill(&ws, &[], &s, &["socket", "inet", "stream"]).assert_errno("EPERM");
        in_skill(&ws, &["--network"], &s, &["socket", "inet", "stream"]).assert_ok();
        let out = cordon(&ws, &["skill", &ws.s(&s), "--dry-run", "--", "true"]);
        assert_eq!(out.status, 0, "{out:?}");
        assert!(
            out.stdout.contains("no permissions block"),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn the_network_is_on_only_when_declared_and_the_turn_allows_it() {
    for user in users() {
        let ws = Ws::new(user);
        let net = skill(&ws, "net", None, Some("permissions:\n  network: true\n"));
        let net2 = skill(
            &ws,
            "net2",
            None,
            Some("permissions:\n  network:\n    enabled: true\n"),
        );
        let quiet = skill(&ws, "quiet", None, Some("permissions: {}\n"));
        let sock = ["socket", "inet", "stream"];
        control(&ws, &sock).assert_ok();
        in_skill(&ws, &["--network"], &net, &sock).assert_ok();
        in_skill(&ws, &["--network"], &net2, &["socket", "inet6", "dgram"]).assert_ok();
        // Under the same network-on turn, a skill that does not declare
        // the network gets none (IPC still works).
        in_skill(&ws, &["--network"], &quiet, &sock).assert_errno("EPERM");
        in_skill(&ws, &["--network"], &quiet, &["socketpair"]).assert_ok();
        // `permissions: {}` writes nothing either.
        in_skill(&ws, &["--network"], &quiet, &["create", "x"]).assert_errno(denied_write(user));
    }
}

#[test]
fn a_grant_the_turn_does_not_cover_is_refused_and_nothing_runs() {
    for user in users() {
        let ws = Ws::new(user);
        let outside = skill(
            &ws,
            "outside",
            None,
            Some("permissions:\n  file_system:\n    write: [../../../../outside]\n"),
        );
        let marker = ws.s("outside/ran");
        in_skill(&ws, &[], &outside, &["create", &marker])
            .assert_refused("permissions.file_system.write[0]")
            .assert_refused("additional");
        assert!(!Path::new(&marker).exists(), "nothing ran");
        // Control: a turn that writes there covers the grant.
        let w = ws.s("outside");
        in_skill(&ws, &["-w", &w], &outside, &["create", &marker]).assert_ok();

        let net = skill(&ws, "net", None, Some("permissions:\n  network: true\n"));
        in_skill(&ws, &[], &net, &["socket", "inet", "stream"])
            .assert_refused("permissions.network")
            .assert_refused("network off");
        in_skill(&ws, &["--network"], &net, &["socket", "inet", "stream"]).assert_ok();

        // A read-only turn covers no write root at all.
        ws.mkdir("work/out");
        let out = skill(&ws, "out", None, Some(WRITES_OUT));
        in_skill(&ws, &["-p", "read-only"], &out, &["create", "out/x"])
            .assert_refused("writes nothing");
        // A declared write into a protected path is refused too.
        let git = skill(
            &ws,
            "git",
            None,
            Some("permissions:\n  file_system:\n    write: [../../../.agents]\n"),
        );
        in_skill(&ws, &[], &git, &["create", ".agents/x"]).assert_refused("read-only");
        // So is --best-effort: a declared sandbox runs bounded or not at all.
        in_skill(&ws, &["--best-effort"], &out, &["create", "out/x"])
            .assert_refused("--best-effort");
    }
}

#[test]
fn malformed_manifests_are_refused_with_one_line() {
    for user in users() {
        let ws = Ws::new(user);
        let marker = ws.s("work/ran");
        let cases: &[(&str, &str, &str)] = &[
            ("yaml", "permissions:\n  file_system: [\n", "invalid YAML"),
            (
                "key",
                "permissions:\n  netwrk: true\n",
                "permissions.netwrk",
            ),
            (
                "type",
                "permissions:\n  file_system:\n    write: ./out\n",
                "expected a list of paths",
            ),
            ("empty", "permissions:\n", "permissions: is empty"),
        ];
        for (name, yaml, needle) in cases {
            let s = skill(&ws, name, None, Some(yaml));
            in_skill(&ws, &[], &s, &["create", &marker])
                .assert_refused(needle)
                .assert_refused("openai.yaml");
            // Matched by path under `run`, the same manifest refuses too.
            let script = format!(".agents/skills/{name}/bin/probe create {marker}");
            cordon(&ws, &["run", "--", "sh", "-c", &script]).assert_refused(needle);
        }
        let bad_front = skill(
            &ws,
            "front",
            Some("permissions:\n  macos: {preferences: loud}\n"),
            None,
        );
        in_skill(&ws, &[], &bad_front, &["create", &marker]).assert_refused("SKILL.md");
        let disagree = skill(
            &ws,
            "both",
            Some("permissions:\n  network: false\n"),
            Some("permissions:\n  network: true\n"),
        );
        in_skill(&ws, &["--network"], &disagree, &["create", &marker]).assert_refused("keep one");
        cordon(&ws, &["skill", &ws.s("work"), "--", "true"]).assert_refused("no SKILL.md");
        assert!(!Path::new(&marker).exists(), "nothing ran");
    }
}

#[test]
fn run_matches_a_script_by_path_inside_sh_c() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("work/out");
        skill(&ws, "report", None, Some(WRITES_OUT));
        let p = probe_bin().display().to_string();
        // Control: the probe itself is in no skill, so the turn applies.
        cordon(
            &ws,
            &["run", "--", "sh", "-c", &format!("{p} create control.txt")],
        )
        .assert_ok();
        // The same write through the skill's script gets the skill's sandbox.
        let via = ".agents/skills/report/bin/probe";
        cordon(
            &ws,
            &[
                "run",
                "--",
                "sh",
                "-c",
                &format!("cd . && {via} create notes.txt"),
            ],
        )
        .assert_errno(denied_write(user));
        cordon(
            &ws,
            &[
                "run",
                "--",
                "bash",
                "-lc",
                &format!("{via} create out/r.txt"),
            ],
        )
        .assert_ok();
        // As the program itself, too.
        cordon(&ws, &["run", "--", via, "create", "notes2.txt"]).assert_errno(denied_write(user));
        let out = cordon(
            &ws,
            &["run", "--dry-run", "--", "sh", "-c", &format!("{via} x")],
        );
        assert_eq!(out.status, 0, "{out:?}");
        assert!(
            out.stdout.contains("  matched: a path in the shell script"),
            "{}",
            out.stdout
        );

        // A skill root outside the repository is one only with --skills.
        ws.write("skills/ext/SKILL.md", "---\nname: ext\n---\n");
        ws.write(
            "skills/ext/agents/openai.yaml",
            &format!(
                "permissions:\n  file_system:\n    write: [{}]\n",
                ws.s("work/out")
            ),
        );
        let ext = ws.s("skills/ext/SKILL.md");
        let cat = |file: &str| format!("cat {ext} >/dev/null; {p} create {file}");
        cordon(&ws, &["run", "--", "sh", "-c", &cat("notes3.txt")]).assert_ok();
        let skills = ws.s("skills");
        let with = |file: &str| {
            cordon(
                &ws,
                &["run", "--skills", &skills, "--", "sh", "-c", &cat(file)],
            )
        };
        with("notes4.txt").assert_errno(denied_write(user));
        with("out/ok.txt").assert_ok();
    }
}

/// A request running the probe as the skill's command.
fn request(ws: &Ws, skill_rel: &str, execution: serde_json::Value, op: &[&str]) -> String {
    let mut req = probe_request(ws, execution, op);
    req["skill"] = json!(ws.s(skill_rel));
    let name = format!("req-{}.json", op.join("-").replace('/', "_"));
    ws.write(&name, &req.to_string());
    ws.s(&name)
}

#[test]
fn a_request_may_name_the_skill_and_replays_identically() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("work/out");
        let s = skill(&ws, "report", None, Some(WRITES_OUT));
        let ok = request(&ws, &s, json!("turn_default"), &["create", "out/r.txt"]);
        cordon(&ws, &["rerun", "--request", &ok]).assert_ok();
        let no = request(&ws, &s, json!("turn_default"), &["create", "notes.txt"]);
        cordon(&ws, &["rerun", "--request", &no]).assert_errno(denied_write(user));
        let a = cordon(&ws, &["explain", "--json", "--request", &no]);
        let b = cordon(&ws, &["explain", "--json", "--request", &no]);
        assert_eq!(a.status, 0, "{a:?}");
        assert_eq!(
            a.stdout, b.stdout,
            "replaying gives the same explain --json"
        );
        let v: serde_json::Value = serde_json::from_str(a.stdout.trim()).unwrap();
        assert_eq!(v["plan"]["skill"]["dir"], ws.s(&s));

        // A grant outside the turn is refused, and approved by `additional`.
        let far = skill(
            &ws,
            "far",
            None,
            Some("permissions:\n  file_system:\n    write: [../../../../outside]\n"),
        );
        let target = ws.s("outside/x");
        let refused = request(&ws, &far, json!("turn_default"), &["create", &target]);
        cordon(&ws, &["rerun", "--request", &refused]).assert_refused("additional");
        let add =
            json!({"permissions": {"additional": {"file_system": {"write": [ws.s("outside")]}}}});
        let approved = request(&ws, &far, add, &["create", &target]);
        cordon(&ws, &["rerun", "--request", &approved]).assert_ok();
        // Still the skill's sandbox: the workspace is not writable.
        let add =
            json!({"permissions": {"additional": {"file_system": {"write": [ws.s("outside")]}}}});
        let rest = request(&ws, &far, add, &["create", "notes.txt"]);
        cordon(&ws, &["rerun", "--request", &rest]).assert_errno(denied_write(user));
        let uns = request(&ws, &s, json!("unsandboxed"), &["create", "x"]);
        cordon(&ws, &["rerun", "--request", &uns]).assert_refused("unsandboxed");
    }
}

/// `CORDON_BLESS=1` rewrites the goldens.
#[test]
fn skill_plans_match_the_goldens() {
    if !is_root() {
        eprintln!("note: not root, so the skill goldens (recorded as root) are not compared");
        return;
    }
    let ws = Ws::new(User::Root);
    ws.mkdir("work/out");
    ws.mkdir("work/data");
    let declared = skill(
        &ws,
        "report",
        None,
        Some(
            "interface:\n  display_name: Report\npermissions:\n  file_system:\n    read: [./, ../../../data, /usr]\n    write: [../../../out]\n  network: true\n  macos:\n    preferences: read-write\n    automations: [com.apple.Notes]\n",
        ),
    );
    skill(&ws, "plain", None, None);
    let dir = ws.s(&declared);
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "declared-linux",
            vec!["skill", "--network", "--platform", "linux", &dir, "--dry-run", "--", "make"]
                .into_iter()
                .map(String::from)
                .collect(),
        ),
        (
            "declared-macos",
            vec!["skill", "--network", "--platform", "macos", &dir, "--dry-run", "--", "make"]
                .into_iter()
                .map(String::from)
                .collect(),
        ),
        (
            "restricted-turn-explain",
            vec![
                "explain".to_string(),
                "--policy-json".into(),
                json!({"file_system": {"read": [":minimal", ws.s("work/data"), ws.s("work/.agents")], "write": [":cwd"]}, "network": {"enabled": true}}).to_string(),
                "--skill".into(),
                dir.clone(),
                "out/r.txt".into(),
                "notes.txt".into(),
                "data/x".into(),
            ],
        ),
        (
            "restricted-turn-plan",
            vec![
                "skill".to_string(),
                "--policy-json".into(),
                json!({"file_system": {"read": [":minimal", ws.s("work/data"), ws.s("work/.agents")], "write": [":cwd"]}, "network": {"enabled": true}}).to_string(),
                "--platform".into(),
                "linux".into(),
                dir.clone(),
                "--dry-run".into(),
                "--".into(),
                "make".into(),
            ],
        ),
        (
            "matched-no-block",
            vec![
                "run",
                "--dry-run",
                "--platform",
                "linux",
                "--",
                "sh",
                "-c",
                "./.agents/skills/plain/bin/probe stat .",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
        ),
    ];
    let mut goldens = Goldens::default();
    for (name, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cordon(&ws, &args);
        assert_eq!(out.status, 0, "{name}: {out:?}");
        let text = golden_text(&ws, &out.stdout);
        goldens.check(&format!("skill/{name}.txt"), &text);
    }
    goldens.assert_all();
}

/// Adversarial pass 5. F1: a skill that declares the session's socket file
/// itself (`$SSH_AUTH_SOCK`) as a write root lifted the turn's mask on it,
/// and reached the ssh agent: refused now. F2: a manifest that is a
/// symlink to /dev/zero, or a FIFO, was read forever: refused at once.
/// F3: front matter opened by `--- # x`, or after a blank line, was taken
/// for no front matter and its block dropped: refused.
#[test]
fn sockets_endless_manifests_and_ambiguous_front_matter_are_refused() {
    for user in users() {
        let ws = Ws::new(user);
        let marker = ws.s("work/ran");
        // F1: a socket the caller's session uses.
        let sock = ws.join("work/agent.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        if user == User::Nobody {
            std::os::unix::fs::lchown(&sock, Some(65534), Some(65534)).unwrap();
        }
        let yaml = format!(
            "permissions:\n  file_system:\n    write: [{}]\n",
            sock.display()
        );
        let s = skill(&ws, "sock", None, Some(&yaml));
        in_skill(&ws, &[], &s, &["create", &marker])
            .assert_refused("it is a socket, and the turn keeps");
        // F2: endless or blocking manifests, refused quickly.
        for (name, make) in [("zero", "zero"), ("fifo", "fifo")] {
            let s = skill(&ws, name, None, None);
            let m = ws.join(&format!("{s}/agents/openai.yaml"));
            std::fs::create_dir_all(m.parent().unwrap()).unwrap();
            if make == "zero" {
                std::os::unix::fs::symlink("/dev/zero", &m).unwrap();
            } else {
                let c = std::ffi::CString::new(m.to_str().unwrap()).unwrap();
                // SAFETY: a valid C string.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
            }
            let started = std::time::Instant::now();
            in_skill(&ws, &[], &s, &["create", &marker]).assert_refused("not a regular file");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{name}"
            );
        }
        // F3: front matter that is not opened by exactly `---`.
        for (name, md) in [
            (
                "comment",
                "--- # perms\npermissions:\n  network: true\n---\n",
            ),
            ("blank", "\n---\npermissions:\n  network: true\n---\n"),
        ] {
            let rel = format!("work/.agents/skills/{name}");
            ws.write(&format!("{rel}/SKILL.md"), md);
            in_skill(&ws, &[], &rel, &["create", &marker])
                .assert_refused("must open with a first line that is exactly `---`");
        }
        assert!(!Path::new(&marker).exists(), "{user:?}: something ran");
    }
}
