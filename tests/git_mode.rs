//! Git mode (`--git-commits`, issue 18 item 4): `git add` and `git commit`
//! work inside the sandbox, while what git reads as config, runs, or
//! follows to another gitdir stays read-only. Real git, root and an
//! unprivileged user; each sandboxed run beside the same run without the
//! mode (the default pins the whole gitdir) or without cordon.

mod support;

use std::path::{Path, PathBuf};

use support::*;

/// A repository in `work/` with one commit and a `commondir` of `.` (git
/// mode asks for one), and an uncommitted `f`.
fn repo(ws: &Ws) {
    let work = ws.work();
    git(ws, &work, &["init", "-q"]);
    git(ws, &work, &["commit", "-q", "--allow-empty", "-m", "one"]);
    ws.write("work/.git/commondir", ".\n");
    ws.write("work/f", "content\n");
}

/// The control's repository, `outside/ctl`, without commits: the attack
/// done there without cordon shows what the sandbox prevents.
fn control_repo(ws: &Ws) -> PathBuf {
    let ctl = ws.mkdir("outside/ctl");
    git(ws, &ctl, &["init", "-q"]);
    ctl
}

/// `cordon run FLAGS -- git -c ID... ARGS` in `work/`.
fn sandboxed_git(ws: &Ws, flags: &[&str], args: &[&str]) -> Outcome {
    let mut argv = vec!["run"];
    argv.extend_from_slice(flags);
    argv.extend(["--", "git"]);
    argv.extend(GIT_ID);
    argv.extend_from_slice(args);
    cordon(ws, &argv)
}

fn ok(out: Outcome) -> Outcome {
    assert_eq!(out.status, 0, "{out:?}");
    out
}

/// Placeholders go a second after their sandbox is empty.
fn gone_soon(p: &Path) -> bool {
    (0..50).any(|_| {
        let gone = !p.exists();
        if !gone {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        gone
    })
}

fn commits(ws: &Ws, dir: &Path) -> usize {
    git(ws, dir, &["rev-list", "--count", "HEAD", "--"])
        .stdout
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn git_add_and_commit_work_in_git_mode_and_not_without_it() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        // Without the mode the gitdir is pinned whole: git cannot even
        // take the index lock.
        let r = sandboxed_git(&ws, &[], &["add", "f"]);
        assert_eq!(r.status, 128, "{r:?}");
        assert!(r.stderr.contains("index.lock"), "{r:?}");
        // With it, add and commit go through, and the commit is there
        // outside the sandbox afterwards.
        ok(sandboxed_git(&ws, &["--git-commits"], &["add", "f"]));
        ok(sandboxed_git(
            &ws,
            &["--git-commits"],
            &["commit", "-q", "-m", "two"],
        ));
        assert_eq!(commits(&ws, &ws.work()), 2);
        // Branches and tags (refs) too.
        ok(sandboxed_git(&ws, &["--git-commits"], &["tag", "v1"]));
        ok(sandboxed_git(&ws, &["--git-commits"], &["branch", "side"]));
        // The control: the same commit without cordon.
        ws.write("work/g", "more\n");
        git(&ws, &ws.work(), &["add", "g"]);
        git(&ws, &ws.work(), &["commit", "-q", "-m", "three"]);
        assert_eq!(commits(&ws, &ws.work()), 3);
    }
}

#[test]
fn git_mode_keeps_config_hooks_info_modules_and_pointers_read_only() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        let g = |rel: &str| ws.s(&format!("work/.git/{rel}"));
        let mode = ["--git-commits"];
        // Files git reads as config or runs: EROFS, as without the mode.
        for target in [
            g("config"),
            g("hooks/pre-commit"),
            g("info/attributes"),
            g("info/exclude"),
            g("commondir"),
        ] {
            sandboxed(&ws, &mode, &["write", &target]).assert_errno("EROFS");
            control(&ws, &["stat", &target]);
        }
        // A missing modules directory is held: no submodule gitdir can be
        // planted for a later `git submodule update`.
        sandboxed(&ws, &mode, &["mkdir", &g("modules")]).assert_errno("EEXIST");
        // Inside the placeholder (mode 0444): root passes the mode and meets
        // the read-only mount; an unprivileged user cannot search it.
        let inside = if user == User::Root {
            "EROFS"
        } else {
            "EACCES"
        };
        sandboxed(&ws, &mode, &["mkdir", &g("modules/x")]).assert_errno(inside);
        // The pinned entries and the gitdir itself cannot be moved away
        // and replaced.
        sandboxed(&ws, &mode, &["rename", &g("hooks"), &g("hooks.old")]).assert_errno("EBUSY");
        sandboxed(
            &ws,
            &mode,
            &["rename", &ws.s("work/.git"), &ws.s("work/.git.old")],
        )
        .assert_errno("EBUSY");
        // Data is writable: objects, refs, index, HEAD, logs.
        for data in [
            "objects/x",
            "refs/heads/y",
            "index.new",
            "ORIG_HEAD",
            "logs/z",
        ] {
            sandboxed(&ws, &mode, &["write", &g(data)]).assert_ok();
        }
        assert!(ws.read("work/.git/config").contains("[core]"));
        assert!(!ws.join("work/.git/hooks/pre-commit").exists());
        assert!(gone_soon(&ws.join("work/.git/modules")));
    }
}

