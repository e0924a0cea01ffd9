//! `cordon doctor` (issue 6): its report agrees with what the probe finds on
//! this host, and with what `cordon run` does; under the probe's
//! `deny-syscall` wrapper it reports the missing feature and the profiles
//! it leaves refused. Root and an unprivileged user.

mod support;

use serde_json::Value;
use support::*;

/// `[wrap...] cordon doctor --json` as the workspace's user: status and JSON.
fn doctor(ws: &Ws, wrap: &[&str]) -> (i32, Value) {
    let mut argv: Vec<&str> = wrap.to_vec();
    argv.extend([cordon_bin().to_str().unwrap(), "doctor", "--json"]);
    let out = run_as(ws.user, &ws.work(), &ws.env(), &argv);
    let j = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    (out.status, j)
}

fn deny(syscall: &str) -> Vec<String> {
    vec![
        probe_bin().to_str().unwrap().to_string(),
        "deny-syscall".into(),
        syscall.into(),
        "--".into(),
    ]
}

fn profile<'a>(j: &'a Value, name: &str) -> &'a Value {
    j["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no profile {name}: {j}"))
}

#[test]
fn doctor_reports_this_host_as_the_probe_and_run_find_it() {
    for user in users() {
        let ws = Ws::new(user);
        let (status, j) = doctor(&ws, &[]);
        assert_eq!(j["os"], "linux");
        let abi = j["landlock"]["abi"].as_u64().unwrap();
        assert!(abi >= 1, "these tests need Landlock: {j}");
        for f in j["landlock"]["features"].as_array().unwrap() {
            let since = f["abi"].as_u64().unwrap();
            assert_eq!(f["supported"], abi >= since, "{f}");
        }
        let lsm = j["landlock"]["lsm"].as_str().unwrap();
        assert!(["listed", "not-listed", "unknown"].contains(&lsm), "{lsm}");
        assert_eq!(j["seccomp"]["filters"], true, "{j}");

        // Namespaces: the same answer the probe gets by trying.
        let user_ns = control(&ws, &["unshare-user"]).json()["ok"] == true;
        assert_eq!(j["namespaces"]["user"]["available"], user_ns, "{j}");

        // Profiles: what `run` does with them here.
        assert_eq!(profile(&j, "full-access")["status"], "unsandboxed");
        let ww = profile(&j, "workspace-write");
        assert_eq!(ww["default"], true);
        let run = sandboxed(&ws, &[], &["write", &ws.s("work/x")]);
        let runs = run.status == 0;
        assert_eq!(ww["run_refuses"], !runs, "{ww} vs {run:?}");
        if abi >= 6 {
            // The workspace has no .git, so nothing is left unenforced.
            assert_eq!(ww["status"], "enforced", "{j}");
            assert_eq!(profile(&j, "read-only")["status"], "enforced", "{j}");
        }
        assert_eq!(status, if ww["status"] == "enforced" { 0 } else { 1 });
        assert_eq!(j["default_profile_enforced"], status == 0);
        assert_eq!(j["cwd"], ws.s("work"));
    }
}

