//! Protected paths and the read-only world (issue: the private mount
//! namespace). Every denial is checked beside a control run without cordon
//! that succeeds, as root and as an unprivileged user, and the files are
//! checked unchanged afterwards.

// Linux only: mount namespaces (and Linux xattr calls).
#![cfg(target_os = "linux")]

mod support;

use std::path::Path;

use support::*;

/// A repository with one commit ("init") in `rel`.
fn repo(ws: &Ws, rel: &str) {
    let dir = ws.mkdir(rel);
    ws.write(&format!("{rel}/README"), "hello\n");
    git(ws, &dir, &["init", "-q"]);
    git(ws, &dir, &["add", "README"]);
    git(ws, &dir, &["commit", "-q", "-m", "init"]);
}

/// Every probe JSON line of a run (a shell running several probes).
fn lines(out: &Outcome) -> Vec<serde_json::Value> {
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn errno_of(v: &serde_json::Value) -> &str {
    v["error"].as_str().unwrap_or("ok")
}

fn mount_ns_of(out: &Outcome) -> String {
    assert_eq!(out.status, 0, "{out:?}");
    out.stdout.trim().to_string()
}

fn host_mountinfo() -> String {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap()
}

#[test]
fn git_repository_stays_read_only_and_git_still_works() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws, "work");
        // A new file in the workspace: allowed.
        sandboxed(&ws, &[], &["create", &ws.s("work/new")]).assert_ok();

        // .git/config: the user may append to it, the sandbox may not.
        let config = ws.s("work/.git/config");
        let before = ws.read("work/.git/config");
        control(&ws, &["write", &config]).assert_ok();
        std::fs::write(&config, &before).unwrap();
        sandboxed(&ws, &[], &["write", &config]).assert_errno("EROFS");
        assert_eq!(ws.read("work/.git/config"), before, "{user:?}");

        // A new hook: same.
        let hook = ws.s("work/.git/hooks/pre-commit");
        control(&ws, &["create", &hook]).assert_ok();
        std::fs::remove_file(&hook).unwrap();
        sandboxed(&ws, &[], &["create", &hook]).assert_errno("EROFS");
        assert!(!Path::new(&hook).exists(), "{user:?}: hook created");

        // Nor can .git be moved aside and replaced.
        let out = sandboxed(&ws, &[], &["rename", &ws.s("work/.git"), &ws.s("work/g")]);
        out.assert_errno("EBUSY");

        // git reads the repository as usual.
        let out = cordon(&ws, &["run", "--", "git", "status", "--porcelain"]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        assert!(out.stdout.contains("?? new"), "{out:?}");
        let out = cordon(&ws, &["run", "--", "git", "log", "--oneline"]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        assert!(out.stdout.contains("init"), "{out:?}");
    }
}

#[test]
fn linked_worktree_gitdir_and_its_main_repository_are_read_only() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws, "outside/main");
        let wt = ws.s("work/wt");
        git(
            &ws,
            &ws.join("outside/main"),
            &["worktree", "add", "-q", &wt],
        );
        let pointer = ws.read("work/wt/.git");
        assert!(pointer.starts_with("gitdir:"), "{pointer:?}");
        let gitdir = ws.s("outside/main/.git/worktrees/wt");
        let marker = format!("{gitdir}/cordon-marker");
        let config = ws.s("outside/main/.git/config");
        let config_before = ws.read("outside/main/.git/config");
        control(&ws, &["create", &marker]).assert_ok();
        std::fs::remove_file(&marker).unwrap();
        control(&ws, &["write", &config]).assert_ok();
        std::fs::write(&config, &config_before).unwrap();

        // The worktree alone is writable: the main repository lies outside
        // every root. Then with it writable too: the gitdir and the main
        // repository's git directory are pinned read-only inside it.
        for flags in [vec!["-C", "wt"], vec!["-C", "wt", "-w", &ws.s("outside")]] {
            sandboxed(&ws, &flags, &["create", &ws.s("work/wt/new")]).assert_ok();
            std::fs::remove_file(ws.join("work/wt/new")).unwrap();
            sandboxed(&ws, &flags, &["create", &marker]).assert_errno_in(&["EROFS", "EACCES"]);
            sandboxed(&ws, &flags, &["write", &config]).assert_errno_in(&["EROFS", "EACCES"]);
            sandboxed(&ws, &flags, &["write", &ws.s("work/wt/.git")]).assert_errno("EROFS");
            let args = [&["run"][..], &flags, &["--", "git", "status"]].concat();
            let out = cordon(&ws, &args);
            assert_eq!(out.status, 0, "{user:?} {flags:?}: {out:?}");
        }
        // With `outside` writable, the main checkout itself is writable and
        // only its git directory is pinned.
        let flags = ["-C", "wt", "-w", &ws.s("outside")];
        sandboxed(&ws, &flags, &["create", &ws.s("outside/main/new")]).assert_ok();
        sandboxed(&ws, &flags, &["create", &marker]).assert_errno("EROFS");
        assert!(!Path::new(&marker).exists());
        assert_eq!(ws.read("outside/main/.git/config"), config_before);
        assert_eq!(ws.read("work/wt/.git"), pointer);
    }
}