/// A gitdir without `commondir` would let a command plant one that moves
/// the repository's config; git mode refuses it with the fix, before
/// anything runs.
#[test]
fn git_mode_refuses_a_gitdir_without_commondir() {
    for user in users() {
        let ws = Ws::new(user);
        git(&ws, &ws.work(), &["init", "-q"]);
        sandboxed_git(&ws, &["--git-commits"], &["status"])
            .assert_refused("has no commondir file")
            .assert_refused("echo . >");
        // The default (the gitdir pinned whole) needs no such file.
        ok(sandboxed_git(&ws, &[], &["status", "--short"]));
    }
}

/// A linked worktree: commits from it work (with the main repository
/// writable), and its pointers stay pinned.
#[test]
fn git_mode_in_a_linked_worktree_pins_its_pointers() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        git(&ws, &ws.work(), &["worktree", "add", "-q", &ws.s("tmp/wt")]);
        let wt = ws.join("tmp/wt");
        let admin = ws.s("work/.git/worktrees/wt");
        ws.write("tmp/wt/h", "in the worktree\n");
        let mut argv = vec![cordon_bin().to_str().unwrap(), "run", "--git-commits", "-w"];
        let work = ws.s("work");
        argv.extend([work.as_str(), "--", "git"]);
        argv.extend(GIT_ID);
        let add: Vec<&str> = argv.iter().copied().chain(["add", "h"]).collect();
        ok(run_as(user, &wt, &ws.env(), &add));
        let commit: Vec<&str> = argv
            .iter()
            .copied()
            .chain(["commit", "-q", "-m", "wt"])
            .collect();
        ok(run_as(user, &wt, &ws.env(), &commit));
        assert_eq!(commits(&ws, &wt), 2);
        // The worktree's gitdir stays a repository: its HEAD read-only,
        // itself not to be moved (its `.git` pointer file would then lead
        // nowhere, which stops git's discovery: no fallback either way).
        let in_wt = |op: &[&str]| {
            let mut argv = vec![
                cordon_bin().to_str().unwrap(),
                "run",
                "--git-commits",
                "-w",
                work.as_str(),
                "--",
                probe_bin().to_str().unwrap(),
            ];
            argv.extend_from_slice(op);
            run_as(user, &wt, &ws.env(), &argv)
        };
        in_wt(&["write", &format!("{admin}/HEAD")]).assert_errno("EROFS");
        in_wt(&["rename", &admin, &format!("{admin}.x")]).assert_errno("EBUSY");
        in_wt(&["rename", &ws.s("work/.git/objects"), &ws.s("work/.git/o")]).assert_errno("EBUSY");
        for pointer in ["gitdir", "commondir"] {
            let p = format!("{admin}/{pointer}");
            let argv = [
                cordon_bin().to_str().unwrap(),
                "run",
                "--git-commits",
                "-w",
                &work,
                "--",
                probe_bin().to_str().unwrap(),
                "write",
                &p,
            ];
            run_as(user, &wt, &ws.env(), &argv).assert_errno("EROFS");
        }
        // The worktree's own .git pointer file too.
        sandboxed(
            &ws,
            &["--git-commits", "-w", &ws.s("tmp")],
            &["write", &ws.s("tmp/wt/.git")],
        )
        .assert_errno("EROFS");
    }
}

/// The attack of the review: garbage in `.git/HEAD` (or `objects` moved
/// away) makes the gitdir no repository, and a `HEAD`, `objects/`, `refs/`
/// and `config` planted in the worktree make git's discovery take the
/// worktree itself for a bare repository, whose `core.fsmonitor` the
/// user's next `git status` outside runs.
const ATTACK: &str = r#"echo garbage > .git/HEAD; echo "write .git/HEAD rc=$?"
mkdir -p objects refs && echo "ref: refs/heads/master" > HEAD
printf '[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = %s\n\tfsmonitor = "id > %s/PWNED; false"\n' "$PWD" "$PWD" > config; echo "plant rc=$?"
"#;