#[test]
fn doctor_lists_protected_paths_that_explain_calls_unenforced() {
    for user in users() {
        let ws = Ws::new(user);
        ws.write("work/.git/config", "[core]\n");
        let (status, j) = doctor(&ws, &[]);
        let out = cordon(&ws, &["explain", "--json"]);
        let e: Value = serde_json::from_str(out.stdout.trim()).unwrap();
        let unenforced: Vec<String> = e["sandbox"]["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "protected" && f["enforced"] == false)
            .map(|f| f["feature"].as_str().unwrap().to_string())
            .collect();
        let ww = profile(&j, "workspace-write");
        let gaps: Vec<&str> = ww["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["feature"] == "protected")
            .map(|g| g["detail"].as_str().unwrap())
            .collect();
        assert_eq!(gaps.len(), unenforced.len(), "{gaps:?} vs {unenforced:?}");
        for (g, f) in gaps.iter().zip(&unenforced) {
            assert!(g.starts_with(f.as_str()), "{g} vs {f}");
        }
        if unenforced.is_empty() {
            assert_eq!(status, 0, "{j}");
        } else {
            assert_eq!(ww["status"], "gaps");
            assert_eq!(status, 1, "{j}");
        }
    }
}

#[test]
fn doctor_without_landlock_reports_it_missing_and_profiles_refused() {
    for user in users() {
        let ws = Ws::new(user);
        let wrap = deny("landlock_create_ruleset=ENOSYS");
        let wrap: Vec<&str> = wrap.iter().map(String::as_str).collect();
        let (status, j) = doctor(&ws, &wrap);
        assert_eq!(status, 1, "{j}");
        assert_eq!(j["landlock"]["abi"], 0);
        assert_eq!(j["landlock"]["error"], "ENOSYS");
        for f in j["landlock"]["features"].as_array().unwrap() {
            assert_eq!(f["supported"], false, "{f}");
        }
        for name in ["read-only", "workspace-write"] {
            let p = profile(&j, name);
            assert_eq!(p["status"], "refused", "{p}");
            assert_eq!(p["run_refuses"], true);
            assert_eq!(p["gaps"][0]["feature"], "landlock");
        }
        assert_eq!(profile(&j, "full-access")["status"], "unsandboxed");
        assert_eq!(j["seccomp"]["mode"], 2, "the wrapper's filter is visible");
        assert_eq!(j["default_profile_enforced"], false);

        // The text says the same, in words.
        let mut argv = wrap.clone();
        argv.extend([cordon_bin().to_str().unwrap(), "doctor"]);
        let out = run_as(user, &ws.work(), &ws.env(), &argv);
        assert_eq!(out.status, 1);
        for needle in [
            "landlock: Landlock is unavailable (ENOSYS)",
            "filesystem (ABI 1): not supported",
            "workspace-write (default): refused",
            "full-access: no sandbox",
        ] {
            assert!(out.stdout.contains(needle), "no {needle:?}: {}", out.stdout);
        }
    }
}

#[test]
fn doctor_without_unshare_reports_namespaces_unavailable() {
    for user in users() {
        let ws = Ws::new(user);
        let wrap = deny("unshare=EPERM");
        let wrap: Vec<&str> = wrap.iter().map(String::as_str).collect();
        let (_, j) = doctor(&ws, &wrap);
        let ns = &j["namespaces"];
        assert_eq!(ns["user"]["available"], false, "{j}");
        assert_eq!(ns["user"]["error"], "EPERM");
        assert_eq!(ns["mount"]["available"], false);
        assert_eq!(ns["mount"]["error"], "EPERM");
        assert!(
            ns["restrictions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str().unwrap().contains("seccomp filter")),
            "{ns}"
        );
        // Landlock itself is untouched by this wrapper.
        assert!(j["landlock"]["abi"].as_u64().unwrap() >= 1);

        let mut argv = wrap.clone();
        argv.extend([cordon_bin().to_str().unwrap(), "doctor"]);
        let out = run_as(user, &ws.work(), &ws.env(), &argv);
        for needle in [
            "user namespace: unavailable (EPERM)",
            "mount namespace: unavailable (EPERM)",
            "likely cause: cordon itself runs under a seccomp filter",
        ] {
            assert!(out.stdout.contains(needle), "no {needle:?}: {}", out.stdout);
        }

        // In a git workspace the default profile needs the namespace: doctor
        // says `run` refuses it, and `run` does.
        ws.write("work/.git/config", "[core]\n");
        let (status, j) = doctor(&ws, &wrap);
        let ww = profile(&j, "workspace-write");
        assert_eq!(ww["status"], "gaps", "{j}");
        assert_eq!(ww["run_refuses"], true, "{j}");
        assert!(
            ww["gaps"]
                .to_string()
                .contains("no private mount namespace"),
            "{ww}"
        );
        assert_eq!(status, 1);
        let mut argv = wrap.clone();
        argv.extend([cordon_bin().to_str().unwrap(), "run", "--", "true"]);
        run_as(user, &ws.work(), &ws.env(), &argv).assert_refused("no private mount namespace");
    }
}

/// Ubuntu 24.04's AppArmor restriction (issue 18, item 12): `unshare`
/// succeeds, then every mount gets `EPERM`. The probe's `deny-syscall`
/// makes exactly that behaviour (mount and mount_setattr refused, unshare
/// allowed) in a test process; doctor must find it by trying, and name it
/// with the fix. The control beside it, without the wrapper, finds the
/// namespace available; no environment variable or flag of cordon can make
/// doctor say either.
#[test]
fn doctor_names_a_restriction_that_lets_unshare_succeed_and_refuses_mounts() {
    for user in users() {
        let ws = Ws::new(user);
        let (_, control) = doctor(&ws, &[]);
        let can = control["namespaces"]["mount"]["available"] == true;
        if user == User::Nobody {
            assert_eq!(can, nobody_gets_a_namespace(), "{control}");
        }
        if !can {
            eprintln!(
                "note: {user:?} gets no mount namespace here; the restriction cannot be told apart"
            );
            continue;
        }
        assert_eq!(
            control["namespaces"]["mount"]["refused_after_unshare"],
            false
        );
        assert!(
            control["namespaces"]["after_unshare"].is_null(),
            "{control}"
        );

        let wrap = deny("mount=EPERM,mount_setattr=EPERM");
        let wrap: Vec<&str> = wrap.iter().map(String::as_str).collect();
        let (_, j) = doctor(&ws, &wrap);
        let ns = &j["namespaces"];
        // unshare itself still works: the user namespace is there.
        assert_eq!(
            ns["user"]["available"], control["namespaces"]["user"]["available"],
            "{j}"
        );
        assert_eq!(ns["mount"]["available"], false, "{j}");
        assert_eq!(ns["mount"]["error"], "EPERM", "{j}");
        assert_eq!(ns["mount"]["refused_after_unshare"], true, "{j}");
        let why = ns["after_unshare"].as_str().unwrap();
        assert!(
            why.contains("apparmor_restrict_unprivileged_userns"),
            "{why}"
        );
        assert!(why.contains("dist/apparmor/cordon"), "{why}");

        let mut argv = wrap.clone();
        argv.extend([cordon_bin().to_str().unwrap(), "doctor"]);
        let out = run_as(user, &ws.work(), &ws.env(), &argv);
        for needle in [
            "mount namespace: unavailable (made, then its first mount got EPERM)",
            "restricted: unshare succeeds, then every mount gets EPERM",
        ] {
            assert!(out.stdout.contains(needle), "no {needle:?}: {}", out.stdout);
        }
        // `run` refuses, and its line points at doctor.
        let mut argv = wrap.clone();
        argv.extend([cordon_bin().to_str().unwrap(), "run", "--", "true"]);
        run_as(user, &ws.work(), &ws.env(), &argv)
            .assert_refused("refuses its mounts")
            .assert_refused("cordon doctor");
    }
}

#[test]
fn doctor_text_ends_with_one_line_per_builtin_profile() {
    let ws = Ws::new(User::Root);
    let out = cordon(&ws, &["doctor"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("profiles (resolved in "))
        .unwrap_or_else(|| panic!("{out:?}"));
    let profiles: Vec<&str> = lines[at + 1..]
        .iter()
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .copied()
        .collect();
    assert_eq!(profiles.len(), 3, "{out:?}");
    assert!(profiles[0].starts_with("  read-only: "), "{out:?}");
    assert!(
        profiles[1].starts_with("  workspace-write (default): "),
        "{out:?}"
    );
    assert!(profiles[2].starts_with("  full-access: "), "{out:?}");
    assert!(out.stdout.starts_with("cordon "), "{out:?}");
    for needle in ["landlock: ", "seccomp: ", "namespaces:", "container: "] {
        assert!(out.stdout.contains(needle), "no {needle:?}: {out:?}");
    }
}
