//! `:caches` and optional paths (issue 18 items 3 and 5; contract §6): the
//! package managers' caches under `$HOME` are writable only when a policy
//! names `:caches`; a missing cache is skipped; `--allow-write-optional` and
//! `"?PATH"` grant a path that may not exist yet. Real cargo and npm where
//! present, and the probe for the exact errno, as root and as nobody.

mod support;

use std::path::{Path, PathBuf};

use support::*;

/// A directory inside each cache `:caches` names (docs/caches in README).
const CACHE_DIRS: [&str; 9] = [
    "home/.cache/pip",
    "home/.cargo/registry/cache",
    "home/.cargo/git/db",
    "home/.npm/_cacache",
    "home/.gradle/caches/modules-2",
    "home/.m2/repository/org",
    "home/go/pkg/mod/cache",
    "home/.local/share/pnpm/store",
    "home/.yarn/berry/cache",
];

#[test]
fn caches_are_writable_only_when_named_and_code_beside_them_never() {
    for user in users() {
        let ws = Ws::new(user);
        for d in CACHE_DIRS {
            ws.mkdir(d);
        }
        ws.mkdir("home/.cargo/bin");
        ws.write("home/.cargo/config.toml", "");
        for d in CACHE_DIRS {
            let f = ws.s(&format!("{d}/x"));
            control(&ws, &["write", &f]).assert_ok();
            std::fs::remove_file(&f).unwrap();
            sandboxed(&ws, &[], &["write", &f]).assert_errno(denied_write(user));
            sandboxed(&ws, &["-w", ":caches"], &["write", &f]).assert_ok();
            assert!(ws.join(&format!("{d}/x")).exists(), "{user:?} {d}");
        }
        // Beside the caches: programs on PATH and configuration that names
        // programs stay read-only, and so does $HOME itself.
        for f in [
            "home/.cargo/bin/cargo-evil",
            "home/.cargo/config.toml",
            "home/x",
        ] {
            sandboxed(&ws, &["-w", ":caches"], &["write", &ws.s(f)])
                .assert_errno(denied_write(user));
        }
    }
}

#[test]
fn missing_caches_are_skipped_and_stay_uncreatable() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("home/.npm");
        // Only ~/.npm exists: the run starts, the others are no grant.
        let out = cordon(&ws, &["run", "-w", ":caches", "--dry-run", "--", "true"]);
        assert_eq!(out.status, 0, "{out:?}");
        assert!(
            out.stdout
                .contains(&format!("write {}  (from :caches)", ws.s("home/.npm")))
        );
        assert!(out.stdout.contains("can poison later builds"), "{out:?}");
        assert_eq!(out.stdout.matches("(from :caches)").count(), 1, "{out:?}");
        let f = ws.s("home/.cache/pip/x");
        sandboxed(&ws, &["-w", ":caches"], &["mkdir", &ws.s("home/.cache")])
            .assert_errno(denied_write(user));
        sandboxed(&ws, &["-w", ":caches"], &["write", &f]).assert_errno("ENOENT");
        // Without :caches nothing of it shows.
        let out = cordon(&ws, &["run", "--dry-run", "--", "true"]);
        assert!(!out.stdout.contains(":caches"), "{out:?}");
    }
}

#[test]
fn optional_paths_are_granted_when_present_and_skipped_when_missing() {
    for user in users() {
        let ws = Ws::new(user);
        let tool = ws.s("outside/tool-cache");
        let f = format!("{tool}/x");
        // Missing: the run goes ahead, and the path cannot be made.
        let out = sandboxed(&ws, &["--allow-write-optional", &tool], &["mkdir", &tool]);
        out.assert_errno(denied_write(user));
        // `-w` stays strict.
        cordon(&ws, &["run", "-w", &tool, "--", "true"]).assert_refused("does not exist");
        // Present: granted, from the flag and from a profile's `?PATH`.
        ws.mkdir("outside/tool-cache");
        control(&ws, &["write", &f]).assert_ok();
        std::fs::remove_file(&f).unwrap();
        sandboxed(&ws, &[], &["write", &f]).assert_errno(denied_write(user));
        sandboxed(&ws, &["--allow-write-optional", &tool], &["write", &f]).assert_ok();
        std::fs::remove_file(&f).unwrap();
        let profile = ws.write(
            "outside/p.toml",
            &format!("[file_system]\nwrite = [\":cwd\", \"?{tool}\", \"?~/.not-there\"]\n"),
        );
        let p = profile.to_str().unwrap();
        sandboxed(&ws, &["-p", p], &["write", &f]).assert_ok();
        // A dangling link is not "missing": it fails as any path does.
        std::os::unix::fs::symlink(ws.join("nowhere"), ws.join("outside/dangling")).unwrap();
        cordon(
            &ws,
            &[
                "run",
                "--allow-write-optional",
                &ws.s("outside/dangling"),
                "--",
                "true",
            ],
        )
        .assert_refused("does not exist");
    }
}

/// The toolchain's own cargo (not rustup's proxy, which needs its home).
fn toolchain_bin() -> PathBuf {
    let out = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc --print sysroot");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()).join("bin")
}