/// `git status` in `dir` as the user, without cordon.
fn status(ws: &Ws, dir: &Path) -> Outcome {
    run_as(ws.user, dir, &ws.env(), &["git", "status", "--short"])
}

#[test]
fn git_mode_keeps_the_gitdir_a_repository_against_the_planted_bare_repository() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        ws.write("atk1.sh", ATTACK);
        // The control: the attack without cordon, in a repository of its
        // own, runs the payload at the user's next `git status`.
        let ctl = control_repo(&ws);
        git(&ws, &ctl, &["commit", "-q", "--allow-empty", "-m", "one"]);
        let out = run_as(user, &ctl, &ws.env(), &["sh", &ws.s("atk1.sh")]);
        assert!(out.stdout.contains("write .git/HEAD rc=0"), "{out:?}");
        status(&ws, &ctl);
        assert!(ctl.join("PWNED").exists(), "{user:?}: the control missed");

        // Sandboxed in git mode: HEAD is read-only and `refs` at the top of
        // the worktree is held (an empty directory, mode 0444); the rest
        // is planted.
        let out = cordon(&ws, &["run", "--git-commits", "--", "sh", &ws.s("atk1.sh")]);
        assert!(out.stdout.contains("write .git/HEAD rc=2"), "{out:?}");
        assert!(
            out.stderr
                .contains("cannot create .git/HEAD: Read-only file system"),
            "{out:?}"
        );
        assert!(out.stdout.contains("plant rc=0"), "{out:?}");
        wait_for_placeholders(&ws);
        let st = status(&ws, &ws.work());
        assert_eq!(st.status, 0, "{st:?}");
        assert!(!ws.join("work/PWNED").exists(), "{user:?}: the payload ran");
        assert!(!ws.join("work/refs").exists());
        assert_eq!(commits(&ws, &ws.work()), 1);
    }
}

/// Each way to make the gitdir no repository, one by one: `HEAD` written
/// (EROFS), `objects` and `refs` renamed or removed (EBUSY: mount points),
/// the worktree's `refs` made (EEXIST: held), beside the control that does
/// each without cordon.
#[test]
fn git_mode_holds_head_objects_and_refs_in_place() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        let g = |rel: &str| ws.s(&format!("work/.git/{rel}"));
        let mode = ["--git-commits"];
        let head = ws.read("work/.git/HEAD");
        control(&ws, &["write", &g("HEAD")]).assert_ok();
        ws.write("work/.git/HEAD", &head);
        sandboxed(&ws, &mode, &["write", &g("HEAD")]).assert_errno("EROFS");
        sandboxed(&ws, &mode, &["unlink", &g("HEAD")]).assert_errno("EBUSY");
        for dir in ["objects", "refs"] {
            let moved = g(&format!("{dir}.bak"));
            control(&ws, &["rename", &g(dir), &moved]).assert_ok();
            control(&ws, &["rename", &moved, &g(dir)]).assert_ok();
            sandboxed(&ws, &mode, &["rename", &g(dir), &moved]).assert_errno("EBUSY");
            sandboxed(&ws, &mode, &["rmdir", &g(dir)]).assert_errno("EBUSY");
            // Their contents stay writable.
            sandboxed(&ws, &mode, &["write", &g(&format!("{dir}/new"))]).assert_ok();
        }
        let top_refs = ws.s("work/refs");
        wait_for_placeholders(&ws);
        control(&ws, &["stat", &top_refs]).assert_errno("ENOENT");
        sandboxed(&ws, &mode, &["mkdir", &top_refs]).assert_errno("EEXIST");
        sandboxed(&ws, &mode, &["rmdir", &top_refs]).assert_errno("EBUSY");
        // Without the mode the gitdir is read-only whole.
        sandboxed(&ws, &[], &["rename", &g("objects"), &g("o")]).assert_errno("EROFS");
        wait_for_placeholders(&ws);
        assert_eq!(ws.read("work/.git/HEAD"), head);
        assert_eq!(status(&ws, &ws.work()).status, 0);
    }
}

