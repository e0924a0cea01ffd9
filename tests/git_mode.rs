//! Git mode (`--git-commits`, issue 18 item 4): `git add` and `git commit`
//! work inside the sandbox, while what git reads as config, runs, or
//! follows to another gitdir stays read-only. Real git, root and an
//! unprivileged user; each sandboxed run beside the same run without the
//! mode (the default pins the whole gitdir) or without cordon.

mod support;

use std::path::Path;

use support::*;

const ID: [&str; 4] = [
    "-c",
    "user.name=cordon",
    "-c",
    "user.email=cordon@example.invalid",
];

/// A repository in `work/` with one commit and a `commondir` of `.` (git
/// mode asks for one), and an uncommitted `f`.
fn repo(ws: &Ws) {
    let work = ws.work();
    git(ws, &work, &["init", "-q"]);
    git(ws, &work, &["commit", "-q", "--allow-empty", "-m", "one"]);
    ws.write("work/.git/commondir", ".\n");
    ws.write("work/f", "content\n");
}

/// `cordon run FLAGS -- git -c ID... ARGS` in `work/`.
fn sandboxed_git(ws: &Ws, flags: &[&str], args: &[&str]) -> Outcome {
    let mut argv = vec!["run"];
    argv.extend_from_slice(flags);
    argv.extend(["--", "git"]);
    argv.extend(ID);
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
    git(ws, dir, &["rev-list", "--count", "HEAD"])
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
        argv.extend(ID);
        let add: Vec<&str> = argv.iter().copied().chain(["add", "h"]).collect();
        ok(run_as(user, &wt, &ws.env(), &add));
        let commit: Vec<&str> = argv
            .iter()
            .copied()
            .chain(["commit", "-q", "-m", "wt"])
            .collect();
        ok(run_as(user, &wt, &ws.env(), &commit));
        assert_eq!(commits(&ws, &wt), 2);
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
