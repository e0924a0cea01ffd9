//! Debuggers (issue 18, item 11). The decision: `/proc/<pid>/mem` stays
//! unwritable for every process, the command's own children included,
//! and debuggers work through `ptrace`, which Landlock allows towards the
//! command's own processes (same or nested domain) and refuses towards
//! every other (the reaper, a parent domain; anything outside). Making
//! `/proc` writable for the `mem` files would make all of `/proc` writable
//! (Landlock rules are per inode, and a child's `/proc/<pid>` does not
//! exist at planning): root could then set `kernel.core_pattern` and run
//! code on the host at the next crash. gdb falls back to `PTRACE_POKEDATA`
//! when `/proc/<pid>/mem` cannot be opened, so breakpoints and `set var`
//! work. Root and an unprivileged user, each beside a control run.

mod support;

use support::*;

/// gdb's breakpoint (a write of `int3` into the inferior's text) and a
/// `set var` on its stack, under cordon and without it.
#[test]
fn gdb_sets_breakpoints_and_writes_the_inferiors_memory() {
    let gdb = ["/usr/bin/gdb", "/bin/gdb"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("these tests need gdb (apt-get install gdb): the decision is tested with it");
    for user in users() {
        let ws = Ws::new(user);
        let args = [
            gdb,
            "-nx",
            "-batch",
            "-ex",
            "break exit",
            "-ex",
            "run",
            "-ex",
            "set var *(int*)$sp = 1234",
            "-ex",
            "print *(int*)$sp",
            "-ex",
            "kill",
            "/bin/true",
        ];
        let control = run_as(user, &ws.work(), &ws.env(), &args);
        let mut argv = vec![cordon_bin().to_str().unwrap(), "run", "--"];
        argv.extend(args);
        let under = run_as(user, &ws.work(), &ws.env(), &argv);
        for (label, out) in [("control", &control), ("sandboxed", &under)] {
            assert!(
                out.stdout.contains("Breakpoint 1, "),
                "{user:?} {label}: {out:?}"
            );
            assert!(
                out.stdout.contains("$1 = 1234"),
                "{user:?} {label}: {out:?}"
            );
        }
    }
}

/// The same decision at the syscall: a child's `/proc/<pid>/mem` does not
/// open for writing (the read-only world: `EROFS`), `PTRACE_POKEDATA`
/// writes it; without cordon both write.
#[test]
fn a_childs_memory_is_written_through_ptrace_not_proc_mem() {
    for user in users() {
        let ws = Ws::new(user);
        for way in ["proc-mem", "poke"] {
            assert_eq!(
                control(&ws, &["child-mem", way]).assert_ok().json()["seen"],
                42
            );
        }
        sandboxed(&ws, &[], &["child-mem", "proc-mem"]).assert_errno("EROFS");
        let r = sandboxed(&ws, &[], &["child-mem", "poke"]);
        assert_eq!(r.assert_ok().json()["seen"], 42, "{r:?}");
    }
}

/// The boundary stays: an outside process's memory opens for writing
/// neither through `/proc` nor through `ptrace`.
#[test]
fn an_outside_process_memory_stays_out_of_reach() {
    for user in users() {
        let ws = Ws::new(user);
        let v = victim(&ws, &[]);
        let mem = format!("/proc/{}/mem", v.pid);
        control(&ws, &["open", &mem, "rw"]).assert_ok();
        sandboxed(&ws, &[], &["open", &mem, "rw"]).assert_errno("EROFS");
        sandboxed(&ws, &[], &["ptrace-attach", &v.pid]).assert_errno("EPERM");
    }
}
