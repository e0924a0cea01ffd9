//! Skills (contract §6): a skill's scripts run with exactly the permissions
//! its manifest declares, bounded by the turn's policy.
//!
//! - [`manifest`]: the `permissions` block of `agents/openai.yaml` or the
//!   front matter of `SKILL.md`.
//! - [`bounded_plan`]: the turn's plan, or the declared sandbox checked
//!   against it. The checks need resolved paths (a write root lies inside
//!   a turn writable root only once both are canonical), so this runs at
//!   the plan stage: the turn is resolved first, then the declared policy.
//! - [`matching`]: which skill a command belongs to (`run --skills`).
//!
//! The bounds:
//! - each declared write root must lie inside a writable root of the turn,
//!   outside its protected paths and deny entries;
//! - reads are the intersection: a turn that reads everything gives the
//!   declared list (plus `:minimal`, so programs start); a turn that reads a
//!   list keeps each declared path inside one of its roots, and each of its
//!   roots inside a declared path; no declared list keeps the turn's reads;
//! - the network is on only when declared and the turn has it on;
//! - the macOS extensions are the declared ones, else the turn's.
//!
//! A write or network grant the turn does not cover is refused (125) with
//! the grant named: approving it is a rerun with `additional`. A declared
//! read outside the turn's reads is not a grant the turn refuses but a
//! narrowing of it, so it is dropped, and the plan says so.

pub mod manifest;
pub mod matching;

pub use manifest::{Permissions, Skill, load};
pub use matching::{Match, find};

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::plan::{self, Env, Plan, ReadScope, SkillNote, shown};
use crate::policy::{Grant, MacosExtensions, Network, PathSpec, Policy};

/// The plan a command gets as `skill`'s, under the turn `turn`, and
/// whether it is bounded (a declared block: it runs with its whole sandbox
/// or not at all, like a rerun's `permissions` execution). `matched` says
/// why this skill applies, for the plan's account.
pub fn bounded_plan(
    turn: &Policy,
    skill: &Skill,
    cwd: &Path,
    env: &Env,
    matched: Option<String>,
) -> Result<(Plan, bool)> {
    let Some(perms) = &skill.permissions else {
        let mut plan = plan::resolve(turn, cwd, env)?;
        plan.skill = Some(SkillNote {
            dir: skill.dir.clone(),
            manifest: None,
            matched,
            turn: turn.name.clone(),
            decisions: vec![
                "no permissions block in agents/openai.yaml or SKILL.md: the turn's sandbox applies"
                    .into(),
            ],
        });
        return Ok((plan, false));
    };
    let manifest = skill.manifest.clone().unwrap_or_default();
    let turn_plan = plan::resolve(turn, cwd, env)?;
    let mut decisions = Vec::new();
    let write = bound_writes(&perms.write, &turn_plan, env, &skill.dir, &mut decisions)?;
    let (read, lifts) = bound_reads(turn, perms, &turn_plan, env, &mut decisions)?;
    let enabled = bound_network(perms, turn, &turn_plan, &mut decisions)?;
    let macos = bound_macos(perms, turn, &mut decisions);
    let policy = Policy {
        name: format!("skill {} (turn: {})", skill.dir.display(), turn.name),
        description: format!("the permissions {} declares", manifest.display()),
        read,
        write,
        protected: turn.protected.clone(),
        devices: turn.devices.clone(),
        scan_nested_git: turn.scan_nested_git,
        git_commits: turn.git_commits,
        deny: turn.deny.clone(),
        glob_depth: turn.glob_depth,
        lifts,
        network: Network {
            enabled,
            unix_sockets: turn.network.unix_sockets,
            // A skill declares the network on or off only: the turn's
            // ports and domains are not carried into it (narrower, never
            // wider, than the turn).
            ..Network::default()
        },
        macos,
        env: turn.env.clone(),
    };
    let mut plan = plan::resolve(&policy, cwd, env)?;
    refuse_new_lifts(&plan, &turn_plan, &manifest)?;
    plan.skill = Some(SkillNote {
        dir: skill.dir.clone(),
        manifest: Some(manifest),
        matched,
        turn: turn.name.clone(),
        decisions,
    });
    Ok((plan, true))
}