/// A mount cannot stop a chmod: the command can make `objects` (or the
/// gitdir) unreadable to its owner, and the gitdir is then no repository
/// to an unprivileged git. The worktree's `HEAD` is held, so git does not
/// take the worktree for one: it reports no repository (the command's
/// damage, undone with chmod) and runs nothing. Root's git passes the
/// modes and keeps finding the gitdir.
#[test]
fn git_mode_a_chmodded_gitdir_runs_no_planted_config() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        let attack = ATTACK.replacen("echo garbage > .git/HEAD", "chmod 0 .git/objects .git", 1);
        ws.write("atk2.sh", &attack);
        // The control: the same without cordon.
        let ctl = control_repo(&ws);
        run_as(user, &ctl, &ws.env(), &["sh", &ws.s("atk2.sh")]);
        status(&ws, &ctl);
        assert_eq!(ctl.join("PWNED").exists(), user == User::Nobody);

        let out = cordon(&ws, &["run", "--git-commits", "--", "sh", &ws.s("atk2.sh")]);
        assert!(out.stdout.contains("plant rc=0"), "{out:?}");
        wait_for_placeholders(&ws);
        let st = status(&ws, &ws.work());
        match user {
            User::Nobody => {
                assert_eq!(st.status, 128, "{st:?}");
                assert!(st.stderr.contains("not a git repository"), "{st:?}");
            }
            User::Root => assert_eq!(st.status, 0, "{st:?}"),
        }
        assert!(!ws.join("work/PWNED").exists(), "{user:?}: the payload ran");
        std::fs::set_permissions(
            ws.join("work/.git"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        std::fs::set_permissions(
            ws.join("work/.git/objects"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        assert_eq!(status(&ws, &ws.work()).status, 0);
    }
}

/// A top-level `commondir` names where git looks for `objects` and `refs`,
/// so a held `refs` at the top did not stop the worktree passing for a bare
/// repository once `.git` was unreadable (adversarial pass 8 ran a
/// `gpg.program` from it at the user's next `git log`). `commondir` is held
/// at the top too: git outside never takes the worktree for a repository.
#[test]
fn git_mode_a_planted_top_level_commondir_makes_no_bare_repository() {
    const PLANT: &str = r#"mkdir -p evil/refs/heads evil/objects
printf 'ref: refs/heads/main\n' > HEAD; echo "head rc=$?"
printf 'evil\n' > commondir; echo "commondir rc=$?"
printf '[core]\n\trepositoryformatversion = 0\n' > evil/config
chmod 000 .git
"#;
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        ws.write("atk3.sh", PLANT);
        let git_dir =
            |dir: &Path| run_as(ws.user, dir, &ws.env(), &["git", "rev-parse", "--git-dir"]);
        // The control: without cordon, an unprivileged git takes the top
        // for the repository (root's ignores the chmod and finds .git).
        let ctl = control_repo(&ws);
        let c = run_as(user, &ctl, &ws.env(), &["sh", &ws.s("atk3.sh")]);
        assert!(c.stdout.contains("commondir rc=0"), "{c:?}");
        let c = git_dir(&ctl);
        match user {
            User::Nobody => assert_eq!(c.stdout.trim(), ".", "{c:?}"),
            User::Root => assert_eq!(c.stdout.trim(), ".git", "{c:?}"),
        }

        let out = cordon(&ws, &["run", "--git-commits", "--", "sh", &ws.s("atk3.sh")]);
        assert!(!out.stdout.contains("commondir rc=0"), "{out:?}");
        wait_for_placeholders(&ws);
        assert!(!ws.join("work/commondir").exists(), "{user:?}");
        let st = git_dir(&ws.work());
        assert_ne!(st.stdout.trim(), ".", "{user:?}: {st:?}");
        for p in ["work/.git", "work/.git/objects"] {
            std::fs::set_permissions(
                ws.join(p),
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )
            .unwrap();
        }
        assert_eq!(git_dir(&ws.work()).stdout.trim(), ".git");
    }
}

/// What still works with HEAD read-only (commits move the branch, not
/// HEAD), and what does not: switching branches needs a rerun.
#[test]
fn git_mode_commit_amend_tag_branch_and_gc_work_checkout_does_not() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        let mode = ["--git-commits"];
        ok(sandboxed_git(&ws, &mode, &["add", "f"]));
        ok(sandboxed_git(&ws, &mode, &["commit", "-q", "-m", "two"]));
        ok(sandboxed_git(
            &ws,
            &mode,
            &["commit", "-q", "--amend", "-m", "two, amended"],
        ));
        ok(sandboxed_git(&ws, &mode, &["tag", "-a", "-m", "t", "v1"]));
        ok(sandboxed_git(&ws, &mode, &["branch", "side"]));
        ok(sandboxed_git(&ws, &mode, &["pack-refs", "--all"]));
        ok(sandboxed_git(&ws, &mode, &["stash", "list"]));
        assert_eq!(commits(&ws, &ws.work()), 2);
        let log = git(&ws, &ws.work(), &["log", "-1", "--format=%s"]);
        assert_eq!(log.stdout.trim(), "two, amended");
        // HEAD cannot be rewritten: no checkout or switch of branches.
        for args in [
            &["checkout", "-q", "side"][..],
            &["switch", "-q", "--detach"],
        ] {
            let r = sandboxed_git(&ws, &mode, args);
            assert_eq!(r.status, 128, "{r:?}");
            assert!(r.stderr.contains("HEAD"), "{r:?}");
        }
        // The control: the same checkout without cordon.
        git(&ws, &ws.work(), &["checkout", "-q", "side"]);
    }
}

