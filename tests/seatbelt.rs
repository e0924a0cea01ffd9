//! The Seatbelt backend, proven on Linux: golden profiles, the SBPL checker
//! on every generated profile, the evaluator's verdicts against the plan's,
//! escaping, and `cordon seatbelt`.

#[path = "support/sbpl.rs"]
mod sbpl;
mod support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use cordon::plan::{self, Env, Plan, Protected, ProtectedVia, ReadScope, Root, WritableRoot};
use cordon::policy::{self, Automation, MacosExtensions, Network, Preferences};
use cordon::seatbelt::{self, Profile, macos_path};
use support::{Ws, cordon, users};

// ---------------------------------------------------------------------------
// Plans built by hand: fixed macOS-looking paths, no filesystem involved.
// ---------------------------------------------------------------------------

const PROTECTED: [&str; 3] = [".git", ".cordon", ".agents"];

fn root(path: &str) -> Root {
    Root {
        path: path.into(),
        spelled: None,
        origin: "test".into(),
        nested: vec![],
        is_dir: true,
        handle: Default::default(),
    }
}

/// A writable root with the default protected names; `existing` ones exist.
fn writable(path: &str, existing: &[&str]) -> WritableRoot {
    let protected = PROTECTED
        .iter()
        .map(|name| {
            let p = Path::new(path).join(name);
            Protected {
                name: name.to_string(),
                path: p.clone(),
                target: p,
                exists: existing.contains(name),
                via: ProtectedVia::Direct,
                missing_from: None,
                id: None,
                why: None,
                dir_hint: true,
            }
        })
        .collect();
    WritableRoot {
        root: root(path),
        protected,
        anchors: Vec::new(),
    }
}

fn base_plan(read: ReadScope, writable: Vec<WritableRoot>, network: bool) -> Plan {
    Plan {
        policy_name: "test".into(),
        cwd: "/Users/me/repo".into(),
        env: Default::default(),
        cwd_handle: Default::default(),
        slash: Default::default(),
        sandboxed: true,
        read,
        writable,
        devices: vec![],
        terminals: vec![],
        stdio_files: vec![],
        network: Network {
            enabled: network,
            unix_sockets: true,
            ..Network::default()
        },
        protected_names: PROTECTED.iter().map(|s| s.to_string()).collect(),
        deny: Default::default(),
        macos: MacosExtensions::default(),
        kill_leftovers: true,
        skill: None,
    }
}

/// workspace-write as resolved on a Mac whose paths were spelled the Linux
/// way (`/tmp`, `/var/folders`): the compiler must map them to `/private`.
fn workspace_write(network: bool) -> Plan {
    base_plan(
        ReadScope::All,
        vec![
            writable("/Users/me/repo", &[".git"]),
            writable("/var/folders/zz/abc_123/T", &[]),
            writable("/tmp", &[]),
        ],
        network,
    )
}

/// workspace-write with the network off but for TCP to 443 and 8443 and a
/// server on 8080.
fn tcp_ports() -> Plan {
    let mut plan = workspace_write(false);
    plan.network.connect_tcp = vec![443, 8443];
    plan.network.bind_tcp = vec![8080];
    plan
}

/// Domains: TCP to the proxy's port on localhost only, once the port is
/// known; `cordon seatbelt` (no port yet) shows the rule as a comment.
#[test]
fn domains_allow_only_the_proxy_port() {
    let mut plan = workspace_write(false);
    plan.network.domains = vec![cordon::policy::DomainPattern::parse("crates.io", "t").unwrap()];
    let profile = seatbelt::compile_with(&plan, Some(8877)).unwrap();
    lint(&profile);
    let text = profile.to_string();
    golden("domains.sb", &text);
    assert!(text.contains("(allow network-outbound (remote tcp \"localhost:8877\"))"));
    assert!(!text.contains("(allow network-outbound)"));
    assert!(!text.contains("(allow system-socket)"));
    let shown = compile(&plan).to_string();
    assert!(
        !shown
            .lines()
            .any(|l| l.starts_with("(allow network-outbound")),
        "{shown}"
    );
    assert!(shown.contains(";; domains: (allow network-outbound (remote tcp \"localhost:PORT\"))"));
}

/// TCP ports: outbound to exactly the listed ports, bind and inbound on the
/// listed bind port, nothing else of the network.
#[test]
fn tcp_ports_allow_exactly_the_listed_ports() {
    let profile = compile(&tcp_ports());
    let text = profile.to_string();
    for line in [
        "(allow network-outbound (remote tcp \"*:443\"))",
        "(allow network-outbound (remote tcp \"*:8443\"))",
        "(allow network-bind (local tcp \"*:8080\"))",
        "(allow network-inbound (local tcp \"*:8080\"))",
    ] {
        assert!(text.contains(line), "{line} missing");
    }
    assert!(!text.contains("(allow network-outbound)"));
    assert!(!text.contains("udp"));
}