/// The network of the skill's policy: on only when declared on and the
/// turn has it on; declared on under a turn without it is refused.
fn bound_network(
    perms: &Permissions,
    turn: &Policy,
    turn_plan: &Plan,
    decisions: &mut Vec<String>,
) -> Result<bool> {
    Ok(match &perms.network {
        Some(n) if n.value && !turn_plan.network.enabled => {
            return Err(not_covered(
                &n.origin,
                "the network",
                &format!("the turn ({}) has the network off", turn.name),
                r#"{"network":{"enabled":true}}"#,
            ));
        }
        Some(n) if n.value => {
            decisions.push(format!("network: on ({}; the turn allows it)", n.origin));
            true
        }
        Some(n) => {
            decisions.push(format!("network: off ({})", n.origin));
            false
        }
        None => {
            decisions.push("network: off (not declared)".into());
            false
        }
    })
}

/// The macOS extensions of the skill's policy: the declared ones, else the
/// turn's.
fn bound_macos(perms: &Permissions, turn: &Policy, decisions: &mut Vec<String>) -> MacosExtensions {
    match &perms.macos {
        Some(m) => {
            decisions.push(format!("macos: as declared ({})", m.origin));
            m.value.clone()
        }
        None => {
            decisions.push("macos: the turn's (not declared)".into());
            turn.macos.clone()
        }
    }
}

/// The refusal of a declared grant the turn does not cover.
fn not_covered(origin: &str, what: &str, why: &str, additional: &str) -> Error {
    Error::new(format!(
        "{origin} declares {what}, which the turn does not cover: {why}; a skill runs bounded by its turn, so nothing ran; \
         to approve it, rerun the command through `cordon rerun` with \"skill\" and \
         \"execution\": {{\"permissions\": {{\"additional\": {additional}}}}}"
    ))
}

/// A declared path made absolute (`~` expanded) and resolved.
fn resolve_declared(g: &Grant, env: &Env, skill_dir: &Path, what: &str) -> Result<PathBuf> {
    let PathSpec::Path(p) = &g.spec else {
        return Err(Error::new(format!(
            "{}: only paths are declared by skills",
            g.origin
        )));
    };
    let abs =
        plan::absolute(p, skill_dir, env).map_err(|e| Error::new(format!("{}: {e}", g.origin)))?;
    plan::fs::resolve(&abs).map(|r| r.path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_string(),
            _ => format!("cannot be resolved ({e})"),
        };
        Error::new(format!(
            "{}: {what} {} {why}; create it, or fix the skill's manifest",
            g.origin,
            p.display()
        ))
    })
}

/// The write list of the skill's policy: each declared root, checked
/// against the turn in the order below; the first refused one is named.
fn bound_writes(
    declared: &[Grant],
    turn: &Plan,
    env: &Env,
    skill_dir: &Path,
    decisions: &mut Vec<String>,
) -> Result<Vec<Grant>> {
    let mut out = Vec::with_capacity(declared.len());
    for g in declared {
        out.push(bound_write(g, turn, env, skill_dir, decisions)?);
    }
    if declared.is_empty() {
        decisions.push("write: none (no write list declared)".into());
    }
    Ok(out)
}