#[test]
fn symlinked_protected_path_cannot_be_written_or_swapped() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("work/decoy");
        std::os::unix::fs::symlink("decoy", ws.join("work/.cordon")).unwrap();
        // The user can write through the link and replace it.
        control(&ws, &["write", &ws.s("work/.cordon/x")]).assert_ok();
        std::fs::remove_file(ws.join("work/decoy/x")).unwrap();

        // In one sandboxed session: write through the link, remove it, put
        // a directory in its place, write again, move the target aside.
        let script = "$P write .cordon/x; $P unlink .cordon; $P mkdir .cordon; \
                      $P write .cordon/x; $P rename decoy decoy2; $P write decoy/y";
        let out = sandboxed_sh(&ws, &[], script);
        let got: Vec<_> = lines(&out)
            .iter()
            .map(|v| errno_of(v).to_string())
            .collect();
        assert_eq!(
            got,
            ["EROFS", "EBUSY", "EEXIST", "EROFS", "EBUSY", "EROFS"],
            "{user:?}: {out:?}"
        );
        // Nothing landed anywhere, and the link is as it was.
        assert_eq!(std::fs::read_dir(ws.join("work/decoy")).unwrap().count(), 0);
        let link = std::fs::read_link(ws.join("work/.cordon")).unwrap();
        assert_eq!(link, Path::new("decoy"));
        assert!(!ws.join("work/decoy2").exists());
    }
}

/// Mode, owner and mtime of a file, as the host sees them.
fn meta(p: &Path) -> (u32, u32, u32, i64) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).unwrap();
    (m.mode(), m.uid(), m.gid(), m.mtime())
}

fn has_xattr(p: &Path) -> bool {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a size query with a NULL buffer.
    let n = unsafe { libc::getxattr(c.as_ptr(), c"user.cordon".as_ptr(), std::ptr::null_mut(), 0) };
    n >= 0
}

#[test]
fn metadata_outside_the_roots_cannot_change() {
    // Root: always (plain workspace and git workspace). An unprivileged user:
    // in a git workspace, where the namespace exists anyway.
    let mut cases = vec![];
    for user in users() {
        if user == User::Root {
            cases.push((user, false));
        }
        cases.push((user, true));
    }
    for (user, with_git) in cases {
        let ws = Ws::new(user);
        if with_git {
            repo(&ws, "work");
        }
        let (c, t) = (ws.write("outside/c", "c"), ws.write("outside/t", "t"));
        let (cs, ts) = (ws.s("outside/c"), ws.s("outside/t"));
        // Root gives the file away; the user "gives" it to itself.
        let owner = "65534";
        let ops: [Vec<&str>; 4] = [
            vec!["chmod", &cs, "777"],
            vec!["chown", &cs, owner, owner],
            vec!["utime", &cs],
            vec!["setxattr", &cs],
        ];
        let before = meta(&t);
        for op in &ops {
            control(&ws, op).assert_ok();
            let mut op = op.clone();
            op[1] = &ts;
            sandboxed(&ws, &[], &op).assert_errno("EROFS");
        }
        assert_ne!(meta(&c), meta(&t), "{user:?}: the control changed nothing?");
        assert!(has_xattr(&c));
        assert_eq!(
            meta(&t),
            before,
            "{user:?} git={with_git}: metadata changed"
        );
        assert!(!has_xattr(&t), "{user:?}: xattr set");
    }
}