/// workspace-write with deny entries: a denied directory with a lifted
/// file inside, a denied file, a missing entry, a glob in the workspace.
fn with_denies() -> Plan {
    let mut plan = workspace_write(false);
    let denied = |path: &str, dir: bool, lifted: Vec<plan::Lift>| plan::Denied {
        path: path.into(),
        spelled: None,
        entry: ":secrets".into(),
        origin: "profile workspace-write: file_system.deny".into(),
        is_dir: dir,
        lifted,
        handle: Default::default(),
    };
    plan.deny = plan::DenyPlan {
        denied: vec![
            denied(
                "/Users/me/.ssh",
                true,
                vec![plan::Lift {
                    path: "/Users/me/.ssh/known_hosts".into(),
                    is_dir: false,
                    by: "--allow-read".into(),
                    handle: Default::default(),
                }],
            ),
            denied("/Users/me/.netrc", false, vec![]),
        ],
        waived: vec![],
        globs: vec![plan::GlobMatch {
            entry: "**/.env".into(),
            origin: "--deny-read".into(),
            bases: vec!["/Users/me/repo".into()],
            pattern: "**/.env".into(),
            depth: 12,
            matches: 1,
            cut_at_depth: 0,
            closed: vec![],
        }],
        absent: vec!["/Users/me/.aws".into()],
    };
    plan
}

fn read_only() -> Plan {
    base_plan(ReadScope::All, vec![], false)
}

fn restricted_read() -> Plan {
    base_plan(
        ReadScope::Restricted {
            minimal: true,
            roots: vec![root("/opt/tool"), root("/Users/me/data set")],
            runtime: vec![],
        },
        vec![writable("/Users/me/repo", &[".git"])],
        false,
    )
}

fn with_ext(f: impl FnOnce(&mut MacosExtensions)) -> Plan {
    let mut p = read_only();
    f(&mut p.macos);
    p
}

fn ids(list: &[&str]) -> Automation {
    Automation::BundleIds(list.iter().map(|s| s.to_string()).collect())
}

fn compile(plan: &Plan) -> Profile {
    seatbelt::compile(plan).unwrap_or_else(|e| panic!("compile: {}", e.message))
}

/// Lints `profile` (panicking with every finding) and returns the parse.
fn lint(profile: &Profile) -> sbpl::Profile {
    sbpl::lint(&profile.text, &profile.params)
        .unwrap_or_else(|e| panic!("lint:\n{}\n--- profile ---\n{profile}", e.join("\n")))
}

// ---------------------------------------------------------------------------
// Golden files
// ---------------------------------------------------------------------------

/// Compares `actual` with `tests/golden/seatbelt/NAME`.
#[track_caller]
fn golden(name: &str, actual: &str) {
    support::golden(&format!("seatbelt/{name}"), actual);
}

/// The extensions section alone (the rest is covered by read-only.sb).
fn extension_section(profile: &Profile) -> String {
    let text = profile.to_string();
    let start = text
        .find(";; ===== macOS extensions")
        .expect("extension section");
    let end = text.find(";; ===== Final denies").expect("final section");
    text[start..end].to_string()
}

fn extension_plans() -> Vec<(&'static str, Plan)> {
    vec![
        (
            "ext-preferences-none",
            with_ext(|m| m.preferences = Preferences::None),
        ),
        (
            "ext-preferences-read-write",
            with_ext(|m| m.preferences = Preferences::ReadWrite),
        ),
        (
            "ext-automation-all",
            with_ext(|m| m.automation = Automation::All),
        ),
        (
            "ext-automation-bundle-ids",
            with_ext(|m| m.automation = ids(&["com.apple.Notes", "com.apple.Terminal"])),
        ),
        ("ext-accessibility", with_ext(|m| m.accessibility = true)),
        ("ext-calendar", with_ext(|m| m.calendar = true)),
        // Codex's newer extensions (issue 17).
        (
            "ext-launch-services",
            with_ext(|m| m.launch_services = true),
        ),
        ("ext-reminders", with_ext(|m| m.reminders = true)),
        (
            "ext-contacts-read-only",
            with_ext(|m| m.contacts = cordon::policy::Contacts::ReadOnly),
        ),
    ]
}

#[test]
fn golden_profiles() {
    for (name, plan) in [
        ("read-only", read_only()),
        ("workspace-write", workspace_write(false)),
        ("network-on", workspace_write(true)),
        ("restricted-read", restricted_read()),
        ("deny", with_denies()),
        ("tcp-ports", tcp_ports()),
    ] {
        let profile = compile(&plan);
        lint(&profile);
        golden(&format!("{name}.sb"), &profile.to_string());
    }
    for (name, plan) in extension_plans() {
        let profile = compile(&plan);
        lint(&profile);
        golden(&format!("{name}.sb"), &extension_section(&profile));
    }
}

// ---------------------------------------------------------------------------
// Shape of every generated profile
// ---------------------------------------------------------------------------