/// One declared write root: inside a writable root of the turn, not a
/// socket, not protected, not hidden by a deny entry.
fn bound_write(
    g: &Grant,
    turn: &Plan,
    env: &Env,
    skill_dir: &Path,
    decisions: &mut Vec<String>,
) -> Result<Grant> {
    let path = resolve_declared(g, env, skill_dir, "write root")?;
    let json = serde_json::json!({ "file_system": { "write": [path] } }).to_string();
    let what = format!("the write root {}", shown(&path));
    let Some(w) = turn
        .writable
        .iter()
        .find(|w| path.starts_with(&w.root.path))
    else {
        return Err(not_covered(
            &g.origin,
            &what,
            &outside_writable(turn),
            &json,
        ));
    };
    // A grant of a socket file itself lifts the turn's mask on it
    // (`$SSH_AUTH_SOCK`, X11, a daemon's): the ssh agent the turn keeps
    // out of reach (adversarial pass 5). A skill never grants one.
    if std::fs::metadata(&path).is_ok_and(|m| {
        use std::os::unix::fs::FileTypeExt;
        m.file_type().is_socket()
    }) {
        return Err(not_covered(
            &g.origin,
            &what,
            "it is a socket, and the turn keeps the host's and the session's sockets masked",
            &json,
        ));
    }
    if let Some((pw, p)) = turn.protection_for(&path) {
        return Err(Error::new(format!(
            "{} declares {what}, which the turn keeps read-only ({}); a skill cannot write it, so nothing ran; remove it from the manifest",
            g.origin,
            plan::describe_protected(pw, p)
        )));
    }
    if let Some((d, None)) = turn.deny.hiding(&path) {
        return Err(not_covered(
            &g.origin,
            &what,
            &format!(
                "the turn hides {} (deny entry {} from {})",
                shown(&d.path),
                d.entry,
                d.origin
            ),
            &json,
        ));
    }
    decisions.push(format!(
        "write {}: {}, inside the turn's writable root {} (from {})",
        shown(&path),
        g.origin,
        shown(&w.root.path),
        w.root.origin
    ));
    Ok(Grant {
        spec: PathSpec::Path(path),
        origin: g.origin.clone(),
    })
}

/// Why a write root outside every writable root of the turn is refused.
fn outside_writable(turn: &Plan) -> String {
    let roots: Vec<String> = turn
        .writable
        .iter()
        .map(|w| shown(&w.root.path).to_string())
        .collect();
    if roots.is_empty() {
        format!("the turn ({}) writes nothing", turn.policy_name)
    } else {
        format!(
            "it lies in none of the turn's writable roots ({})",
            roots.join(", ")
        )
    }
}

/// The read list of the skill's policy and the turn's lifts it keeps.
fn bound_reads(
    turn: &Policy,
    perms: &Permissions,
    turn_plan: &Plan,
    env: &Env,
    decisions: &mut Vec<String>,
) -> Result<(Vec<Grant>, Vec<Grant>)> {
    let Some(declared) = &perms.read else {
        decisions.push(match &turn_plan.read {
            ReadScope::All => "read: all (no read list declared; the turn reads everything)".into(),
            ReadScope::Restricted { .. } => {
                "read: the turn's list (no read list declared)".to_string()
            }
        });
        return Ok((turn.read.clone(), turn.lifts.clone()));
    };
    let mut out = Vec::new();
    let minimal = match &turn_plan.read {
        ReadScope::All => true,
        ReadScope::Restricted { minimal, .. } => *minimal,
    };
    if minimal {
        out.push(runtime_minimal(declared));
    }
    for g in declared {
        let path = resolve_declared(g, env, Path::new("/"), "readable path")?;
        if let Some((d, None)) = turn_plan.deny.hiding(&path) {
            decisions.push(format!(
                "read {}: {}, dropped: the turn hides {} (deny entry {})",
                shown(&path),
                g.origin,
                shown(&d.path),
                d.entry
            ));
            continue;
        }
        match &turn_plan.read {
            ReadScope::All => {
                decisions.push(format!(
                    "read {}: {} (the turn reads everything)",
                    shown(&path),
                    g.origin
                ));
                out.push(Grant {
                    spec: PathSpec::Path(path),
                    origin: g.origin.clone(),
                });
            }
            ReadScope::Restricted { roots, .. } => {
                // What the turn reads: its read list and its writable roots.
                let roots: Vec<&plan::Root> = roots
                    .iter()
                    .chain(turn_plan.writable.iter().map(|w| &w.root))
                    .collect();
                intersect_read(path, g, &roots, minimal, decisions, &mut out);
            }
        }
    }
    if out.is_empty() {
        decisions.push("read: nothing the turn reads is declared".into());
    }
    Ok((out, Vec::new()))
}

