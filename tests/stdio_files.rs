//! Reopening stdio (issue 18, item 2): when the caller redirects fd 0, 1
//! or 2 to a regular file outside the roots, the command reopens it by
//! name (`/dev/stdout`, `tee /dev/stderr`, `/proc/self/fd/1`) as it would
//! without cordon, with the descriptor's own access mode, and nothing next
//! to it opens. Real `sh` and `tee`, as root and as an unprivileged user,
//! each beside a control run of the same script without cordon.

mod support;

use std::path::Path;

use support::*;

/// `sh -c 'SHELL_REDIRECTS'` as the workspace's user: the caller's shell,
/// which opens the files the command's stdio goes to.
fn caller_sh(ws: &Ws, script: &str) -> Outcome {
    run_as(ws.user, &ws.work(), &ws.env(), &["sh", "-c", script])
}

/// `cordon run -- sh -c INNER` (or the bare `sh -c INNER` for the
/// control), with `$P` the probe, as a shell word for [`caller_sh`].
fn inner(sandboxed: bool, script: &str) -> String {
    let script = format!("P={}; {script}", probe_bin().display());
    let quoted = format!("'{}'", script.replace('\'', r"'\''"));
    if sandboxed {
        format!("{} run -- sh -c {quoted}", cordon_bin().display())
    } else {
        format!("sh -c {quoted}")
    }
}

fn own_file(ws: &Ws, rel: &str, text: &str) -> String {
    ws.write(rel, text);
    ws.s(rel)
}

fn probe_lines(out: &Outcome) -> Vec<serde_json::Value> {
    out.stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn stdout_redirected_outside_the_roots_reopens_by_name_and_nothing_beside_it_opens() {
    for user in users() {
        for sandboxed in [false, true] {
            let ws = Ws::new(user);
            let out = own_file(&ws, "outside/out", "");
            let sib = ws.s("outside/sibling");
            // Probe verdicts go to stderr, a pipe: stdout is the file.
            let script = inner(
                sandboxed,
                &format!(
                    "echo one > /dev/stdout && echo two >> /proc/self/fd/1 && echo three | tee -a /dev/stderr 2>&1 > /dev/null; $P write {sib} >&2"
                ),
            );
            let r = caller_sh(&ws, &format!("{script} > {out}"));
            let label = format!("{user:?} sandboxed={sandboxed}: {r:?}");
            assert_eq!(ws.read("outside/out"), "one\ntwo\nthree\n", "{label}");
            let verdicts = probe_lines(&r);
            assert_eq!(verdicts.len(), 1, "{label}");
            if sandboxed {
                assert_eq!(
                    verdicts[0]["error"],
                    denied_write(user),
                    "the sibling stays denied: {label}"
                );
                assert!(!Path::new(&sib).exists(), "{label}");
            } else {
                assert_eq!(verdicts[0]["ok"], true, "control: {label}");
            }
        }
    }
}

#[test]
fn stderr_redirected_outside_the_roots_takes_tee_dev_stderr() {
    for user in users() {
        for sandboxed in [false, true] {
            let ws = Ws::new(user);
            let err = own_file(&ws, "outside/err", "");
            let script = inner(sandboxed, "echo logged | tee /dev/stderr");
            let r = caller_sh(&ws, &format!("{script} 2> {err}"));
            let label = format!("{user:?} sandboxed={sandboxed}: {r:?}");
            assert_eq!(r.status, 0, "{label}");
            assert_eq!(r.stdout, "logged\n", "{label}");
            assert_eq!(ws.read("outside/err"), "logged\n", "{label}");
        }
    }
}

/// fd 0 opened for reading gives read and nothing more: the name reopens
/// for reading, never for writing, whatever the file's mode allows.
#[test]
fn stdin_from_a_file_reopens_for_reading_only() {
    for user in users() {
        for sandboxed in [false, true] {
            let ws = Ws::new(user);
            let input = own_file(&ws, "outside/in", "fed\n");
            let script = inner(
                sandboxed,
                "$P read /dev/stdin >&2; $P open /proc/self/fd/0 w >&2",
            );
            let r = caller_sh(&ws, &format!("{script} < {input}"));
            let label = format!("{user:?} sandboxed={sandboxed}: {r:?}");
            let v = probe_lines(&r);
            assert_eq!(v.len(), 2, "{label}");
            assert_eq!(v[0]["data"], "fed\n", "{label}");
            if sandboxed {
                assert_eq!(v[1]["error"], "EACCES", "{label}");
            } else {
                assert_eq!(v[1]["ok"], true, "control: {label}");
            }
            assert_eq!(ws.read("outside/in"), "fed\n", "{label}");
        }
    }
}

/// Under a read list that does not cover it, a file on stdin still reads
/// through `/dev/stdin` (the rule is on its inode), and its sibling does
/// not; under a read scope of everything no rule is added (nothing to gain).
#[test]
fn stdin_from_a_file_outside_a_read_list_reads_and_its_sibling_does_not() {
    for user in users() {
        let ws = Ws::new(user);
        let input = own_file(&ws, "outside/in", "fed\n");
        let sibling = own_file(&ws, "outside/sibling", "secret\n");
        let profile = own_file(
            &ws,
            "minimal.toml",
            "[file_system]\nread = [\":minimal\"]\nwrite = [\":cwd\"]\ndeny = []\n",
        );
        let probe = probe_bin().display().to_string();
        let script = format!(
            "{} run -p {profile} --allow-read {probe} -- {probe} read /dev/stdin < {input}; {} run -p {profile} --allow-read {probe} -- {probe} read {sibling} < {input}",
            cordon_bin().display(),
            cordon_bin().display()
        );
        let r = caller_sh(&ws, &script);
        let v: Vec<serde_json::Value> = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {r:?}")))
            .collect();
        assert_eq!(v.len(), 2, "{user:?}: {r:?}");
        assert_eq!(v[0]["data"], "fed\n", "{user:?}: {r:?}");
        assert_eq!(v[1]["error"], "EACCES", "{user:?}: {r:?}");
        // The control: the sibling reads without cordon.
        control(&ws, &["read", &sibling]).assert_ok();
    }
    // Reading everything: the plan has no stdio rule for stdin.
    let ws = Ws::new(User::Nobody);
    let input = own_file(&ws, "outside/in", "fed\n");
    let r = caller_sh(
        &ws,
        &format!("{} run --dry-run -- true < {input}", cordon_bin().display()),
    );
    assert!(!r.stdout.contains("stdio file"), "{r:?}");
}

/// The plan names the file and the rule holds exactly its rights.
#[test]
fn dry_run_shows_the_stdio_file_and_its_rule() {
    let ws = Ws::new(User::Nobody);
    let out = own_file(&ws, "outside/plan", "");
    let r = caller_sh(
        &ws,
        &format!("{} run --dry-run -- true > {out}", cordon_bin().display()),
    );
    assert_eq!(r.status, 0, "{r:?}");
    let text = ws.read("outside/plan");
    assert!(
        text.contains(&format!("stdio file {out} (fd 1; write)")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "rule {out}: write_file,truncate  # stdio file {out} (fd 1; write)"
        )),
        "{text}"
    );
}