fn all_plans() -> Vec<Plan> {
    let mut plans = vec![
        read_only(),
        workspace_write(false),
        workspace_write(true),
        restricted_read(),
        // Restricted without :minimal, and with nothing readable at all.
        base_plan(
            ReadScope::Restricted {
                minimal: false,
                roots: vec![root("/opt/tool")],
                runtime: vec![],
            },
            vec![],
            false,
        ),
        base_plan(
            ReadScope::Restricted {
                minimal: false,
                roots: vec![],
                runtime: vec![],
            },
            vec![],
            false,
        ),
        escaping_plan(),
        sibling_plan(),
        unprotected_plan(),
        with_denies(),
    ];
    plans.extend(extension_plans().into_iter().map(|(_, p)| p));
    plans
}

#[test]
fn every_generated_profile_lints_and_keeps_its_order() {
    for plan in all_plans() {
        let profile = compile(&plan);
        let parsed = lint(&profile);
        assert!(profile.text.starts_with("(version 1)\n"));
        // Each parameter is defined once and is an absolute /private-mapped path.
        for (k, v) in &profile.params {
            assert!(v.starts_with('/'), "{k}={v}");
            assert_eq!(Path::new(v), macos_path(Path::new(v)), "{k}={v} not mapped");
        }
        // The TIOCSTI deny is the very last rule: nothing can undo it.
        let last = parsed.rules.last().unwrap();
        assert_eq!(last.action, sbpl::Action::Deny);
        assert_eq!(last.ops, ["file-ioctl"]);
        // The network is off unless asked: no rule mentions it.
        let net_rules = parsed.rules_naming("network-outbound").len();
        assert_eq!(net_rules > 0, plan.network.enabled);
        assert_eq!(
            sbpl::allows(&parsed, &profile.params, "network-outbound", ""),
            plan.network.enabled
        );
        // Without reads of everything, no filterless read allow slipped in.
        if plan.read != ReadScope::All {
            assert!(
                parsed
                    .rules
                    .iter()
                    .all(|r| !(r.action == sbpl::Action::Allow
                        && r.filters.is_empty()
                        && r.ops.iter().any(|o| sbpl::op_covers(o, "file-read-data")))),
                "unfiltered read allow under restricted reads"
            );
        }
    }
}

#[test]
fn paths_are_parameters_never_text() {
    for plan in all_plans() {
        let profile = compile(&plan);
        for (_, v) in profile.params.iter().filter(|(k, _)| !k.starts_with('A')) {
            // The generator names no user path: only the fragments' fixed
            // system paths (`/` among them, an ancestor) appear quoted.
            assert!(
                !profile.text.contains(&format!("\"{v}\"")),
                "{v} is inlined"
            );
        }
        for w in &plan.writable {
            let v = macos_path(&w.root.path);
            assert!(
                profile
                    .params
                    .iter()
                    .any(|(_, p)| Path::new(p) == v.as_path()),
                "{} has no parameter",
                v.display()
            );
        }
    }
}

#[test]
fn argv_is_sandbox_exec_with_params_then_the_command() {
    let profile = compile(&workspace_write(false));
    let cmd: Vec<OsString> = ["git", "commit", "-m", "a b"]
        .iter()
        .map(OsString::from)
        .collect();
    let argv = seatbelt::argv(&profile, &cmd);
    let mut want: Vec<OsString> = vec![
        "/usr/bin/sandbox-exec".into(),
        "-p".into(),
        profile.text.clone().into(),
    ];
    want.extend(
        profile
            .params
            .iter()
            .map(|(k, v)| OsString::from(format!("-D{k}={v}"))),
    );
    want.push("--".into());
    want.extend(cmd);
    assert_eq!(argv, want);
    assert_eq!(
        profile.params[..4],
        [
            ("W0".to_string(), "/Users/me/repo".to_string()),
            ("W0_P0".to_string(), "/Users/me/repo/.agents".to_string()),
            ("W0_P1".to_string(), "/Users/me/repo/.cordon".to_string()),
            ("W0_P2".to_string(), "/Users/me/repo/.git".to_string()),
        ]
    );
    let tmp = profile.params.iter().map(|(_, v)| v.as_str());
    assert!(tmp.clone().any(|v| v == "/private/tmp"));
    assert!(
        tmp.clone()
            .any(|v| v == "/private/var/folders/zz/abc_123/T")
    );
    assert!(
        !tmp.clone()
            .any(|v| v.starts_with("/tmp") || v.starts_with("/var/"))
    );
}

// ---------------------------------------------------------------------------
// The evaluator's verdicts against the plan's own
// ---------------------------------------------------------------------------

fn under(path: &Path, dir: &Path) -> bool {
    path.starts_with(dir)
}

/// Whether a deny entry hides `path` (and no lift inside it brings it
/// back). The test plans' globs are all `**/NAME`.
fn plan_hides(plan: &Plan, path: &Path) -> bool {
    let d = &plan.deny;
    let lifted = d
        .denied
        .iter()
        .flat_map(|x| &x.lifted)
        .any(|l| under(path, &macos_path(&l.path)));
    let named = d
        .denied
        .iter()
        .map(|x| &x.path)
        .chain(&d.absent)
        .any(|p| under(path, &macos_path(p)));
    let globbed = d.globs.iter().any(|g| {
        let name = g
            .pattern
            .strip_prefix("**/")
            .expect("test globs are **/NAME");
        g.bases.iter().any(|b| {
            path.strip_prefix(macos_path(b))
                .is_ok_and(|rel| rel.components().any(|c| c.as_os_str() == name))
        })
    });
    (named && !lifted) || globbed
}