#[test]
fn device_nodes_made_in_a_writable_root_cannot_be_opened() {
    // Only root can make device nodes. Landlock does not let it make one in
    // a writable root, and one already there is kept inert by the nodev bind.
    if !is_root() {
        return eprintln!("note: not root, so this test is skipped");
    }
    let ws = Ws::new(User::Root);
    let node = ws.s("work/null");
    control(&ws, &["mknod", &node]).assert_ok();
    control(&ws, &["write", &node]).assert_ok();
    let out = sandboxed_sh(&ws, &[], "$P mknod null2; $P write null");
    let got: Vec<_> = lines(&out)
        .iter()
        .map(|v| errno_of(v).to_string())
        .collect();
    assert_eq!(got, ["EACCES", "EACCES"], "{out:?}");
    assert!(!ws.join("work/null2").exists());
    // The always-usable devices still work.
    sandboxed(&ws, &[], &["write", "/dev/null"]).assert_ok();
}

#[test]
fn mounts_cannot_be_undone_from_inside() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws, "work");
        // In a throw-away namespace the probe can clear a read-only flag...
        let p = probe_bin().to_str().unwrap();
        let ns = if user == User::Root { "-m" } else { "-Urm" };
        let argv = ["unshare", ns, p, "mount-setattr-rw", "/dev/shm"];
        run_as(user, &ws.work(), &ws.env(), &argv).assert_ok();
        // ...but not under cordon, whatever it aims at.
        for target in [ws.s("work/.git"), "/".to_string()] {
            sandboxed(&ws, &[], &["mount-setattr-rw", &target]).assert_errno("EPERM");
        }
        sandboxed(&ws, &[], &["mount-tmpfs", &ws.s("work/.git")]).assert_errno("EPERM");
        // Adversarial pass 9: open_tree_attr (Linux 6.15) was missing from
        // the denied mount API.
        control(&ws, &["open-tree-attr", "/"]).assert_ok();
        sandboxed(&ws, &[], &["open-tree-attr", "/"]).assert_errno("EPERM");
        // Root's open_by_handle_at would open .git/config through the
        // writable workspace mount: the syscall is denied.
        let config = ws.s("work/.git/config");
        let by_handle = ["open-by-handle", &config, &ws.s("work")];
        if user == User::Root {
            control(&ws, &by_handle).assert_ok();
        }
        let out = sandboxed(&ws, &[], &by_handle);
        out.assert_errno("EPERM");
        assert_eq!(out.json()["step"], "open_by_handle_at", "{out:?}");
        sandboxed(&ws, &[], &["write", &ws.s("work/.git/config")]).assert_errno("EROFS");
    }
}

#[test]
fn no_namespace_is_refused_unless_best_effort() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws, "work");
        let (p, c) = (
            probe_bin().to_str().unwrap(),
            cordon_bin().to_str().unwrap(),
        );
        let config = ws.s("work/.git/config");
        let config_before = ws.read("work/.git/config");
        let git_dir = ws.s("work/.git");
        // unshare denied outright (Docker's default profile, a sysctl), and
        // unshare allowed but the next step refused (AppArmor's userns
        // restriction lets unshare succeed and denies what follows).
        for (deny, step) in [
            ("unshare=EPERM", "unshare"),
            ("mount_setattr=EPERM", "make every mount private"),
        ] {
            let run = |extra: &[&str], op: &[&str]| {
                let mut argv = vec![p, "deny-syscall", deny, "--", c, "run"];
                argv.extend_from_slice(extra);
                argv.push("--");
                argv.extend_from_slice(op);
                run_as(user, &ws.work(), &ws.env(), &argv)
            };
            let marker = ws.s("work/marker");
            let out = run(&[], &[p, "create", &marker]);
            out.assert_refused("no private mount namespace");
            // A long list is cut, and says where the rest is.
            for needle in [step, "--best-effort", "cordon run --dry-run` lists them"] {
                assert!(out.stderr.contains(needle), "{needle}: {out:?}");
            }
            // Every gap it leaves open is named, metadata first.
            match user {
                User::Nobody => assert!(out.stderr.contains("your own files"), "{out:?}"),
                User::Root => assert!(out.stderr.contains("chmod, chown"), "{out:?}"),
            }
            assert!(
                !ws.join("work/marker").exists(),
                "{user:?}: the command ran"
            );

            // --best-effort: a warning per unprotected path, then the run.
            // (Plus one per host daemon socket left unmasked, if any here.)
            let out = run(&["--best-effort"], &[p, "write", &config]);
            let warnings: Vec<&str> = out
                .stderr
                .lines()
                .filter(|l| l.starts_with("cordon: warning: not enforced:"))
                .collect();
            // Metadata, devices, IPC, each protected path (.git pinned or
            // held). (Leftovers are still killed: the reaper needs no
            // namespace.)
            for what in [
                "read-only-world:".to_string(),
                "devices:".into(),
                "ipc:".into(),
                format!("protected: {git_dir} stays writable"),
            ] {
                assert!(
                    warnings.iter().any(|w| w.contains(&what)),
                    "{what}: {out:?}"
                );
            }
            // The warning is true: without the namespace .git is writable.
            out.assert_ok();
            std::fs::write(&config, &config_before).unwrap();
            // And this process never entered a namespace half-way.
            let out = run(&["--best-effort"], &["readlink", "/proc/self/ns/mnt"]);
            let host = std::fs::read_link("/proc/self/ns/mnt").unwrap();
            assert_eq!(out.stdout.trim(), host.to_str().unwrap(), "{out:?}");
        }
    }
}

