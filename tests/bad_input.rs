//! Bad input (issue 7): huge lists, deep nesting, newlines, NUL bytes and
//! non-UTF-8 bytes in profiles, requests, argv, env and flag paths. Each gives
//! a correct run or one clean `cordon: ` line with exit 125; never a panic.
//! Runs as root and as an unprivileged user.

mod support;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use support::*;

/// A write outside every writable root. Landlock's answer is EACCES; where
/// root's world is also a read-only mount (the private mount namespace),
/// the kernel checks the mount first and says EROFS. Which mechanism denies
/// is the enforcement tests' business; these tests check the denial, and
/// that nothing was written.
const DENIED_WRITE: &[&str] = &["EACCES", "EROFS"];

/// Bytes that are not UTF-8 (a lone continuation byte and 0xFF).
const NOT_UTF8: &[u8] = b"caf\xe9-\xff\xfe";

fn os(b: &[u8]) -> OsString {
    OsString::from_vec(b.to_vec())
}

/// `path` joined with a non-UTF-8 name.
fn join_bytes(path: &Path, name: &[u8]) -> PathBuf {
    path.join(OsStr::from_bytes(name))
}

/// No panic, whatever else happened: a panic message, or death by SIGABRT
/// (the release profile aborts on panic) or SIGSEGV (a stack overflow).
#[track_caller]
fn assert_no_panic(o: &Outcome) {
    assert!(!o.stderr.contains("panicked"), "{o:?}");
    assert!(!o.stderr.contains("overflow"), "{o:?}");
    assert!(o.status < 128, "died by a signal: {o:?}");
}

/// `cordon ARGS...` with arguments that need not be UTF-8, as the workspace's
/// user, in the workspace, with its environment plus `extra_env`.
fn cordon_os(ws: &Ws, args: &[&OsStr], extra_env: &[(OsString, OsString)]) -> Outcome {
    let mut argv: Vec<OsString> = vec![cordon_bin().into()];
    argv.extend(args.iter().map(|a| a.to_os_string()));
    let mut env: Vec<(OsString, OsString)> = ws
        .env()
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    env.extend(extra_env.iter().cloned());
    let out = run_as_os(ws.user, &ws.work(), &env, &argv);
    assert_no_panic(&out);
    out
}

/// `cordon run FLAGS... -- cordon-probe OP...`, any bytes.
fn sandboxed_os(ws: &Ws, flags: &[&OsStr], op: &[&OsStr]) -> Outcome {
    let mut args: Vec<&OsStr> = vec![OsStr::new("run")];
    args.extend_from_slice(flags);
    args.push(OsStr::new("--"));
    args.push(probe_bin().as_os_str());
    args.extend_from_slice(op);
    cordon_os(ws, &args, &[])
}

/// `cordon ARGS` (UTF-8), checked for panics.
fn cordon_ok(ws: &Ws, args: &[&str]) -> Outcome {
    let out = cordon(ws, args);
    assert_no_panic(&out);
    out
}

/// A TOML string literal for `s` (basic string, with escapes).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Adversarial pass 13: more roots than the open-file limit allows. The
/// run is refused (cordon holds each root open while it sets up), and the
/// line says to raise the limit, not to create a root that exists.
#[test]
fn more_roots_than_open_files_are_refused_with_the_limit_named() {
    for user in users() {
        let ws = Ws::new(user);
        let parent = ws.join("outside/roots");
        std::fs::create_dir(&parent).unwrap();
        let mut flags = String::new();
        for i in 0..300 {
            let p = parent.join(format!("r{i}"));
            std::fs::create_dir(&p).unwrap();
            flags.push_str(&format!(" -w {}", p.display()));
        }
        ws.chown_tree(&parent);
        let script = format!(
            "ulimit -n 64 && exec {} run --unprotect .git --unprotect .cordon --unprotect .agents --unprotect .codex{flags} -- true",
            cordon_bin().display()
        );
        let out = run_as(user, &ws.work(), &ws.env(), &["sh", "-c", &script]);
        assert_no_panic(&out);
        out.assert_refused("raise the open-file limit (ulimit -n)");
        assert!(!out.stderr.contains("create it"), "{out:?}");
    }
}