/// The plan's verdict on writing `path` (contract section 2): inside a
/// writable root and not inside any protected path or its target.
fn plan_may_write(plan: &Plan, path: &Path) -> bool {
    let path = macos_path(path);
    // While .git is protected, no path named .git is written at any depth.
    let git_named = path.file_name() == Some(".git".as_ref())
        && plan.protected_names.iter().any(|n| n == ".git");
    !git_named
        && !plan_hides(plan, &path)
        && plan
            .writable
            .iter()
            .any(|w| under(&path, &macos_path(&w.root.path)))
        && !plan.protected().any(|(_, p)| {
            under(&path, &macos_path(&p.path)) || under(&path, &macos_path(&p.target))
        })
}

/// The plan's verdict on reading `path` outside the platform set.
fn plan_may_read(plan: &Plan, path: &Path) -> bool {
    let path = macos_path(path);
    if plan_hides(plan, &path) {
        return false;
    }
    if plan
        .deny
        .denied
        .iter()
        .flat_map(|x| &x.lifted)
        .any(|l| under(&path, &macos_path(&l.path)))
    {
        return true;
    }
    match &plan.read {
        ReadScope::All => true,
        ReadScope::Restricted { roots, .. } => roots
            .iter()
            .map(|r| &r.path)
            .chain(plan.writable.iter().map(|w| &w.root.path))
            .any(|r| under(&path, &macos_path(r))),
    }
}

/// Paths probing the edges of every root of `plan`.
fn corpus(plan: &Plan) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = plan.writable.iter().map(|w| w.root.path.clone()).collect();
    if let ReadScope::Restricted { roots: r, .. } = &plan.read {
        roots.extend(r.iter().map(|r| r.path.clone()));
    }
    let mut out: Vec<PathBuf> = [
        "/Users/me/other/file",
        "/Users/me",
        "/Users/me/.ssh/id_ed25519",
        "/Users/me/.ssh/known_hosts",
        "/Users/me/.netrc",
        "/Users/me/.aws/credentials",
        "/Users/other/repo/file",
        "/private/etc/passwd",
        "/etc/hosts",
        "/Library/Keychains/login.keychain-db",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    for r in roots {
        let s = r.to_str().unwrap();
        for rel in [
            "",
            "/file",
            "/sub/deep/file.txt",
            "/.git",
            "/.git/config",
            "/.git/objects/ab/cdef",
            "/.gitignore",
            "/.git2",
            "/.git2/x",
            "/.cordon",
            "/.cordon/state",
            "/.agents/x",
            "/.env",
            "/app/.env",
            "/app/.envrc",
            "/sub/.git/config",
            "/a \"quoted\" name",
            "/with space/and\\backslash",
            "/'single'",
        ] {
            out.push(format!("{s}{rel}").into());
        }
        // Siblings sharing a prefix, and the parent.
        for sib in ["2", "2/file", "-old/x", ".git", " copy/x"] {
            out.push(format!("{s}{sib}").into());
        }
        if let Some(parent) = r.parent() {
            out.push(parent.to_path_buf());
            out.push(parent.join("neighbour"));
        }
    }
    out
}

/// Writable roots `/Users/me/repo` and `/Users/me/repo2`, the second with a
/// `.git` symlink into the first and a gitdir pointer into `/Users/me/git`.
fn sibling_plan() -> Plan {
    let mut repo2 = writable("/Users/me/repo2", &[]);
    repo2.protected.push(Protected {
        name: ".git".into(),
        path: "/Users/me/repo2/.git".into(),
        target: "/Users/me/repo/shared-git".into(),
        exists: true,
        via: ProtectedVia::Symlink,
        missing_from: None,
        id: None,
        why: None,
        dir_hint: true,
    });
    let mut wt = writable("/Users/me/wt", &[".git"]);
    wt.protected.push(Protected {
        name: ".git".into(),
        path: "/Users/me/wt/.git".into(),
        target: "/Users/me/git/worktrees/wt".into(),
        exists: true,
        via: ProtectedVia::Gitdir,
        missing_from: None,
        id: None,
        why: None,
        dir_hint: true,
    });
    base_plan(
        ReadScope::All,
        vec![
            writable("/Users/me/repo", &[".git"]),
            repo2,
            wt,
            writable("/Users/me/git", &[]),
        ],
        false,
    )
}

/// `protected = []`: roots are plain subpaths, siblings must stay apart.
fn unprotected_plan() -> Plan {
    let mut plan = base_plan(
        ReadScope::Restricted {
            minimal: false,
            roots: vec![root("/Users/me/ref")],
            runtime: vec![],
        },
        vec![
            writable("/Users/me/repo", &[]),
            writable("/Users/me/repo-b", &[]),
            writable("/tmp", &[]),
        ],
        false,
    );
    for w in &mut plan.writable {
        w.protected.clear();
    }
    plan.protected_names.clear();
    plan
}