#[test]
fn ids_stay_the_same_and_capabilities_are_dropped() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws, "work");
        let outside = control(&ws, &["getuid"]).json();
        let inside = sandboxed(&ws, &[], &["getuid"]).json();
        for k in ["uid", "gid", "euid", "egid"] {
            assert_eq!(inside[k], outside[k], "{user:?} {k}");
        }
        let id_out = run_as(user, &ws.work(), &ws.env(), &["id", "-u"]);
        let id_in = cordon(&ws, &["run", "--", "id", "-u"]);
        assert_eq!(id_in.status, 0, "{id_in:?}");
        assert_eq!(id_in.stdout, id_out.stdout, "{user:?}");

        let caps = |out: Outcome| -> Vec<String> {
            out.stdout
                .lines()
                .filter(|l| l.starts_with("Cap"))
                .map(String::from)
                .collect()
        };
        let status = ["cat", "/proc/self/status"];
        let inside = caps(cordon(&ws, &[&["run", "--"][..], &status].concat()));
        let outside = caps(run_as(user, &ws.work(), &ws.env(), &status));
        match user {
            // Root entered only a mount namespace: it gained nothing, and
            // kept only Docker's default set (0xa80425fb; see SECURITY.md).
            User::Root => {
                assert_ne!(inside, outside);
                let want = [
                    "CapInh:\t0000000000000000",
                    "CapPrm:\t00000000a80425fb",
                    "CapEff:\t00000000a80425fb",
                    "CapBnd:\t00000000a80425fb",
                    "CapAmb:\t0000000000000000",
                ];
                assert_eq!(inside, want, "{outside:?}");
            }
            // The user namespace's capabilities are all gone, bounding set too.
            User::Nobody => {
                assert_eq!(inside.len(), 5, "{inside:?}");
                for l in &inside {
                    assert!(l.ends_with("\t0000000000000000"), "{inside:?}");
                }
            }
        }
    }
}

#[test]
fn every_caller_gets_the_namespace() {
    let host = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    let host = host.to_str().unwrap();
    for user in users() {
        // With or without anything to pin: the read-only world, the
        // private /dev and IPC namespace are for everyone (issue 11 item 10).
        let plain = Ws::new(user);
        let with_git = Ws::new(user);
        repo(&with_git, "work");
        let ns =
            |ws: &Ws| mount_ns_of(&cordon(ws, &["run", "--", "readlink", "/proc/self/ns/mnt"]));
        assert_ne!(ns(&with_git), host, "{user:?}");
        assert_ne!(ns(&plain), host, "{user:?}");
        let ipc = |ws: &Ws| cordon(ws, &["run", "--", "readlink", "/proc/self/ns/ipc"]);
        let host_ipc = std::fs::read_link("/proc/self/ns/ipc").unwrap();
        assert_ne!(ipc(&plain).stdout.trim(), host_ipc.to_str().unwrap());
    }
}

#[test]
fn dev_shm_is_private_and_the_host_mount_table_unchanged() {
    let before = host_mountinfo();
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws, "work");
        let shm = format!(
            "/dev/shm/cordon-mounts-test-{}-{user:?}",
            std::process::id()
        );
        control(&ws, &["write", &shm]).assert_ok();
        std::fs::remove_file(&shm).unwrap();
        sandboxed(&ws, &[], &["write", &shm]).assert_ok();
        assert!(
            !Path::new(&shm).exists(),
            "{user:?}: /dev/shm write reached the host"
        );
        sandboxed(&ws, &[], &["write", &ws.s("work/.git/config")]).assert_errno("EROFS");
    }
    assert_eq!(host_mountinfo(), before, "a mount leaked to the host");
}