/// A `.git` holding more dangling symlinks than a run may make
/// placeholders for (a git-mode run can leave them: adversarial pass 19)
/// is refused; the line says they are git's paths and how to end them
/// (`--unprotect` lifts names, and no such path).
#[test]
fn too_many_missing_git_paths_are_refused_with_gits_share_named() {
    for user in users() {
        let ws = Ws::new(user);
        let gitdir = ws.work().join(".git");
        std::fs::create_dir(&gitdir).unwrap();
        std::fs::write(gitdir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::create_dir(gitdir.join("objects")).unwrap();
        std::fs::create_dir(gitdir.join("refs")).unwrap();
        for i in 0..300 {
            std::os::unix::fs::symlink(format!("../gone{i}"), gitdir.join(format!("l{i}")))
                .unwrap();
        }
        ws.chown_tree(&gitdir);
        let out = cordon(&ws, &["run", "--", "true"]);
        assert_no_panic(&out);
        // The links' missing targets, `work/gone0`..., and the top's
        // `refs` and `commondir`.
        out.assert_refused(&format!(
            "of them are paths git reads or runs, 302 in {}:",
            ws.work().display()
        ));
        assert!(
            out.stderr.contains("remove dangling symlinks in the .git"),
            "{out:?}"
        );
    }
}

#[test]
fn ten_thousand_writable_roots_run_and_dry_run() {
    const N: usize = 10_000;
    for user in users() {
        let ws = Ws::new(user);
        // Siblings, so none merges into another: 10,000 real roots.
        let parent = ws.join("outside/roots");
        std::fs::create_dir(&parent).unwrap();
        let roots: Vec<String> = (0..N)
            .map(|i| {
                let p = parent.join(format!("root-{i:05}"));
                std::fs::create_dir(&p).unwrap();
                p.to_str().unwrap().to_string()
            })
            .collect();
        ws.chown_tree(&parent);
        let list: Vec<String> = roots.iter().map(|r| toml_str(r)).collect();
        let toml = ws.write(
            "big.toml",
            &format!(
                "[file_system]\nread = [\":root\"]\nwrite = [\":cwd\", {}]\n",
                list.join(", ")
            ),
        );
        let json = ws.write(
            "big.json",
            &serde_json::json!({"type": "workspace-write", "writable_roots": roots}).to_string(),
        );
        let last = format!("{}/f", roots[N - 1]);
        let first = format!("{}/f", roots[0]);
        // Each root lacks .git, .cordon, .agents and .codex: holding 40,000
        // missing names would take as many placeholders, past the limit, so
        // the run is refused and names the way out.
        let out = sandboxed(&ws, &["-p", toml.to_str().unwrap()], &["write", &last]);
        out.assert_refused("placeholders");
        assert!(out.stderr.contains("--unprotect NAME"), "{out:?}");
        let unprotect = [
            "--unprotect",
            ".git",
            "--unprotect",
            ".cordon",
            "--unprotect",
            ".agents",
            "--unprotect",
            ".codex",
        ];
        for profile in [toml.to_str().unwrap(), json.to_str().unwrap()] {
            let p = [&["-p", profile][..], &unprotect].concat();
            sandboxed(&ws, &p, &["write", &last]).assert_ok();
            sandboxed(&ws, &p, &["write", &first]).assert_ok();
            // Still a sandbox: the parent of all those roots is not writable.
            let outside = ws.s("outside/roots/x");
            sandboxed(&ws, &p, &["write", &outside]).assert_errno_in(DENIED_WRITE);
            assert!(!Path::new(&outside).exists());

            let dry = cordon_ok(
                &ws,
                &[&["run"][..], &p, &["--dry-run", "--", "true"]].concat(),
            );
            assert_eq!(dry.status, 0, "{}", dry.stderr);
            let writes = dry
                .stdout
                .lines()
                .filter(|l| l.starts_with("write "))
                .count();
            assert!(writes >= N, "{user:?}: {writes} write lines for {N} roots");
            assert!(
                dry.stdout
                    .contains(&format!("write {}  (from ", roots[N - 1]))
            );
        }
    }
}

#[test]
fn a_root_200_directories_deep_works() {
    for user in users() {
        let ws = Ws::new(user);
        let mut deep = ws.join("outside");
        for i in 0..200 {
            deep.push(format!("d{i:03}"));
        }
        std::fs::create_dir_all(&deep).unwrap();
        ws.chown_tree(&ws.join("outside/d000"));
        let d = deep.to_str().unwrap();
        let target = format!("{d}/f");
        sandboxed(&ws, &["-w", d], &["write", &target]).assert_ok();
        let parent = deep.parent().unwrap().join("g");
        sandboxed(&ws, &["-w", d], &["write", parent.to_str().unwrap()])
            .assert_errno_in(DENIED_WRITE);
        assert!(!parent.exists());
        let dry = cordon_ok(&ws, &["run", "-w", d, "--dry-run", "--", "true"]);
        assert_eq!(dry.status, 0, "{dry:?}");
        assert!(
            dry.stdout
                .contains(&format!("write {d}  (from --writable-root"))
        );
    }
}

/// Creates `depth` nested directories named `name` under `base` with
/// mkdirat/openat, one level at a time: the full path may exceed PATH_MAX,
/// which no single path-based call accepts. Returns the full path.
fn mkdir_deep(base: &Path, name: &str, depth: usize) -> PathBuf {
    use nix::fcntl::{OFlag, open, openat};
    use nix::sys::stat::{Mode, mkdirat};
    let mut fd = open(base, OFlag::O_DIRECTORY | OFlag::O_RDONLY, Mode::empty()).unwrap();
    let mut path = base.to_path_buf();
    for _ in 0..depth {
        mkdirat(&fd, name, Mode::from_bits_truncate(0o755)).unwrap();
        fd = openat(
            &fd,
            name,
            OFlag::O_DIRECTORY | OFlag::O_RDONLY,
            Mode::empty(),
        )
        .unwrap();
        path.push(name);
    }
    path
}

#[test]
fn a_root_longer_than_path_max_is_one_clean_error() {
    for user in users() {
        let ws = Ws::new(user);
        // 200 levels of 30 bytes: about 6,200 bytes, over Linux's 4,096.
        let deep = mkdir_deep(&ws.join("outside"), &"x".repeat(29), 200);
        assert!(deep.as_os_str().len() > 4096);
        let d = deep.to_str().unwrap();
        let out = cordon_ok(&ws, &["run", "-w", d, "--", "true"]);
        out.assert_refused("(from --writable-root) cannot be resolved");
        assert!(out.stderr.contains("File name too long"), "{out:?}");
    }
}

#[test]
fn deeply_nested_profiles_and_requests_are_clean_errors() {
    const DEPTH: usize = 100_000;
    for user in users() {
        let ws = Ws::new(user);
        let open = |s: &str| s.repeat(DEPTH);
        let cases = [
            (
                "arrays.toml",
                format!("description = {}{}\n", open("["), open("]")),
            ),
            (
                "tables.toml",
                format!("[file_system]\nread = {}1{}\n", open("{a="), open("}")),
            ),
            (
                "headers.toml",
                format!("[{}]\n", vec!["a"; DEPTH].join(".")),
            ),
            (
                "write-list.toml",
                format!("[file_system]\nwrite = {}{}\n", open("["), open("]")),
            ),
            ("arrays.json", format!("{}{}", open("["), open("]"))),
            (
                "objects.json",
                format!("{}1{}", open(r#"{"file_system":"#), open("}")),
            ),
        ];
        for (name, text) in &cases {
            let f = ws.write(name, text);
            let f = f.to_str().unwrap();
            cordon_ok(&ws, &["run", "-p", f, "--", "true"]).assert_refused(f);
            cordon_ok(&ws, &["run", "-p", f, "--dry-run"]).assert_refused(f);
        }
        // The same nesting inside an escalation request.
        let work = ws.s("work");
        let requests = [
            format!(
                r#"{{"command":["true"],"cwd":{work:?},"turn":{{"sandbox_policy":{}{}}}}}"#,
                open(r#"{"file_system":"#),
                open("}")
            ),
            format!(
                r#"{{"command":{}"true"{},"cwd":{work:?}}}"#,
                open("["),
                open("]")
            ),
            format!(
                r#"{{"command":["true"],"cwd":{work:?},"execution":{{"permissions":{{"exact":{}1{}}}}}}}"#,
                open(r#"{"network":"#),
                open("}")
            ),
        ];
        for (i, text) in requests.iter().enumerate() {
            let f = ws.write(&format!("req-{i}.json"), text);
            let f = f.to_str().unwrap();
            cordon_ok(&ws, &["rerun", "--request", f]).assert_refused(f);
        }
    }
}

#[test]
fn a_writable_root_with_a_newline_in_its_name_works() {
    for user in users() {
        let ws = Ws::new(user);
        let root = ws.mkdir("outside/line\nbreak");
        let r = root.to_str().unwrap();
        let target = format!("{r}/f");
        let sibling = ws.s("outside/line");
        // As a flag and as a TOML list entry.
        let toml = ws.write(
            "nl.toml",
            &format!("[file_system]\nwrite = [\":cwd\", {}]\n", toml_str(r)),
        );
        for flags in [vec!["-w", r], vec!["-p", toml.to_str().unwrap()]] {
            sandboxed(&ws, &flags, &["write", &target]).assert_ok();
            // The part before the newline is a different path, not granted.
            sandboxed(&ws, &flags, &["write", &sibling]).assert_errno_in(DENIED_WRITE);
            assert!(!Path::new(&sibling).exists());
            let mut dry: Vec<&str> = vec!["run"];
            dry.extend(&flags);
            dry.extend(["--dry-run", "--", "true"]);
            let out = cordon_ok(&ws, &dry);
            assert_eq!(out.status, 0, "{out:?}");
            // Shown escaped, on one line.
            let shown = format!("write {}  (from ", r.replace('\n', "\\n"));
            assert!(out.stdout.contains(&shown), "{shown:?} in {out:?}");
        }
        assert_eq!(ws.read("outside/line\nbreak/f"), "x\nx\n");
        // A missing one is one error line, the newline escaped.
        let missing = ws.s("outside/no\nsuch");
        cordon_ok(&ws, &["run", "-w", &missing, "--", "true"])
            .assert_refused("outside/no\\nsuch (from --writable-root) does not exist");
    }
}

/// Enforcement of protected paths on Linux is the mount namespace's (its
/// tests hold the errno); here: a name with a newline is accepted, found,
/// shown on one line, and refused cleanly where it cannot be expressed.
#[test]
fn a_protected_name_with_a_newline_is_found_and_shown_on_one_line() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("work/keep\nout");
        let toml = ws.write(
            "prot.toml",
            "[file_system]\nwrite = [\":cwd\"]\nprotected = [\".git\", \"keep\\nout\"]\n",
        );
        let p = toml.to_str().unwrap();
        sandboxed(&ws, &["-p", p], &["write", &ws.s("work/keep")]).assert_ok();
        let dry = cordon_ok(&ws, &["run", "-p", p, "--dry-run", "--", "true"]);
        assert_eq!(dry.status, 0, "{dry:?}");
        let line = format!("  protected {} (read-only)", ws.s("work/keep\\nout"));
        assert!(dry.stdout.lines().any(|l| l == line), "{line:?} in {dry:?}");
        // Seatbelt parameters cannot hold a newline: one clean refusal.
        cordon_ok(&ws, &["seatbelt", "-p", p])
            .assert_refused("keep\\nout contains a control character");
    }
}

#[test]
fn nul_bytes_in_profiles_policies_and_requests_are_refused() {
    for user in users() {
        let ws = Ws::new(user);
        let work = ws.s("work");
        // TOML: `\u0000` escapes in a path, a protected name.
        for (name, text) in [
            (
                "nul-write.toml",
                "[file_system]\nwrite = [\"/tmp/a\\u0000b\"]\n",
            ),
            (
                "nul-read.toml",
                "[file_system]\nread = [\":minimal\", \"/a\\u0000\"]\n",
            ),
            (
                "nul-protected.toml",
                "[file_system]\nprotected = [\".git\\u0000\"]\n",
            ),
        ] {
            let f = ws.write(name, text);
            let f = f.to_str().unwrap();
            let out = cordon_ok(&ws, &["run", "-p", f, "--", "true"]);
            out.assert_refused(f);
            assert!(out.stderr.contains("NUL byte"), "{out:?}");
        }
        // A raw NUL byte in the file is not even a valid TOML string.
        let f = ws.write("raw-nul.toml", "description = \"a\0b\"\n");
        cordon_ok(&ws, &["run", "-p", f.to_str().unwrap(), "--", "true"])
            .assert_refused(f.to_str().unwrap());

        // JSON policies, both shapes, inline and as files.
        let policies = [
            r#"{"type":"workspace-write","writable_roots":["/tmp/a\u0000b"]}"#,
            r#"{"file_system":{"write":["/tmp/a\u0000b"]}}"#,
            r#"{"file_system":{"read":["\u0000"]}}"#,
            r#"{"file_system":{"protected":["\u0000"]}}"#,
        ];
        for json in policies {
            let out = cordon_ok(&ws, &["run", "--policy-json", json, "--", "true"]);
            out.assert_refused("--policy-json");
            assert!(out.stderr.contains("NUL byte"), "{out:?}");
            let out = cordon_ok(&ws, &["run", "--permissions", json, "--", "true"]);
            assert_eq!(out.status, 125, "{out:?}");
            let f = ws.write("nul.json", json);
            cordon_ok(&ws, &["run", "-p", f.to_str().unwrap(), "--", "true"])
                .assert_refused(f.to_str().unwrap());
        }

        // Escalation requests: in the command, the cwd, a grant.
        let requests = [
            (
                format!(r#"{{"command":["echo","a\u0000b"],"cwd":{work:?}}}"#),
                "command[1]: contains a NUL byte",
            ),
            (
                format!(r#"{{"command":["ec\u0000ho"],"cwd":{work:?}}}"#),
                "command[0]: contains a NUL byte",
            ),
            (
                r#"{"command":["true"],"cwd":"/tmp\u0000"}"#.to_string(),
                "cwd: contains a NUL byte",
            ),
            (
                format!(
                    r#"{{"command":["true"],"cwd":{work:?},"execution":{{"permissions":{{"additional":{{"file_system":{{"write":["/a\u0000"]}}}}}}}}}}"#
                ),
                "NUL byte, which no file name can hold; remove it",
            ),
        ];
        for (i, (text, needle)) in requests.iter().enumerate() {
            let f = ws.write(&format!("req-{i}.json"), text);
            let f = f.to_str().unwrap();
            let out = cordon_ok(&ws, &["rerun", "--request", f]);
            out.assert_refused(needle);
            assert!(out.stderr.contains(f), "{out:?}");
        }
    }
}

#[test]
fn non_utf8_argv_reaches_the_command_unchanged() {
    for user in users() {
        let ws = Ws::new(user);
        let inside = join_bytes(&ws.work(), NOT_UTF8);
        let out = sandboxed_os(&ws, &[], &[OsStr::new("write"), inside.as_os_str()]);
        out.assert_ok();
        assert!(inside.exists(), "no file named with the exact bytes");
        // And the sandbox still holds for such a name.
        let outside = join_bytes(&ws.join("outside"), NOT_UTF8);
        let out = run_as_os(
            user,
            &ws.work(),
            &[],
            &[probe_bin().into(), "write".into(), outside.clone().into()],
        );
        out.assert_ok();
        std::fs::remove_file(&outside).unwrap();
        sandboxed_os(&ws, &[], &[OsStr::new("write"), outside.as_os_str()])
            .assert_errno_in(DENIED_WRITE);
        assert!(!outside.exists());
        // Through a shell: the argument's bytes, byte for byte.
        let out = cordon_os(
            &ws,
            &[
                OsStr::new("run"),
                OsStr::new("--"),
                OsStr::new("sh"),
                OsStr::new("-c"),
                OsStr::new("printf %s \"$1\" | od -An -tx1"),
                OsStr::new("sh"),
                &os(NOT_UTF8),
            ],
            &[],
        );
        assert_eq!(out.status, 0, "{out:?}");
        let hex: String = out.stdout.split_whitespace().collect();
        assert_eq!(hex, hex_of(NOT_UTF8), "{out:?}");
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn non_utf8_env_reaches_the_command_unchanged() {
    for user in users() {
        let ws = Ws::new(user);
        let value = os(NOT_UTF8);
        // A non-UTF-8 name too (the bytes before `=` are the name).
        let name = os(b"CORDON_T\xff");
        let env = [
            (OsString::from("CORDON_T"), value.clone()),
            (name.clone(), value.clone()),
        ];
        for var in [OsString::from("CORDON_T"), name] {
            let args = [
                OsStr::new("run"),
                OsStr::new("--"),
                probe_bin().as_os_str(),
                OsStr::new("env"),
                &var,
            ];
            let out = cordon_os(&ws, &args, &env);
            out.assert_ok();
            assert_eq!(out.json()["hex"], hex_of(NOT_UTF8), "{var:?}: {out:?}");
        }
    }
}

#[test]
fn non_utf8_paths_in_flags_work() {
    for user in users() {
        let ws = Ws::new(user);
        let dir = join_bytes(&ws.join("outside"), NOT_UTF8);
        std::fs::create_dir(&dir).unwrap();
        ws.chown_tree(&dir);
        let file = dir.join("f");
        let write = [OsStr::new("write"), file.as_os_str()];
        // Not writable without a grant; each spelling of the grant works.
        sandboxed_os(&ws, &[], &write).assert_errno_in(DENIED_WRITE);
        assert!(!file.exists());
        for flag in ["-w", "--writable-root", "--allow-write"] {
            sandboxed_os(&ws, &[OsStr::new(flag), dir.as_os_str()], &write).assert_ok();
        }
        // Relative, against the cwd.
        let rel = join_bytes(Path::new("../outside"), NOT_UTF8);
        sandboxed_os(&ws, &[OsStr::new("-w"), rel.as_os_str()], &write).assert_ok();
        // --allow-read under a restricted read scope.
        let toml = ws.write(
            "ro.toml",
            "[file_system]\nread = [\":minimal\"]\nwrite = []\n",
        );
        std::fs::write(&file, "x").unwrap();
        ws.chown_tree(&file);
        let read = [OsStr::new("read"), file.as_os_str()];
        // The probe itself must stay readable.
        let bins = probe_bin().parent().unwrap().as_os_str();
        let base = [
            OsStr::new("-p"),
            toml.as_os_str(),
            OsStr::new("--allow-read"),
            bins,
        ];
        sandboxed_os(&ws, &base, &read).assert_errno("EACCES");
        let mut allowed = base.to_vec();
        allowed.extend([OsStr::new("--allow-read"), dir.as_os_str()]);
        sandboxed_os(&ws, &allowed, &read).assert_ok();
        // -C into such a directory: `:cwd` is writable there.
        let c = [OsStr::new("-C"), dir.as_os_str()];
        sandboxed_os(&ws, &c, &[OsStr::new("write"), OsStr::new("g")]).assert_ok();
        assert!(dir.join("g").exists());
        // The dry run names it on one line.
        let out = cordon_os(
            &ws,
            &[
                OsStr::new("run"),
                OsStr::new("-w"),
                dir.as_os_str(),
                OsStr::new("--dry-run"),
            ],
            &[],
        );
        assert_eq!(out.status, 0, "{out:?}");
        assert!(out.stdout.contains(&*dir.to_string_lossy()), "{out:?}");

        // Missing, or a bad special name: one clean line.
        let missing = join_bytes(&ws.join("outside"), b"gone\xff");
        let out = cordon_os(
            &ws,
            &[
                OsStr::new("run"),
                OsStr::new("-w"),
                missing.as_os_str(),
                OsStr::new("--"),
                OsStr::new("true"),
            ],
            &[],
        );
        out.assert_refused("(from --writable-root) does not exist");
        let out = cordon_os(
            &ws,
            &[
                OsStr::new("run"),
                OsStr::new("--allow-write"),
                &os(b":\xff"),
                OsStr::new("--"),
                OsStr::new("true"),
            ],
            &[],
        );
        out.assert_refused("--allow-write");
    }
}

#[test]
fn non_utf8_files_are_clean_errors() {
    for user in users() {
        let ws = Ws::new(user);
        let toml = ws.join("bad.toml");
        std::fs::write(&toml, b"description = \"caf\xe9\"\n").unwrap();
        let t = toml.to_str().unwrap();
        cordon_ok(&ws, &["run", "-p", t, "--", "true"]).assert_refused(t);
        let req = ws.join("bad.json");
        std::fs::write(&req, b"{\"command\":[\"echo\",\"\xff\"],\"cwd\":\"/\"}").unwrap();
        let r = req.to_str().unwrap();
        cordon_ok(&ws, &["rerun", "--request", r]).assert_refused(r);
        // A profile *path* that is not UTF-8: clap refuses it in one line.
        let out = cordon_os(
            &ws,
            &[
                OsStr::new("run"),
                OsStr::new("-p"),
                &os(b"p\xff.toml"),
                OsStr::new("--"),
                OsStr::new("true"),
            ],
            &[],
        );
        out.assert_refused("UTF-8");
    }
}

/// Issue 17 item 2: in Codex's JSON `writable_roots` are absolute paths.
/// `{"writable_roots":[":root"]}` granted write to `/`; a `:name`, `~` or
/// relative path is refused now, and a root that does not exist is skipped
/// with one warning, as Codex skips it (cordon's own flags stay strict).
#[test]
fn codex_writable_roots_are_absolute_and_missing_ones_are_skipped() {
    let ws = Ws::new(User::Root);
    let ran = ws.s("work/ran");
    for root in [":root", ":tmpdir", "~/x", "relative/dir"] {
        let json =
            serde_json::json!({"type": "workspace-write", "writable_roots": [root]}).to_string();
        let out = cordon_ok(&ws, &["run", "--policy-json", &json, "--", "touch", &ran]);
        out.assert_refused("Codex's JSON takes absolute paths only");
        assert!(!Path::new(&ran).exists(), "{root}: the command ran");
    }
    let gone = ws.s("outside/gone");
    let json = serde_json::json!({"type": "workspace-write", "writable_roots": [gone]}).to_string();
    let out = cordon_ok(&ws, &["run", "--policy-json", &json, "--", "touch", &ran]);
    assert_eq!(out.status, 0, "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "cordon: warning: --policy-json: writable_roots: {gone} does not exist; skipped, as Codex skips it\n"
        )
    );
    assert!(Path::new(&ran).exists());
    cordon_ok(&ws, &["run", "-w", &gone, "--", "true"]).assert_refused("does not exist");
}

/// Issue 18 item 7: a misspelt flag names the one meant, in the one
/// `cordon: ` line; `cordon help SUBCOMMAND` prints that subcommand's help.
#[test]
fn typos_get_a_suggestion_and_help_takes_a_subcommand() {
    let ws = Ws::new(User::Root);
    cordon_ok(&ws, &["run", "--netwrk", "--", "true"])
        .assert_refused("unexpected argument '--netwrk' found (did you mean `--network`?)");
    cordon_ok(&ws, &["explain", "--jsn"]).assert_refused("(did you mean `--json`?)");
    let out = cordon_ok(&ws, &["help", "run"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stdout.contains("Usage: cordon run [OPTIONS] [CMD]..."),
        "{out:?}"
    );
    let out = cordon_ok(&ws, &["help", "skill"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(out.stdout.contains("Usage: cordon skill"), "{out:?}");
}

/// Issue 18 items 3, 5, 7, 8: each new flag, TOML entry, variable and
/// subcommand argument refuses bad input with one line naming it, and
/// nothing runs.
#[test]
fn the_configuration_inputs_of_issue_18_are_refused_with_one_line() {
    for user in users() {
        let ws = Ws::new(user);
        let ran = ws.s("work/ran");
        let bad_toml = |entry: &str| {
            let p = ws.write(
                &format!("outside/p{}.toml", entry.len()),
                &format!("[file_system]\nwrite = [{}]\n", toml_str(entry)),
            );
            p.to_str().unwrap().to_string()
        };
        // (flags, extra environment, the error line's text)
        type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
        let cases: Vec<Case> = vec![
            (
                vec!["--allow-write-optional".into(), ":cwd".into()],
                vec![],
                "--allow-write-optional :cwd: only a path can be optional",
            ),
            (
                vec!["--allow-write-optional".into(), "".into()],
                vec![],
                "--allow-write-optional : an empty path",
            ),
            (
                vec!["-p".into(), bad_toml("?:caches")],
                vec![],
                "file_system.write: `?:caches`: only a path can be optional (`?~/.cache/tool`), not the special name `:caches`; remove the `?`",
            ),
            (
                vec!["-p".into(), bad_toml("?")],
                vec![],
                "file_system.write: an empty path",
            ),
            (
                vec!["-p".into(), bad_toml(":cache")],
                vec![],
                "unknown special name `:cache` (known: :root, :cwd, :tmpdir, :slash_tmp, :minimal, :caches)",
            ),
            (
                vec!["-w".into(), ":caches".into()],
                vec![("HOME", "")],
                ":caches (from --writable-root) names the caches under $HOME, which is not set; set HOME or remove :caches",
            ),
            (
                vec!["-p".into(), "a b".into()],
                vec![],
                "profile `a b` is neither a built-in",
            ),
            (
                vec!["-p".into(), "nope".into()],
                vec![("XDG_CONFIG_HOME", "/nonexistent-xdg")],
                "unknown profile `nope`: not a built-in (read-only, workspace-write, full-access) and no /nonexistent-xdg/cordon/profiles/nope.toml exists",
            ),
            (
                vec![],
                vec![("CORDON_PROFILE", "no such")],
                "CORDON_PROFILE=no such: profile `no such` is neither a built-in",
            ),
        ];
        for (flags, env, want) in cases {
            let mut args: Vec<&OsStr> = vec![OsStr::new("run")];
            args.extend(flags.iter().map(OsStr::new));
            args.extend([OsStr::new("--"), OsStr::new("touch"), OsStr::new(&ran)]);
            let env: Vec<(OsString, OsString)> =
                env.iter().map(|(k, v)| (k.into(), v.into())).collect();
            let out = cordon_os(&ws, &args, &env);
            out.assert_refused(want);
            assert!(!Path::new(&ran).exists(), "{flags:?}: the command ran");
        }
        // CORDON_PROFILE that is not UTF-8.
        let out = cordon_os(
            &ws,
            &[OsStr::new("run"), OsStr::new("--"), OsStr::new("true")],
            &[("CORDON_PROFILE".into(), os(NOT_UTF8))],
        );
        out.assert_refused("CORDON_PROFILE=caf");
        out.assert_refused(
            "not valid UTF-8; name a profile or a UTF-8 path, or unset CORDON_PROFILE",
        );
        for (args, want) in [
            (
                &["completions", "elvish"][..],
                "invalid value 'elvish' for '<SHELL>'",
            ),
            (
                &["completions"],
                "the following required arguments were not provided: <SHELL>",
            ),
            (&["man", "nope"], "man nope: no such subcommand"),
            (&["profiles", "a/b"], "unknown profile `a/b`: use one of"),
            (
                &["profiles", "--json", "--json"],
                "the argument '--json' cannot be used multiple times",
            ),
        ] {
            cordon_ok(&ws, args).assert_refused(want);
        }
    }
}

/// Issue 17: each Codex shape cordon still refuses gives one 125 line
/// naming the field and the fix, and nothing runs.
#[test]
fn codex_shapes_cordon_refuses_name_the_field() {
    let ws = Ws::new(User::Root);
    let ran = ws.s("work/ran");
    let entry = |path: serde_json::Value, access: &str| serde_json::json!({"file_system": {"entries": [{"path": path, "access": access}]}});
    let special = |kind: &str| serde_json::json!({"type": "special", "value": {"kind": kind}});
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            serde_json::json!({"type": "read-only", "access": {"type": "restricted", "readable_roots": ["~/src"]}}),
            "access.readable_roots: `~/src` is not an absolute path",
        ),
        (
            serde_json::json!({"type": "workspace-write", "read_only_access": {"type": "restricted", "readable_roots": [":minimal"]}}),
            "read_only_access.readable_roots: `:minimal` is not an absolute path",
        ),
        (
            serde_json::json!({"type": "workspace-write", "read_only_access": {"type": "full-access"}, "read_access": {"type": "full-access"}}),
            "duplicate field `read_only_access`",
        ),
        (
            serde_json::json!({"type": "external-sandbox", "network_access": true}),
            "the shape is {\"type\":\"external-sandbox\",\"network_access\":\"restricted\" or \"enabled\"}",
        ),
        (
            serde_json::json!({"type": "managed", "file_system": {"type": "restricted", "entries": []}}),
            "missing field `network`",
        ),
        // A field a shape does not have is refused, also on the shapes
        // without fields (serde would ignore it on a unit variant).
        (
            serde_json::json!({"type": "danger-full-access", "network_access": false}),
            "unknown field `network_access`",
        ),
        (
            serde_json::json!({"type": "disabled", "network": "restricted"}),
            "unknown field `network`",
        ),
        (
            serde_json::json!({"type": "managed", "file_system": {"type": "unrestricted", "entries": []}, "network": "enabled"}),
            "unknown field `entries`",
        ),
        (
            serde_json::json!({"type": "read-only", "access": {"type": "full-access", "readable_roots": ["/usr"]}}),
            "unknown field `readable_roots`",
        ),
        (
            entry(
                serde_json::json!({"type": "special", "value": {"kind": "root", "subpath": "x"}}),
                "read",
            ),
            "unknown field `subpath`",
        ),
        (
            entry(
                serde_json::json!({"type": "path", "path": "rel/dir"}),
                "read",
            ),
            "file_system.entries[0].path.path: `rel/dir` is not an absolute path",
        ),
        (
            entry(special("root"), "none"),
            "file_system.entries[0]: \"access\": \"none\" on `:root`",
        ),
        (
            entry(special("minimal"), "write"),
            "file_system.entries[0]: `minimal` is a read scope",
        ),
        (
            entry(special("unknown_kind"), "none"),
            "\"access\": \"none\" on a special kind cordon does not know",
        ),
        (
            entry(
                serde_json::json!({"type": "glob_pattern", "pattern": "**/.env"}),
                "read",
            ),
            "a glob_pattern can only deny",
        ),
        (
            entry(
                serde_json::json!({"type": "glob_pattern", "pattern": "**"}),
                "none",
            ),
            "matches everything",
        ),
        (
            serde_json::json!({"type": "managed", "network": "restricted", "file_system": {"type": "restricted", "entries": [], "glob_scan_max_depth": 0}}),
            "file_system.glob_scan_max_depth: glob_depth = 0",
        ),
        (
            entry(
                serde_json::json!({"type": "special", "value": {"kind": "project_roots", "subpath": "../up"}}),
                "write",
            ),
            "project_roots subpath `../up` must be relative to the project root",
        ),
        (
            entry(
                serde_json::json!({"type": "special", "value": {"kind": "project_roots", "subpath": ".env"}}),
                "none",
            ),
            "\"access\": \"none\" takes an absolute path",
        ),
        (
            serde_json::json!({"macos": {"macos_contacts": "read_write"}}),
            "macos.contacts = read_write is not supported",
        ),
        (
            serde_json::json!({"macos": {"macos_automation": "some"}}),
            "automation `some` is not `none`, `all` or a list of bundle ids",
        ),
        (
            serde_json::json!({"macos": {"macos_preferences": "read_write", "preferences": "none"}}),
            "duplicate field `preferences`",
        ),
    ];
    for (policy, needle) in cases {
        let out = cordon_ok(
            &ws,
            &[
                "run",
                "--policy-json",
                &policy.to_string(),
                "--",
                "touch",
                &ran,
            ],
        );
        assert_eq!(out.status, 125, "{policy}: {out:?}");
        out.assert_refused(needle);
        assert!(!Path::new(&ran).exists(), "{policy}: the command ran");
    }
    // A typed profile is a whole sandbox, not grants.
    let out = cordon_ok(
        &ws,
        &[
            "run",
            "--permissions",
            r#"{"type":"disabled"}"#,
            "--",
            "touch",
            &ran,
        ],
    );
    out.assert_refused("a typed profile");
    // In cordon's TOML the entries form is not taken.
    let toml = ws.write("p.toml", "[file_system]\nentries = []\n");
    let out = cordon_ok(
        &ws,
        &["run", "-p", toml.to_str().unwrap(), "--", "touch", &ran],
    );
    out.assert_refused("file_system.entries is Codex's JSON form");
    assert!(!Path::new(&ran).exists());
}

/// Issue 18 item 4: git mode's key takes a boolean, and a repository that
/// git mode cannot hold (no `commondir`) is refused with the fix.
#[test]
fn git_mode_bad_input_is_one_line() {
    let ws = Ws::new(User::Root);
    let toml = ws.write(
        "git.toml",
        "[file_system]\nwrite = [\":cwd\"]\ngit_commits = \"yes\"\n",
    );
    let t = toml.to_str().unwrap();
    cordon_ok(&ws, &["run", "-p", t, "--", "true"])
        .assert_refused("invalid type: string \"yes\", expected a boolean");
    git(&ws, &ws.work(), &["init", "-q"]);
    cordon_ok(&ws, &["run", "--git-commits", "--", "true"])
        .assert_refused("--git-commits: the gitdir")
        .assert_refused("has no commondir file");
    // An `objects` that no mount point can hold in place (a symlink).
    ws.write("work/.git/commondir", ".\n");
    let g = ws.join("work/.git");
    std::fs::rename(g.join("objects"), ws.join("objs")).unwrap();
    std::os::unix::fs::symlink(ws.join("objs"), g.join("objects")).unwrap();
    cordon_ok(&ws, &["run", "--git-commits", "--", "true"])
        .assert_refused("--git-commits: ")
        .assert_refused("objects is a symlink or no directory")
        .assert_refused("make it a plain directory");
}

/// Issue 16: network ports and domain patterns. Each bad value is one
/// `cordon: ` line naming the input and the fix, exit 125, nothing ran;
/// in flags, in a profile and in a permission profile alike.
#[test]
fn bad_ports_and_domain_patterns_are_refused() {
    for user in users() {
        let ws = Ws::new(user);
        let ran = ws.s("work/ran");
        let cases: &[(&[&str], &str)] = &[
            (&["--allow-domain", "https://x/"], "has a scheme"),
            (&["--allow-domain", "x/y"], "has a path"),
            (&["--allow-domain", ""], "is empty"),
            (&["--allow-domain", "u@x"], "user part"),
            (&["--allow-domain", "x:0"], "outside 1-65535"),
            (&["--allow-domain", "x:70000"], "outside 1-65535"),
            (&["--allow-domain", "*"], "leading `*.`"),
            (&["--allow-domain", "*.com"], "whole top-level domain"),
            (&["--allow-domain", "::1"], "in brackets"),
            (
                &["--allow-connect-tcp", "0"],
                "give a number from 1 to 65535",
            ),
            (
                &["--allow-connect-tcp", "70000"],
                "give a number from 1 to 65535",
            ),
            (
                &["--allow-bind-tcp", "http"],
                "give a number from 1 to 65535",
            ),
            (
                &["--network", "--allow-domain", "crates.io"],
                "pass --no-network to keep only the listed ports and domains",
            ),
            (
                &["--network", "--allow-connect-tcp", "443"],
                "pass --no-network to keep only the listed ports and domains",
            ),
        ];
        for (flags, needle) in cases {
            let mut args = vec!["run"];
            args.extend_from_slice(flags);
            args.extend(["--", "touch", &ran]);
            cordon_ok(&ws, &args).assert_refused(needle);
            assert!(!Path::new(&ran).exists(), "{flags:?}: the command ran");
        }
        for (toml, needle) in [
            (
                "[network]\ndomains = [\"https://crates.io/\"]\n",
                "network.domains: domain pattern",
            ),
            (
                "[network]\nconnect_tcp = [0]\n",
                "network.connect_tcp: port `0`",
            ),
            (
                "[network]\nbind_tcp = [70000]\n",
                "network.bind_tcp: port `70000`",
            ),
            ("[network]\nconnect_tcp = [\"443\"]\n", "invalid profile"),
        ] {
            let p = ws.write("outside/net.toml", toml);
            let p = p.to_str().unwrap();
            cordon_ok(&ws, &["run", "-p", p, "--", "touch", &ran]).assert_refused(needle);
            assert!(!Path::new(&ran).exists(), "{toml}: the command ran");
        }
        let out = cordon_ok(
            &ws,
            &[
                "run",
                "--permissions",
                r#"{"network":{"domains":[""]}}"#,
                "--",
                "touch",
                &ran,
            ],
        );
        out.assert_refused("is empty");
        assert!(!Path::new(&ran).exists());
    }
}

#[test]
fn trace_and_learn_refuse_an_unwritable_output_before_running() {
    for user in users() {
        let ws = Ws::new(user);
        let marker = ws.s("work/ran");
        let dir = ws.s("tmp");
        for sub in ["trace", "learn"] {
            // A directory, and a file in a directory that does not exist.
            for bad in [dir.as_str(), "/nonexistent-dir/out"] {
                let out = cordon(&ws, &[sub, "-o", bad, "--", "touch", &marker]);
                out.assert_refused(&format!("-o {bad}"));
                assert!(!Path::new(&marker).exists(), "{sub} ran the command");
            }
        }
        // learn without -o: a usage error, 125, nothing ran.
        let out = cordon(&ws, &["learn", "--", "touch", &marker]);
        assert_eq!(out.status, 125, "{out:?}");
        assert!(!Path::new(&marker).exists());
    }
}

#[test]
fn extends_with_a_cycle_or_a_missing_file_is_one_clean_error() {
    for user in users() {
        let ws = Ws::new(user);
        ws.write("work/self.toml", "extends = \"self.toml\"\n");
        cordon(&ws, &["run", "-p", "self.toml", "--", "true"]).assert_refused("a cycle");
        ws.write("work/gone.toml", "extends = \"../nowhere/p.toml\"\n");
        cordon(&ws, &["run", "-p", "gone.toml", "--", "true"]).assert_refused("nowhere/p.toml");
        let json = r#"{"extends": "read-only"}"#;
        cordon(&ws, &["run", "--policy-json", json, "--", "true"])
            .assert_refused("`extends` is for profile TOML files");
    }
}

#[test]
fn request_working_directories_that_would_widen_the_turn_are_refused() {
    for user in users() {
        let ws = Ws::new(user);
        std::os::unix::fs::symlink(ws.join("outside"), ws.join("work/link")).unwrap();
        let marker = ws.s("outside/marker");
        let turn = r#"{"sandbox_policy":{"type":"workspace-write"}}"#;
        let call = |dir: &str, turn: &str| {
            format!(r#"{{"command":["touch",{marker:?}],"workdir":{dir:?},"turn":{turn}}}"#)
        };
        let cases = [
            (call("/", turn), "workdir / would be the writable `:cwd`"),
            (call(&ws.s("home"), turn), "which covers $HOME"),
            (call(&ws.s(""), turn), "which covers $HOME"),
            (call(&ws.s("work/link"), turn), "passes through a symlink"),
            (
                call(&ws.s("work"), r#"{"cwd":"work"}"#),
                "turn.cwd: `work` is not an absolute path",
            ),
            (
                call(&ws.s("work"), r#"{"cwd":["/"]}"#),
                "turn.cwd: invalid type",
            ),
            (
                call(&ws.s("work"), &format!(r#"{{"cwd":{:?}}}"#, ws.s("nope"))),
                "turn.cwd",
            ),
            (
                call(&ws.s("work"), r#"{"cwd":"/a\u0000"}"#),
                "turn.cwd: contains a NUL byte",
            ),
        ];
        for (i, (text, needle)) in cases.iter().enumerate() {
            let f = ws.write(&format!("req-{i}.json"), text);
            let f = f.to_str().unwrap();
            let out = cordon_ok(&ws, &["rerun", "--request", f]);
            out.assert_refused(needle);
            assert!(out.stderr.contains(f), "{out:?}");
            assert!(!ws.join("outside/marker").exists(), "{user:?}: ran {text}");
        }
    }
}

/// Adversarial pass 20: `--allow-write G/hooks`, for the gitdir `G` of the
/// working directory's repository kept outside every root (`git init
/// --separate-git-dir`), was accepted and the command wrote a hook; the
/// same grant on a gitdir inside a root is refused. Both are now.
#[test]
fn a_grant_inside_a_gitdir_outside_the_roots_is_refused() {
    for user in users() {
        let ws = Ws::new(user);
        let gd = ws.s("outside/gd");
        let out = run_as(
            user,
            &ws.work(),
            &ws.env(),
            &["git", "init", "-q", "--separate-git-dir", &gd, "."],
        );
        assert_eq!(out.status, 0, "{out:?}");
        let hooks = ws.s("outside/gd/hooks");
        let out = cordon(&ws, &["run", "-w", &hooks, "--", "true"]);
        assert_no_panic(&out);
        out.assert_refused("which git reads or runs from");
        assert!(
            out.stderr.contains("a grant does not lift a protection"),
            "{out:?}"
        );
        // The gitdir whole as a root is a grant of it, as before.
        let out = cordon(&ws, &["run", "-w", &gd, "--", "true"]);
        assert_eq!(out.status, 0, "{out:?}");
    }
}