fn escaping_plan() -> Plan {
    base_plan(
        ReadScope::Restricted {
            minimal: true,
            roots: vec![root("/Users/me/r \"o\" \\nly")],
            runtime: vec![],
        },
        vec![
            writable("/Users/me/a \"b\" \\c", &[".git"]),
            writable("/tmp/x\")) (allow default) ;", &[]),
        ],
        false,
    )
}

const WRITE_OPS: [&str; 5] = [
    "file-write*",
    "file-write-data",
    "file-write-create",
    "file-write-unlink",
    "file-write-mode",
];

#[test]
fn evaluator_verdicts_agree_with_the_plan() {
    let mut checked = 0;
    for plan in all_plans() {
        let profile = compile(&plan);
        let parsed = lint(&profile);
        for path in corpus(&plan) {
            let mapped = macos_path(&path);
            let p = mapped.to_str().unwrap();
            let want = plan_may_write(&plan, &path);
            for op in WRITE_OPS {
                let got = sbpl::allows(&parsed, &profile.params, op, p);
                assert_eq!(
                    got, want,
                    "{op} {p}: profile says {got}, plan says {want}\n{}",
                    profile
                );
                checked += 1;
            }
            // Reads: everything, or the roots. /private/etc files of the
            // corpus belong to the platform set, checked elsewhere.
            if matches!(plan.read, ReadScope::Restricted { minimal: true, .. })
                && p.starts_with("/private/etc/")
            {
                continue;
            }
            let want = plan_may_read(&plan, &path);
            for op in ["file-read*", "file-read-data", "file-map-executable"] {
                let got = sbpl::allows(&parsed, &profile.params, op, p);
                assert_eq!(got, want, "{op} {p}: profile says {got}, plan says {want}");
                checked += 1;
            }
        }
    }
    assert!(checked > 3000, "{checked}");
}

#[test]
fn restricted_reads_grant_ancestor_metadata_only() {
    let plan = restricted_read();
    let profile = compile(&plan);
    let parsed = lint(&profile);
    let a = |op: &str, p: &str| sbpl::allows(&parsed, &profile.params, op, p);
    for dir in ["/", "/Users", "/Users/me", "/opt"] {
        assert!(a("file-read-metadata", dir), "{dir}");
    }
    for dir in ["/Users", "/Users/me", "/opt"] {
        assert!(!a("file-read-data", dir), "listing {dir}");
    }
    assert!(!a("file-read-metadata", "/Users/me/secret"));
    assert!(!a("file-read-metadata", "/Users/other"));
    assert!(a("file-read-data", "/Users/me/data set/x.csv"));
    // The platform set is there.
    assert!(a("file-read-data", "/usr/lib/libSystem.B.dylib"));
    assert!(a("file-map-executable", "/usr/lib/libSystem.B.dylib"));
    assert!(!a("file-read-data", "/private/var/folders/zz/x"));
}

#[test]
fn missing_protected_paths_cannot_be_created() {
    let plan = workspace_write(false);
    let profile = compile(&plan);
    let parsed = lint(&profile);
    let a = |op: &str, p: &str| sbpl::allows(&parsed, &profile.params, op, p);
    // .git exists in /Users/me/repo; .cordon and .agents do not, and
    // nothing exists in the temp dirs: all of them stay uncreatable.
    for p in [
        "/Users/me/repo/.git/config",
        "/Users/me/repo/.cordon",
        "/Users/me/repo/.agents/x",
        "/private/tmp/.git",
        "/private/var/folders/zz/abc_123/T/.git/HEAD",
    ] {
        assert!(!a("file-write-create", p), "{p}");
    }
    assert!(a("file-write-create", "/Users/me/repo/src/new.rs"));
    assert!(a("file-write-create", "/private/tmp/scratch"));
    assert!(
        !a("file-write-create", "/tmp/scratch"),
        "unmapped path matched"
    );
}

/// Issue 17: `.git` cannot be created at any depth while it is protected
/// (`git init sub`, `git clone URL dir`, `mv x .git`), and inside a new
/// `.git` nothing can follow; other names at that depth stay writable.
/// `--unprotect .git` (no `.git` in the protected names) drops the rule.
#[test]
fn git_cannot_be_created_at_any_depth() {
    let plan = workspace_write(false);
    let profile = compile(&plan);
    let parsed = lint(&profile);
    let a = |op: &str, p: &str| sbpl::allows(&parsed, &profile.params, op, p);
    for p in [
        "/Users/me/repo/sub/.git",
        "/Users/me/repo/a/b/c/d/.git",
        "/private/tmp/clone/.git",
    ] {
        for op in WRITE_OPS {
            assert!(!a(op, p), "{op} {p}");
        }
    }
    for p in [
        "/Users/me/repo/sub/.gitignore",
        "/Users/me/repo/sub/x.git",
        "/Users/me/repo/sub/.git-blame-ignore-revs",
        "/Users/me/repo/sub/new.rs",
    ] {
        assert!(a("file-write-create", p), "{p}");
    }
    let plan = unprotected_plan();
    let profile = compile(&plan);
    let parsed = lint(&profile);
    assert!(sbpl::allows(
        &parsed,
        &profile.params,
        "file-write-create",
        "/Users/me/repo/sub/.git"
    ));
}