/// Without a private mount namespace nothing holds the gitdir in place;
/// git mode is refused then, even with --best-effort (which would run the
/// default, the gitdir writable with a warning, only without the mode).
#[test]
fn git_mode_without_the_namespace_is_refused_even_with_best_effort() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        let (p, c) = (
            probe_bin().to_str().unwrap(),
            cordon_bin().to_str().unwrap(),
        );
        let marker = ws.s("work/marker");
        for deny in ["unshare=EPERM", "mount_setattr=EPERM"] {
            let argv = [
                p,
                "deny-syscall",
                deny,
                "--",
                c,
                "run",
                "--best-effort",
                "--git-commits",
                "--",
                p,
                "create",
                &marker,
            ];
            run_as(user, &ws.work(), &ws.env(), &argv)
                .assert_refused("--git-commits needs the private mount namespace")
                .assert_refused("run without --git-commits");
            assert!(!ws.join("work/marker").exists(), "{user:?}: it ran");
            // The control: the same without the mode runs (with warnings).
            let argv = [
                p,
                "deny-syscall",
                deny,
                "--",
                c,
                "run",
                "--best-effort",
                "--",
                p,
                "create",
                &marker,
            ];
            run_as(user, &ws.work(), &ws.env(), &argv).assert_ok();
            std::fs::remove_file(ws.join("work/marker")).unwrap();
        }
    }
}

/// Stacked on an enclosing git-mode sandbox, an inner git-mode run finds
/// its anchors already mount points and its HEAD read-only.
#[test]
fn git_mode_nested_in_git_mode_keeps_the_holds() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        let g = |rel: &str| ws.s(&format!("work/.git/{rel}"));
        let c = cordon_bin().to_str().unwrap();
        let p = probe_bin().to_str().unwrap();
        let inner = |op: &[&str]| {
            let mut args = vec![
                "run",
                "--git-commits",
                "--",
                c,
                "run",
                "--git-commits",
                "--",
                p,
            ];
            args.extend_from_slice(op);
            cordon(&ws, &args)
        };
        inner(&["write", &g("HEAD")]).assert_errno("EROFS");
        inner(&["rename", &g("objects"), &g("o")]).assert_errno("EBUSY");
        inner(&["write", &g("refs/x")]).assert_ok();
    }
}

/// Adversarial pass 15: git mode runs back to back. The first run's
/// placeholders (`.git/config.worktree` with `extensions.worktreeConfig`,
/// `modules`, `refs` at the top) were still there when the next planned,
/// which bound them as the user's own entries; the first run's sentinel
/// then removed them from under that bind, and the command wrote
/// `config.worktree` (git outside ran its fsmonitor). Another run's
/// placeholder is held as missing: taken over, the write fails.
#[test]
fn git_mode_back_to_back_takes_the_last_runs_placeholders_over() {
    for user in users() {
        let ws = Ws::new(user);
        repo(&ws);
        let work = ws.work();
        git(&ws, &work, &["config", "extensions.worktreeConfig", "true"]);
        let cw = ws.s("work/.git/config.worktree");
        control(&ws, &["write", &cw]).assert_ok();
        std::fs::remove_file(&cw).unwrap();
        let mode = ["--git-commits"];
        ok(cordon(&ws, &["run", "--git-commits", "--", "true"]));
        // Past the first run's grace second, when its sentinel removes
        // what it made.
        let script = format!("sleep 1.5; $P write {cw}");
        // The placeholder's mode 0444 stops an ordinary user first.
        let errno = match user {
            User::Root => "EROFS",
            User::Nobody => "EACCES",
        };
        sandboxed_sh(&ws, &mode, &script).assert_errno(errno);
        assert!(gone_soon(Path::new(&cw)), "{user:?}: a placeholder stayed");
    }
}