#[test]
fn dry_run_shows_mount_ops_and_each_mechanism() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws, "work");
        let out = cordon(&ws, &["run", "--dry-run", "--", "true"]);
        assert_eq!(out.status, 0, "{out:?}");
        let w = ws.work().canonicalize().unwrap();
        let w = w.display();
        let unshare = match user {
            User::Root => "op unshare mount+ipc namespace".to_string(),
            User::Nobody => format!(
                "op unshare user+mount+ipc namespace (uid {NOBODY} and gid {NOBODY} mapped to themselves)"
            ),
        };
        for needle in [
            "mounts: private mount namespace".to_string(),
            unshare,
            "op make-private / (recursive)".into(),
            "op read-only / (recursive)".into(),
            format!("op bind-rw {w} (nosuid,nodev)"),
            format!("op bind-ro {w}/.git"),
            "shm a private tmpfs".into(),
            "pts a private devpts instance".into(),
            format!("op placeholder {w}/.agents (empty directory"),
            format!("protected {w}/.git: mount (read-only bind of {w}/.git"),
            format!("protected {w}/.agents: mount (missing: a read-only placeholder"),
        ] {
            assert!(out.stdout.contains(&needle), "{needle}: {}", out.stdout);
        }
    }
}

/// The processes whose command line holds `token` (sentinels are forked
/// from cordon, so they keep its argv).
fn processes_with(token: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| c.windows(token.len()).any(|w| w == token.as_bytes()))
        })
        .count()
}

/// Issue 19: back to back, each run's sentinel used to wait out its grace
/// second, so a second of runs left that many processes (and their locks)
/// for every later run to walk past. A sentinel whose placeholders another
/// run holds now ends at once; only the last one out waits, and the
/// placeholders still go once the runs are over.
#[test]
fn back_to_back_runs_leave_one_sentinel_waiting() {
    for user in users() {
        let ws = Ws::new(user);
        let token = format!("cordon-b2b-{}-{}", std::process::id(), user.uid());
        for _ in 0..15 {
            // Not /tmp, which the other tests' runs share at the same time.
            let out = cordon(&ws, &["run", "--exclude-slash-tmp", "--", "true", &token]);
            assert_eq!(out.status, 0, "{out:?}");
        }
        let lingering = processes_with(&token);
        // One, or a few where the runs took longer than the grace second.
        assert!(
            (1..=4).contains(&lingering),
            "{user:?}: {lingering} sentinels of 15 runs are still waiting"
        );
        wait_for_placeholders(&ws);
        let gone = (0..300).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            processes_with(&token) == 0
        });
        assert!(gone, "{user:?}: sentinels outlived the placeholders");
    }
}

/// Each writable root's copy is attached back onto the directory its
/// snapshot opened and checked, or, where the hard limit on open files
/// leaves no room for two descriptors a root, onto the root looked up
/// again: both ways every root is writable, and beside them the world is
/// read-only. 80 roots: two descriptors a root and the margin fit a hard
/// limit of 4096, not one of 200 (which nobody cannot raise, nor root
/// without `CAP_SYS_RESOURCE`, as in this project's containers).
#[test]
fn writable_roots_are_bound_back_with_or_without_room_for_two_descriptors_a_root() {
    const ROOTS: usize = 80;
    for user in users() {
        let ws = Ws::new(user);
        // Nothing protected: each root's protected names would take more
        // placeholders than a run may make.
        let mut profile =
            String::from("[file_system]\nread = [\":root\"]\nprotected = []\nwrite = [");
        ws.mkdir("roots");
        for i in 0..ROOTS {
            ws.mkdir(&format!("roots/r{i}"));
            profile.push_str(&format!("{:?}, ", ws.s(&format!("roots/r{i}"))));
        }
        profile.push_str("]\n");
        ws.write("profile.toml", &profile);
        let flags = ["-p".to_string(), ws.s("profile.toml")];
        let outside = ws.s("roots/outside");
        control(&ws, &["create", &outside]).assert_ok();
        std::fs::remove_file(&outside).unwrap();
        let script = format!(
            "for i in $(seq 0 {}); do $P create {}/r$i/f; done; $P create {outside}",
            ROOTS - 1,
            ws.s("roots"),
        );
        let script = format!("P={}; {script}", probe_bin().display());
        for limit in ["4096", "200"] {
            let nofile = format!("--nofile={limit}:{limit}");
            let mut argv = vec![
                "prlimit",
                &nofile,
                "--",
                cordon_bin().to_str().unwrap(),
                "run",
            ];
            argv.extend(flags.iter().map(String::as_str));
            let dry: Vec<&str> = argv
                .iter()
                .copied()
                .chain(["--dry-run", "--", "true"])
                .collect();
            let out = run_as(ws.user, &ws.work(), &ws.env(), &dry);
            assert_eq!(out.status, 0, "{user:?} {limit}: {out:?}");
            assert!(
                out.stdout
                    .contains(&format!("op bind-rw {}/r{} ", ws.s("roots"), ROOTS - 1)),
                "{user:?}: the roots are bound back in a namespace: {}",
                out.stdout
            );
            argv.extend(["--", "sh", "-c", &script]);
            let out = run_as(ws.user, &ws.work(), &ws.env(), &argv);
            // 1: the last probe's, refused outside the roots.
            assert_eq!(out.status, 1, "{user:?} {limit}: {out:?}");
            let results = lines(&out);
            assert_eq!(results.len(), ROOTS + 1, "{user:?} {limit}: {out:?}");
            for (i, r) in results[..ROOTS].iter().enumerate() {
                assert_eq!(errno_of(r), "ok", "{user:?} {limit}: root r{i}: {r}");
                std::fs::remove_file(ws.join(&format!("roots/r{i}/f"))).unwrap();
            }
            assert_eq!(
                errno_of(&results[ROOTS]),
                "EROFS",
                "{user:?} {limit}: {out:?}"
            );
            assert!(!Path::new(&outside).exists(), "{user:?} {limit}");
            wait_for_placeholders(&ws);
        }
    }
}