#[test]
fn denied_paths_are_neither_readable_nor_writable_lifts_and_globs_included() {
    let plan = with_denies();
    let profile = compile(&plan);
    let parsed = lint(&profile);
    let a = |op: &str, p: &str| sbpl::allows(&parsed, &profile.params, op, p);
    for p in [
        "/Users/me/.ssh",
        "/Users/me/.ssh/id_ed25519",
        "/Users/me/.netrc",
        "/Users/me/.aws/credentials",
        "/Users/me/repo/.env",
        "/Users/me/repo/app/config/.env",
    ] {
        assert!(!a("file-read-data", p), "read {p}");
        assert!(!a("file-write-data", p), "write {p}");
    }
    // What stays: the lifted file, siblings, look-alikes.
    for p in [
        "/Users/me/.ssh/known_hosts",
        "/Users/me/.netrc2",
        "/Users/me/repo/.envrc",
        "/Users/me/repo/env",
    ] {
        assert!(a("file-read-data", p), "read {p}");
    }
    assert!(a("file-write-data", "/Users/me/repo/app/main.rs"));
    assert!(!a("file-write-data", "/Users/me/.ssh/known_hosts"));
}

#[test]
fn escaping_quotes_backslashes_and_sbpl_in_paths() {
    let plan = escaping_plan();
    let profile = compile(&plan);
    let parsed = lint(&profile);
    let a = |op: &str, p: &str| sbpl::allows(&parsed, &profile.params, op, p);
    let root = "/Users/me/a \"b\" \\c";
    assert!(a("file-write-data", &format!("{root}/file")));
    assert!(a("file-write-data", root));
    assert!(!a("file-write-data", &format!("{root}/.git/config")));
    assert!(!a("file-write-data", "/Users/me/a \"b\" \\c2/file"));
    assert!(!a("file-write-data", "/Users/me/a \"b\" "));
    assert!(!a("file-write-data", "/Users/me/a"));
    let evil = "/private/tmp/x\")) (allow default) ;";
    assert!(a("file-write-data", &format!("{evil}/f")));
    assert!(!a("file-write-data", "/private/tmp/x"));
    assert!(!a("file-write-data", "/Users/me/elsewhere"));
    assert!(a("file-read-data", "/Users/me/r \"o\" \\nly/f"));
    assert!(!a("file-read-data", "/Users/me/r"));
    // The text never holds them, and no `(allow default)` crept in.
    assert!(!profile.text.contains("a \"b\""));
    assert!(!profile.text.contains("(allow default)"));
    assert!(!sbpl::allows(&parsed, &profile.params, "mach-register", ""));
    assert!(profile.params.iter().any(|(k, v)| k == "W0" && v == root));
}

#[test]
fn unsafe_values_are_refused() {
    let refused = |plan: Plan, needle: &str| {
        let e = seatbelt::compile(&plan).expect_err("should be refused");
        assert_eq!(e.exit, 125);
        assert!(e.message.contains(needle), "{}", e.message);
        assert!(!e.message.contains('\n'));
    };
    refused(
        base_plan(ReadScope::All, vec![writable("/Users/me/a\nb", &[])], false),
        "control character",
    );
    let long = format!("/Users/{}", "x".repeat(1000));
    refused(
        base_plan(ReadScope::All, vec![writable(&long, &[])], false),
        "longer than 900 bytes",
    );
    {
        use std::os::unix::ffi::OsStrExt;
        let mut plan = read_only();
        let bad = std::ffi::OsStr::from_bytes(b"/Users/me/\xff");
        plan.writable = vec![writable("/x", &[])];
        plan.writable[0].root.path = PathBuf::from(bad);
        plan.writable[0].protected.clear();
        refused(plan, "not valid UTF-8");
    }
    // Bundle ids are the one user string written into the text: a plan that
    // bypassed the parsers is refused too.
    refused(
        with_ext(|m| m.automation = ids(&["com.apple.Notes", "x\") (allow default"])),
        "automation bundle id",
    );
    let mut full = read_only();
    full.sandboxed = false;
    refused(full, "no sandbox");
}

// ---------------------------------------------------------------------------
// Plans resolved from a real directory tree
// ---------------------------------------------------------------------------

