//! cordon inside cordon (issue 18, item 6): the outer sandbox refuses the
//! inner one a mount namespace, so the inner run stacks Landlock and
//! seccomp on it where the outer's mounts already hold what the inner
//! policy needs, and refuses (125) otherwise; `--best-effort` runs with a
//! warning per gap. Real runs, root and an unprivileged user, each
//! sandboxed verdict beside the same operation under the outer sandbox
//! alone (the control: what the inner layer adds).

mod support;

use support::*;

const NOTE: &str = "cordon: note: inside an enclosing sandbox";

/// `cordon run OUTER -- cordon run INNER -- cordon-probe OP...`.
fn nested(ws: &Ws, outer: &[&str], inner: &[&str], op: &[&str]) -> Outcome {
    let mut args = vec!["run"];
    args.extend_from_slice(outer);
    args.extend(["--", cordon_bin().to_str().unwrap(), "run"]);
    args.extend_from_slice(inner);
    args.push("--");
    args.push(probe_bin().to_str().unwrap());
    args.extend_from_slice(op);
    cordon(ws, &args)
}

#[test]
fn a_nested_run_with_the_same_policy_stacks_and_says_so_once() {
    for user in users() {
        let ws = Ws::new(user);
        ws.write("work/.git/config", "[core]\n");
        let x = ws.s("work/x");
        let r = nested(&ws, &[], &[], &["write", &x]);
        r.assert_ok();
        assert_eq!(r.stderr.matches(NOTE).count(), 1, "{r:?}");
        assert!(
            r.stderr.contains("kernel state, not the environment"),
            "{r:?}"
        );
        assert_eq!(ws.read("work/x"), "x\n");
        // The protected path stays pinned: the outer mount holds it.
        nested(&ws, &[], &[], &["write", &ws.s("work/.git/config")]).assert_errno("EROFS");
        sandboxed(&ws, &[], &["write", &ws.s("work/.git/config")]).assert_errno("EROFS");
        assert_eq!(ws.read("work/.git/config"), "[core]\n");
        // A missing protected name stays held by the outer placeholder.
        nested(&ws, &[], &[], &["mkdir", &ws.s("work/.agents")]).assert_errno("EEXIST");
        // Outside the roots: still the outer's read-only world.
        nested(&ws, &[], &[], &["write", &ws.s("outside/y")]).assert_errno(denied_write(user));
    }
}

/// No IPC namespace of its own: the inner filter denies the IPC calls,
/// where the outer sandbox alone (its own private IPC namespace) allows
/// them.
#[test]
fn a_nested_run_has_no_ipc_with_the_enclosing_sandbox() {
    for user in users() {
        let ws = Ws::new(user);
        sandboxed(&ws, &[], &["shm-create"]).assert_ok();
        nested(&ws, &[], &[], &["shm-create"]).assert_errno("EPERM");
        nested(&ws, &[], &[], &["mq-create", "/cordon-nested"]).assert_errno("EPERM");
    }
}

/// An inner policy that asks for more than the outer mounts hold (here a
/// read-only world over the outer's writable workspace, for metadata) is
/// refused with one line naming the enclosing sandbox; `--best-effort`
/// runs it, and Landlock still narrows writes.
#[test]
fn a_narrower_inner_policy_the_outer_mounts_cannot_hold_is_refused_or_warned() {
    for user in users() {
        let ws = Ws::new(user);
        let x = ws.s("work/x");
        nested(&ws, &[], &["-p", "read-only"], &["write", &x])
            .assert_refused("inside an enclosing sandbox")
            .assert_refused("--best-effort");
        assert!(!ws.join("work/x").exists());
        let r = nested(
            &ws,
            &[],
            &["-p", "read-only", "--best-effort"],
            &["write", &x],
        );
        r.assert_errno("EACCES");
        assert!(
            r.stderr
                .contains("cordon: warning: not enforced: read-only-world"),
            "{r:?}"
        );
        assert!(!ws.join("work/x").exists());
    }
}

/// The inner sandbox can only narrow: a grant the outer does not give
/// stays denied by the outer mounts.
#[test]
fn an_inner_grant_beyond_the_outer_sandbox_gives_nothing() {
    for user in users() {
        let ws = Ws::new(user);
        let y = ws.s("outside/y");
        let r = nested(&ws, &[], &["-w", &ws.s("outside")], &["write", &y]);
        r.assert_errno(denied_write(user));
        assert!(!ws.join("outside/y").exists());
    }
}

/// The detection reads the kernel, not the environment: a caller that sets
/// the variables cordon gives its command still gets its own namespace
/// (no note, shm allowed in its private IPC namespace).
#[test]
fn environment_variables_do_not_make_a_run_nested() {
    for user in users() {
        let ws = Ws::new(user);
        let mut env = ws.env();
        env.push(("CORDON_SANDBOX".into(), "landlock".into()));
        env.push(("CORDON_SANDBOX_NETWORK_DISABLED".into(), "1".into()));
        let argv = [
            cordon_bin().to_str().unwrap(),
            "run",
            "--",
            probe_bin().to_str().unwrap(),
            "shm-create",
        ];
        let r = run_as(user, &ws.work(), &env, &argv);
        r.assert_ok();
        assert!(!r.stderr.contains(NOTE), "{r:?}");
    }
}