/// The cargo home this test runs under, which holds cfg-if (a dependency
/// of cordon, so its registry has it).
fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
}

/// A cargo home in the workspace with one crate downloaded but not yet
/// unpacked: `cargo build --offline` unpacks it into `registry/src`, the
/// write a real build makes in the cache.
fn offline_registry(ws: &Ws) {
    let reg = cargo_home().join("registry");
    let index = std::fs::read_dir(reg.join("cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("cfg-if-1.0.5.crate").exists())
        .expect("cfg-if-1.0.5.crate in the cargo registry (a dependency of cordon)");
    let name = index.file_name().unwrap().to_str().unwrap();
    let copy = |from: &Path, to: &str| {
        let to = ws.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, &to).unwrap();
    };
    copy(
        &index.join("cfg-if-1.0.5.crate"),
        &format!("home/.cargo/registry/cache/{name}/cfg-if-1.0.5.crate"),
    );
    let idx = reg.join("index").join(name);
    copy(
        &idx.join("config.json"),
        &format!("home/.cargo/registry/index/{name}/config.json"),
    );
    copy(
        &idx.join(".cache/cf/g-/cfg-if"),
        &format!("home/.cargo/registry/index/{name}/.cache/cf/g-/cfg-if"),
    );
    ws.write(
        "work/Cargo.toml",
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ncfg-if = \"=1.0.5\"\n",
    );
    ws.write("work/src/main.rs", "fn main() { println!(\"hi\"); }\n");
    ws.chown_tree(&ws.join("home"));
}

#[test]
fn cargo_unpacks_into_its_registry_only_under_caches() {
    let bin = toolchain_bin();
    let mut ran_as = Vec::new();
    for user in users() {
        // rustup keeps toolchains in the installing user's home; where
        // that is closed to others (/root is 0700), nobody cannot run cargo
        // with or without cordon. Root always runs this.
        if user == User::Nobody && !world_runnable(&bin.join("cargo")) {
            eprintln!(
                "note: {} is not runnable by nobody; cargo as root only",
                bin.display()
            );
            continue;
        }
        ran_as.push(user);
        let ws = Ws::new(user);
        offline_registry(&ws);
        let mut env = ws.env();
        env[0].1 = format!("{}:{}", bin.display(), env[0].1);
        env.push(("CARGO_HOME".into(), ws.s("home/.cargo")));
        let cargo = |flags: &[&str]| {
            let mut argv = vec![cordon_bin().to_str().unwrap(), "run"];
            argv.extend_from_slice(flags);
            argv.extend(["--", "cargo", "build", "--offline", "--quiet"]);
            run_as(user, &ws.work(), &env, &argv)
        };
        let unpacked = || {
            std::fs::read_dir(ws.join("home/.cargo/registry"))
                .unwrap()
                .any(|e| e.unwrap().file_name() == "src")
        };
        let out = cargo(&[]);
        assert_ne!(out.status, 0, "{out:?}");
        let want = if denied_write(user) == "EROFS" {
            "Read-only file system (os error 30)"
        } else {
            "Permission denied (os error 13)"
        };
        assert!(out.stderr.contains(want), "{user:?}: {out:?}");
        assert!(!unpacked(), "{user:?}");
        let out = cargo(&["-w", ":caches"]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        assert!(
            ws.join("home/.cargo/registry/src")
                .read_dir()
                .unwrap()
                .next()
                .is_some()
        );
        assert!(ws.join("work/target/debug/hello").exists());
    }
    assert!(ran_as.contains(&User::Root) || !is_root(), "{ran_as:?}");
}

#[test]
fn npm_fills_its_cache_only_under_caches() {
    for user in users() {
        let ws = Ws::new(user);
        ws.mkdir("home/.npm");
        // A package packed from the workspace: nothing from the network.
        ws.write(
            "work/package.json",
            "{\"name\": \"cordon-cache-test\", \"version\": \"1.0.0\"}\n",
        );
        let npm = |flags: &[&str], args: &[&str]| {
            let mut argv = vec!["run"];
            argv.extend_from_slice(flags);
            argv.extend(["--", "npm", "--offline"]);
            argv.extend_from_slice(args);
            cordon(&ws, &argv)
        };
        // Packed without cordon (pack goes through the cache too), then
        // the cache emptied: the control run.
        let out = run_as(user, &ws.work(), &ws.env(), &["npm", "--offline", "pack"]);
        assert_eq!(out.status, 0, "{out:?}");
        let tgz = "./cordon-cache-test-1.0.0.tgz";
        let cacache = ws.join("home/.npm/_cacache");
        assert!(cacache.join("index-v5").is_dir(), "{user:?}");
        std::fs::remove_dir_all(&cacache).unwrap();
        let out = npm(&[], &["cache", "add", tgz]);
        assert_ne!(out.status, 0, "{user:?}: {out:?}");
        assert!(!cacache.exists(), "{user:?}");
        let out = npm(&["-w", ":caches"], &["cache", "add", tgz]);
        assert_eq!(out.status, 0, "{user:?}: {out:?}");
        assert!(cacache.join("index-v5").is_dir(), "{user:?}");
    }
}