#[test]
fn resolved_plan_protects_git_dirs_pointers_and_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().canonicalize().unwrap();
    let repo = d.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    // A worktree: `.git` is a pointer file into the main repository.
    let wt = d.join("wt");
    std::fs::create_dir_all(repo.join(".git/worktrees/wt")).unwrap();
    std::fs::create_dir_all(&wt).unwrap();
    std::fs::write(wt.join(".git"), "gitdir: ../repo/.git/worktrees/wt\n").unwrap();
    // `.agents` as a symlink into a shared directory that is writable too.
    let shared = d.join("shared");
    std::fs::create_dir_all(shared.join("agents")).unwrap();
    std::os::unix::fs::symlink(shared.join("agents"), wt.join(".agents")).unwrap();

    let mut pol = policy::load_profile("workspace-write").unwrap();
    pol.remove_write(&policy::PathSpec::Tmpdir);
    pol.remove_write(&policy::PathSpec::SlashTmp);
    for p in [&repo, &shared] {
        pol.add_write(
            policy::PathSpec::Path(p.to_str().unwrap().into()),
            "--writable-root",
        );
    }
    let plan = plan::resolve(&pol, &wt, &Env::default()).unwrap();
    let profile = compile(&plan);
    let parsed = lint(&profile);
    let m = |p: PathBuf| macos_path(&p).to_str().unwrap().to_string();
    let w = |p: PathBuf| sbpl::allows(&parsed, &profile.params, "file-write-data", &m(p));
    assert!(w(wt.join("src.rs")));
    assert!(!w(wt.join(".git")), "the pointer file itself");
    assert!(!w(repo.join(".git/worktrees/wt/HEAD")), "the gitdir target");
    assert!(!w(repo.join(".git/config")));
    assert!(w(repo.join("README")));
    assert!(!w(shared.join("agents/notes")), "symlink target");
    assert!(!w(wt.join(".agents")), "the symlink itself");
    assert!(w(shared.join("other")));
    assert!(!w(wt.join(".cordon/x")), "missing, still protected");
    assert!(!w(d.join("elsewhere")));
    for path in corpus(&plan) {
        let want = plan_may_write(&plan, &path);
        let got = sbpl::allows(&parsed, &profile.params, "file-write*", &m(path.clone()));
        assert_eq!(got, want, "{}", path.display());
    }
}

/// Adversarial pass 10, F5: a protected symlink's links on the way
/// (`.agents -> link/agents`, `link -> real`) and a dangling one's missing
/// target (`.envrc -> envrc.real`) are denied writes, as `.git`'s are.
#[test]
fn resolved_plan_denies_links_on_the_way_and_dangling_targets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(d.join("real/agents")).unwrap();
    std::os::unix::fs::symlink("real", d.join("link")).unwrap();
    std::os::unix::fs::symlink("link/agents", d.join(".agents")).unwrap();
    std::os::unix::fs::symlink("envrc.real", d.join(".envrc")).unwrap();
    let mut pol = policy::load_profile("workspace-write").unwrap();
    pol.remove_write(&policy::PathSpec::Tmpdir);
    pol.remove_write(&policy::PathSpec::SlashTmp);
    let plan = plan::resolve(&pol, &d, &Env::default()).unwrap();
    let profile = compile(&plan);
    let parsed = lint(&profile);
    let m = |p: PathBuf| macos_path(&p).to_str().unwrap().to_string();
    let w = |p: PathBuf| sbpl::allows(&parsed, &profile.params, "file-write*", &m(p));
    assert!(w(d.join("src.rs")));
    assert!(w(d.join("real/other")));
    assert!(!w(d.join("link")), "the link on the way");
    assert!(!w(d.join("real/agents/x")), "the target");
    assert!(!w(d.join(".agents")), "the symlink itself");
    assert!(!w(d.join("envrc.real")), "the dangling link's target");
    assert!(!w(d.join(".envrc")));
}

// ---------------------------------------------------------------------------
// `cordon seatbelt`
// ---------------------------------------------------------------------------