/// The runtime set `:minimal`, which a declared read list includes so that
/// programs start, named after the manifest that declared the list.
fn runtime_minimal(declared: &[Grant]) -> Grant {
    let manifest_origin = declared
        .first()
        .map(|g| {
            g.origin
                .rsplit_once(": ")
                .map_or(g.origin.as_str(), |x| x.0)
        })
        .unwrap_or("the skill");
    Grant {
        spec: PathSpec::Minimal,
        origin: format!(
            "{manifest_origin}: permissions.file_system.read (the runtime set :minimal)"
        ),
    }
}

/// One declared read under a turn that reads a list (`roots`): kept when
/// inside a root or the turn's `:minimal`, else narrowed to the roots
/// inside it, else dropped.
fn intersect_read(
    path: PathBuf,
    g: &Grant,
    roots: &[&plan::Root],
    minimal: bool,
    decisions: &mut Vec<String>,
    out: &mut Vec<Grant>,
) {
    if let Some(r) = roots.iter().find(|r| path.starts_with(&r.path)) {
        decisions.push(format!(
            "read {}: {}, inside the turn's readable path {} (from {})",
            shown(&path),
            g.origin,
            shown(&r.path),
            r.origin
        ));
        out.push(Grant {
            spec: PathSpec::Path(path),
            origin: g.origin.clone(),
        });
        return;
    }
    let in_minimal = minimal && plan::LINUX_MINIMAL.iter().any(|m| path.starts_with(m));
    if in_minimal {
        // Readable under the turn through its runtime set, which the
        // skill's reads include.
        decisions.push(format!(
            "read {}: {}, inside the turn's :minimal",
            shown(&path),
            g.origin
        ));
        out.push(Grant {
            spec: PathSpec::Path(path),
            origin: g.origin.clone(),
        });
        return;
    }
    let inner: Vec<_> = roots.iter().filter(|r| r.path.starts_with(&path)).collect();
    if inner.is_empty() {
        decisions.push(format!(
            "read {}: {}, dropped: the turn does not read it (reads are the intersection)",
            shown(&path),
            g.origin
        ));
    }
    for r in inner {
        decisions.push(format!(
            "read {}: the turn's readable path (from {}) inside {} ({})",
            shown(&r.path),
            r.origin,
            shown(&path),
            g.origin
        ));
        out.push(Grant {
            spec: PathSpec::Path(r.path.clone()),
            origin: format!("{} within {}", r.origin, g.origin),
        });
    }
}

/// A declared grant never lifts a deny entry the turn keeps (the checks
/// above refuse or drop those; this is the plan's own word on it).
fn refuse_new_lifts(plan: &Plan, turn: &Plan, manifest: &Path) -> Result<()> {
    let prefix = format!("skill {}", manifest.display());
    for d in &plan.deny.denied {
        for l in &d.lifted {
            if l.by.starts_with(&prefix)
                && turn.deny.hiding(&l.path).is_some_and(|(_, l)| l.is_none())
            {
                return Err(Error::new(format!(
                    "{} would make {} reachable, which the turn hides (deny entry {}); nothing ran; approve it through `cordon rerun` with \"additional\"",
                    l.by,
                    shown(&l.path),
                    d.entry
                )));
            }
        }
    }
    for w in &plan.deny.waived {
        if w.by.starts_with(&prefix) && turn.deny.waived_for(&w.path).is_none() {
            return Err(Error::new(format!(
                "{} names {}, which the turn hides (deny entry {}); nothing ran; approve it through `cordon rerun` with \"additional\"",
                w.by,
                shown(&w.path),
                w.entry
            )));
        }
    }
    Ok(())
}