/// A directory root under `/dev` is `nodev` like any other: the host's
/// `/dev/shm` granted whole (`-w /dev/shm/DIR`) holds whatever device
/// nodes root made there, and none of them opens inside (adversarial pass
/// 30: a block device did, past the private /dev's list).
#[test]
fn a_directory_root_under_dev_opens_no_device_node() {
    if !is_root() {
        eprintln!("skipped: only root can make the device node this needs");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("cordon-nodev-")
        .tempdir_in("/dev/shm")
        .unwrap();
    let node = dir.path().join("null");
    let c = std::ffi::CString::new(node.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: valid C string; /dev/null's numbers.
    let rc = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(rc, 0, "mknod: {}", std::io::Error::last_os_error());
    use std::os::unix::fs::PermissionsExt as _;
    // Past the umask: anyone may open it, outside the sandbox.
    std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o666)).unwrap();
    let root = dir.path().to_str().unwrap();
    let node = node.to_str().unwrap();
    for user in users() {
        let ws = Ws::new(user);
        if user == User::Nobody {
            std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).unwrap();
        }
        control(&ws, &["open", node, "w"]).assert_ok();
        sandboxed(&ws, &["-w", root], &["open", node, "w"]).assert_errno("EACCES");
        // The root itself stays writable.
        let file = format!("{root}/f");
        sandboxed(&ws, &["-w", root], &["create", &file]).assert_ok();
        std::fs::remove_file(&file).unwrap();
        wait_for_placeholders(&ws);
    }
}

/// Where the kernel has no `open_tree_attr` (before Linux 6.15, or an
/// enclosing filter that refuses it), every copy is made in two calls
/// instead, with the same flags: roots writable, protected paths and the
/// world read-only.
#[test]
fn the_mounts_are_the_same_without_open_tree_attr() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws, "work");
        let new = ws.s("work/new");
        let config = ws.s("work/.git/config");
        ws.mkdir("outside");
        let outside = ws.s("outside/file");
        control(&ws, &["create", &outside]).assert_ok();
        std::fs::remove_file(&outside).unwrap();
        let before = ws.read("work/.git/config");
        control(&ws, &["write", &config]).assert_ok();
        std::fs::write(&config, &before).unwrap();
        let probe = probe_bin().to_str().unwrap();
        for (op, errno) in [
            (vec!["create", new.as_str()], "ok"),
            (vec!["write", config.as_str()], "EROFS"),
            (vec!["create", outside.as_str()], "EROFS"),
        ] {
            let mut argv = vec![probe, "deny-syscall", "open_tree_attr=ENOSYS", "--"];
            argv.extend([cordon_bin().to_str().unwrap(), "run", "--", probe]);
            argv.extend(&op);
            let out = run_as(ws.user, &ws.join("work"), &ws.env(), &argv);
            let got = lines(&out);
            assert_eq!(got.len(), 1, "{user:?} {op:?}: {out:?}");
            assert_eq!(errno_of(&got[0]), errno, "{user:?} {op:?}: {out:?}");
        }
        std::fs::remove_file(&new).unwrap();
        wait_for_placeholders(&ws);
    }
}