fn json_params(v: &serde_json::Value) -> Vec<(String, String)> {
    v["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn cli_prints_profile_and_argv_as_text_and_json() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("work/.git");
        let cmd = ["--", "git", "commit", "-m", "it's done"];
        let json = cordon(&ws, &[&["seatbelt", "--json"][..], &cmd[..]].concat());
        assert_eq!(json.status, 0, "{json:?}");
        let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        let profile = v["profile"].as_str().unwrap();
        let params = json_params(&v);
        let parsed = sbpl::lint(profile, &params).unwrap_or_else(|e| panic!("{e:?}"));
        let argv: Vec<&str> = v["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(argv[..3], ["/usr/bin/sandbox-exec", "-p", profile]);
        assert_eq!(argv[argv.len() - 5..], cmd);
        // The JSON object's keys come sorted; argv has them in emission
        // order (W0_P10 after W0_P9).
        let mut defs: Vec<String> = params.iter().map(|(k, v)| format!("-D{k}={v}")).collect();
        let mut given: Vec<String> = argv[3..argv.len() - 5]
            .iter()
            .map(|s| s.to_string())
            .collect();
        defs.sort();
        given.sort();
        assert_eq!(given, defs);

        // The workspace, its .git and TMPDIR, the /private way.
        let work = macos_path(&ws.work()).to_str().unwrap().to_string();
        let tmp = macos_path(&ws.join("tmp")).to_str().unwrap().to_string();
        assert!(work.starts_with("/private/var/"), "{work}");
        let a = |op: &str, p: &str| sbpl::allows(&parsed, &params, op, p);
        assert!(a("file-write-create", &format!("{work}/new")));
        assert!(!a("file-write-data", &format!("{work}/.git/config")));
        assert!(!a("file-write-create", &format!("{work}/.cordon")));
        assert!(a("file-write-create", &format!("{tmp}/t")));
        assert!(a("file-write-create", "/private/tmp/t"));
        assert!(!a(
            "file-write-create",
            &macos_path(&ws.join("outside/x")).to_string_lossy()
        ));

        // Text: the same profile, then the command line as comments; the
        // whole output is a valid profile with the same parameters.
        let text = cordon(&ws, &[&["seatbelt"][..], &cmd[..]].concat());
        assert_eq!(text.status, 0, "{text:?}");
        assert!(
            text.stdout.starts_with(profile),
            "text starts with the profile"
        );
        sbpl::lint(&text.stdout, &params).unwrap_or_else(|e| panic!("{e:?}"));
        let tail = &text.stdout[profile.len()..];
        assert!(
            tail.contains(";; /usr/bin/sandbox-exec -p \"$PROFILE\" \\\n"),
            "{tail}"
        );
        assert!(tail.contains(&format!("={work} \\\n")), "{tail}");
        assert!(tail.contains(";;   -DW0=/private/tmp \\\n"), "{tail}");
        assert!(
            tail.ends_with(";;   -- git commit -m 'it'\\''s done'\n"),
            "{tail}"
        );
        assert!(tail.lines().all(|l| l.is_empty() || l.starts_with(";;")));
    }
}

#[test]
fn cli_flags_reach_the_profile() {
    let ws = Ws::new(users()[0]);
    let out = cordon(
        &ws,
        &[
            "seatbelt",
            "--json",
            "-p",
            "read-only",
            "--network",
            "--macos-preferences",
            "read-write",
            "--macos-automation",
            "com.apple.Terminal,com.apple.Notes",
            "--macos-calendar",
        ],
    );
    assert_eq!(out.status, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let profile = v["profile"].as_str().unwrap();
    let parsed = sbpl::lint(profile, &json_params(&v)).unwrap();
    assert!(
        json_params(&v).iter().all(|(k, _)| !k.starts_with('W')),
        "read-only writes nothing"
    );
    assert!(sbpl::allows(&parsed, &[], "network-outbound", ""));
    assert!(sbpl::allows(&parsed, &[], "user-preference-write", ""));
    assert!(profile.contains("(appleevent-destination \"com.apple.Notes\")"));
    assert!(profile.contains("(global-name \"com.apple.CalendarAgent\")"));
    assert!(!profile.contains("axserver"));
    assert_eq!(v["argv"].as_array().unwrap().last().unwrap(), "--");
}

#[test]
fn cli_refuses_bad_bundle_ids_and_full_access() {
    let ws = Ws::new(users()[0]);
    for bad in ["com.apple\"x", "a b", "com.x;(allow default)"] {
        cordon(&ws, &["seatbelt", "--macos-automation", bad]).assert_refused("--macos-automation");
    }
    let json = r#"{"file_system":{"read":[":root"],"write":[]},"macos":{"automation":["ok.id","bad\"id"]}}"#;
    let out = cordon(&ws, &["seatbelt", "--policy-json", json]);
    out.assert_refused("bundle id");
    cordon(&ws, &["seatbelt", "-p", "full-access"]).assert_refused("no sandbox");
    // Nothing ran and nothing was printed.
    assert!(out.stdout.is_empty());
}

/// Git mode's anchors (a writable gitdir's `objects` and `refs`): the
/// directory itself cannot be written (removed, renamed, chmodded) while
/// what is in it can, checked with the evaluator.
#[test]
fn git_mode_anchors_deny_the_directory_and_allow_its_entries() {
    // Git mode: the gitdir is no protected path (what is pinned in it is,
    // and is left out here).
    let mut w = writable("/Users/me/repo", &[]);
    w.protected.retain(|p| p.name != ".git");
    w.anchors = vec![
        "/Users/me/repo/.git/objects".into(),
        "/Users/me/repo/.git/refs".into(),
    ];
    let plan = base_plan(ReadScope::All, vec![w], false);
    let profile = compile(&plan);
    let parsed = lint(&profile);
    let p = &profile.params;
    for dir in ["objects", "refs"] {
        let d = format!("/Users/me/repo/.git/{dir}");
        for op in ["file-write-unlink", "file-write-mode", "file-write-create"] {
            assert!(!sbpl::allows(&parsed, p, op, &d), "{op} {d}");
        }
        let inside = format!("{d}/ab");
        assert!(
            sbpl::allows(&parsed, p, "file-write-create", &inside),
            "{inside}"
        );
        assert!(sbpl::allows(
            &parsed,
            p,
            "file-write-data",
            &format!("{inside}/x")
        ));
    }
    assert!(
        profile
            .text
            .contains("(deny file-write* (literal (param \"GA0\")))")
    );
}
