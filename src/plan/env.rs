//! The command's environment, computed once at planning from the caller's
//! variables and the policy's `[env]` (`policy/env.rs` has the rules and
//! their order). Pure and cheap: no filesystem, a few comparisons per
//! variable, on the path of every command. The exec step adds cordon's own
//! `CORDON_SANDBOX*` and passes the rest as is. What is printed (`explain`,
//! `--dry-run`, their JSON) holds names only: a value never leaves this
//! struct but through exec.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use serde::Serialize;

use crate::policy::{CORDON_PREFIX, EnvPolicy, Inherit, Pattern};

/// `inherit = "core"`: what programs need to start and behave (contract
/// §6), plus every `LC_*`. Matched exactly, as the system spells them.
pub const CORE: [&str; 12] = [
    "HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "TMPDIR", "TEMP", "TMP", "LANG",
    "TERM", "TZ",
];

pub fn is_core(name: &[u8]) -> bool {
    name.starts_with(b"LC_") || CORE.iter().any(|c| c.as_bytes() == name)
}

/// Why a caller's variable does not reach the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RemovedBy {
    /// `CORDON_SANDBOX*`: cordon sets those itself.
    Cordon,
    /// Outside the base set of `inherit = core | none`.
    Inherit,
    /// An `exclude` pattern.
    Exclude,
}

/// A variable the command does not get, by name, and the rule that drops it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub name: String,
    pub by: RemovedBy,
    /// The `exclude` pattern (by exclude).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Where the deciding rule came from (by inherit or exclude).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// A variable `inherit` or an `exclude` would drop, brought back by `keep`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kept {
    pub name: String,
    pub pattern: String,
    pub origin: String,
}

/// A variable the policy sets: its name and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetName {
    pub name: String,
    pub origin: String,
}

/// The environment the command gets (before cordon's own variables), and
/// how it came about.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ChildEnv {
    pub inherit: Inherit,
    pub exclude: Vec<Pattern>,
    pub keep: Vec<Pattern>,
    /// Names only: values are never printed.
    pub set: Vec<SetName>,
    /// Sorted by rule (cordon, inherit, then each exclude pattern in
    /// order), then name.
    pub removed: Vec<Removed>,
    pub kept: Vec<Kept>,
    #[serde(skip)]
    inherit_origin: String,
    /// The variables themselves, in the caller's order, then `set`.
    #[serde(skip)]
    pub vars: Vec<(OsString, OsString)>,
}

impl fmt::Debug for ChildEnv {
    /// Names only, like everything else that prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.vars.iter().map(|(k, _)| k).collect();
        f.debug_struct("ChildEnv")
            .field("inherit", &self.inherit)
            .field("removed", &self.removed)
            .field("kept", &self.kept)
            .field("set", &self.set)
            .field("names", &names)
            .finish()
    }
}

impl Default for ChildEnv {
    /// The default policy over an empty environment.
    fn default() -> ChildEnv {
        compute(&EnvPolicy::defaults("default"), &[])
    }
}

fn lossy(name: &OsString) -> String {
    name.to_string_lossy().into_owned()
}

/// The rule that drops a variable: its sort key (by rule, in policy order),
/// the `exclude` pattern if it is one, and where the rule came from.
type Dropping<'a> = ((RemovedBy, usize), Option<String>, &'a str);

/// The rule that drops variable `n`, if any: outside `inherit`'s base set,
/// or else the first `exclude` pattern that matches it.
fn dropping_rule<'a>(policy: &'a EnvPolicy, n: &[u8]) -> Option<Dropping<'a>> {
    let in_base = match policy.inherit {
        Inherit::All => true,
        Inherit::Core => is_core(n),
        Inherit::None => false,
    };
    if !in_base {
        return Some((
            (RemovedBy::Inherit, 0),
            None,
            policy.inherit_origin.as_str(),
        ));
    }
    policy
        .exclude
        .iter()
        .enumerate()
        .find(|(_, p)| p.matches(n))
        .map(|(i, p)| {
            (
                (RemovedBy::Exclude, i),
                Some(p.pattern.clone()),
                p.origin.as_str(),
            )
        })
}

/// The command's environment: for each of the caller's variables, `inherit`
/// picks it or not, `exclude` drops it, `keep` brings it back, and a name
/// `set` replaces it; `CORDON_SANDBOX*` never passes.
pub fn compute(policy: &EnvPolicy, caller: &[(OsString, OsString)]) -> ChildEnv {
    let mut vars = Vec::with_capacity(caller.len() + policy.set.len());
    // (sort key, entry): the key groups by rule in policy order.
    let mut removed: Vec<((RemovedBy, usize), Removed)> = Vec::new();
    let mut kept = Vec::new();
    for (name, value) in caller {
        let n = name.as_bytes();
        if n.starts_with(CORDON_PREFIX.as_bytes()) {
            removed.push((
                (RemovedBy::Cordon, 0),
                Removed {
                    name: lossy(name),
                    by: RemovedBy::Cordon,
                    pattern: None,
                    origin: None,
                },
            ));
            continue;
        }
        if policy.set.iter().any(|s| s.name.as_bytes() == n) {
            continue;
        }
        let Some((key, pattern, origin)) = dropping_rule(policy, n) else {
            vars.push((name.clone(), value.clone()));
            continue;
        };
        if let Some(k) = policy.keep.iter().find(|k| k.matches(n)) {
            kept.push(Kept {
                name: lossy(name),
                pattern: k.pattern.clone(),
                origin: k.origin.clone(),
            });
            vars.push((name.clone(), value.clone()));
            continue;
        }
        removed.push((
            key,
            Removed {
                name: lossy(name),
                by: key.0,
                pattern,
                origin: Some(origin.to_string()),
            },
        ));
    }
    for s in &policy.set {
        vars.push((OsString::from(&s.name), OsString::from(&s.value)));
    }
    removed.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    removed.dedup_by(|a, b| a.1.name == b.1.name);
    kept.sort_by(|a, b| a.name.cmp(&b.name));
    kept.dedup_by(|a, b| a.name == b.name);
    ChildEnv {
        inherit: policy.inherit,
        exclude: policy.exclude.clone(),
        keep: policy.keep.clone(),
        set: policy
            .set
            .iter()
            .map(|s| SetName {
                name: s.name.clone(),
                origin: s.origin.clone(),
            })
            .collect(),
        removed: removed.into_iter().map(|(_, r)| r).collect(),
        kept,
        inherit_origin: policy.inherit_origin.clone(),
        vars,
    }
}

/// A name on one line: control characters escaped.
fn name(n: &str) -> super::display::Shown<'_> {
    super::shown(Path::new(n))
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items
        .map(|n| name(n).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for ChildEnv {
    /// `env: ...` and its indented lines, grouped by the deciding rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "env: inherit {}", self.inherit.as_str())?;
        if !self.exclude.is_empty() {
            let ex: Vec<&str> = self.exclude.iter().map(|p| p.pattern.as_str()).collect();
            write!(f, "; exclude {}", names(ex.into_iter()))?;
        }
        if !self.keep.is_empty() {
            let keep: Vec<&str> = self.keep.iter().map(|p| p.pattern.as_str()).collect();
            write!(f, "; keep {}", names(keep.into_iter()))?;
        }
        writeln!(f, " (names only; values are never shown)")?;
        if self.removed.is_empty() {
            writeln!(f, "  removed: none")?;
        }
        let mut rest = self.removed.as_slice();
        while let Some(first) = rest.first() {
            let n = rest
                .iter()
                .take_while(|r| r.by == first.by && r.pattern == first.pattern)
                .count();
            let (group, tail) = rest.split_at(n);
            rest = tail;
            let origin = first.origin.as_deref().unwrap_or_default();
            let rule = match first.by {
                RemovedBy::Cordon => format!("cordon (it sets {CORDON_PREFIX}* itself)"),
                RemovedBy::Inherit => {
                    format!("inherit {} ({})", self.inherit.as_str(), name(origin))
                }
                RemovedBy::Exclude => format!(
                    "exclude {} ({})",
                    name(first.pattern.as_deref().unwrap_or_default()),
                    name(origin)
                ),
            };
            writeln!(
                f,
                "  removed by {rule}: {}",
                names(group.iter().map(|r| r.name.as_str()))
            )?;
        }
        for k in &self.kept {
            writeln!(
                f,
                "  kept by keep {} ({}): {}",
                name(&k.pattern),
                name(&k.origin),
                name(&k.name)
            )?;
        }
        for s in &self.set {
            writeln!(f, "  set {} ({})", name(&s.name), name(&s.origin))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{EnvDecl, SetVar};

    fn caller(vars: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        vars.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    fn names_of(env: &ChildEnv) -> Vec<String> {
        env.vars.iter().map(|(k, _)| lossy(k)).collect()
    }

    fn policy(inherit: Inherit) -> EnvPolicy {
        EnvDecl {
            inherit: Some(inherit),
            ..Default::default()
        }
        .into_policy("p")
    }

    const CALLER: [(&str, &str); 11] = [
        ("PATH", "/usr/bin:/bin"),
        ("HOME", "/home/me"),
        ("LC_ALL", "C.UTF-8"),
        ("EDITOR", "vi"),
        ("AWS_SECRET_ACCESS_KEY", "marker-1"),
        ("github_token", "marker-2"),
        ("MY_API_KEY", "marker-3"),
        ("SSH_AUTH_SOCK", "/tmp/agent"),
        ("CORDON_SANDBOX", "none"),
        ("CORDON_SANDBOX_NETWORK_DISABLED", "1"),
        ("TERM", "xterm"),
    ];

    #[test]
    fn default_policy_drops_secret_names_and_cordons_own() {
        let env = compute(&policy(Inherit::All), &caller(&CALLER));
        assert_eq!(
            names_of(&env),
            ["PATH", "HOME", "LC_ALL", "EDITOR", "SSH_AUTH_SOCK", "TERM"]
        );
        let removed: Vec<_> = env
            .removed
            .iter()
            .map(|r| (r.name.as_str(), r.pattern.as_deref()))
            .collect();
        assert_eq!(
            removed,
            [
                ("CORDON_SANDBOX", None),
                ("CORDON_SANDBOX_NETWORK_DISABLED", None),
                ("AWS_SECRET_ACCESS_KEY", Some("*KEY*")),
                ("MY_API_KEY", Some("*KEY*")),
                ("github_token", Some("*TOKEN*")),
            ]
        );
        // The values themselves pass untouched.
        assert_eq!(env.vars[0].1, "/usr/bin:/bin");
    }

    #[test]
    fn core_and_none_keep_only_their_base_and_keep_brings_back() {
        let env = compute(&policy(Inherit::Core), &caller(&CALLER));
        assert_eq!(names_of(&env), ["PATH", "HOME", "LC_ALL", "TERM"]);
        assert!(
            env.removed
                .iter()
                .any(|r| r.name == "EDITOR" && r.by == RemovedBy::Inherit)
        );
        let env = compute(&policy(Inherit::None), &caller(&CALLER));
        assert!(env.vars.is_empty());
        // keep restores what the base left out, and what an exclude dropped.
        let mut p = policy(Inherit::None);
        p.add_keep(Pattern::new("path", "--keepenv").unwrap());
        p.add_keep(Pattern::new("GITHUB_TOKEN", "--keepenv").unwrap());
        let env = compute(&p, &caller(&CALLER));
        assert_eq!(names_of(&env), ["PATH", "github_token"]);
        assert_eq!(env.kept.len(), 2);
        assert_eq!(env.kept[1].name, "github_token");
    }

    #[test]
    fn keep_beats_exclude_but_never_cordons_own() {
        let mut p = policy(Inherit::All);
        p.add_keep(Pattern::new("*", "--keepenv").unwrap());
        let env = compute(&p, &caller(&CALLER));
        assert_eq!(env.vars.len(), CALLER.len() - 2);
        assert!(env.removed.iter().all(|r| r.by == RemovedBy::Cordon));
    }

    #[test]
    fn set_overrides_everything_and_comes_last() {
        let mut p = policy(Inherit::None);
        p.set_var(SetVar::new("GITHUB_TOKEN", "dummy", "--setenv").unwrap());
        p.set_var(SetVar::new("PATH", "/opt/bin", "--setenv").unwrap());
        let env = compute(&p, &caller(&CALLER));
        let got: Vec<_> = env.vars.iter().map(|(k, v)| (lossy(k), lossy(v))).collect();
        assert_eq!(
            got,
            [
                ("GITHUB_TOKEN".to_string(), "dummy".to_string()),
                ("PATH".into(), "/opt/bin".into())
            ]
        );
        // A replaced variable is shown as set, not as removed.
        assert!(!env.removed.iter().any(|r| r.name == "PATH"));
    }

    #[test]
    fn exclude_patterns_added_later_match_case_insensitively() {
        let mut p = policy(Inherit::All);
        p.exclude.clear();
        p.add_exclude(Pattern::new("lc_*", "--unsetenv").unwrap());
        p.add_exclude(Pattern::new("EDITO?", "--unsetenv").unwrap());
        let env = compute(&p, &caller(&CALLER));
        assert!(!names_of(&env).contains(&"LC_ALL".to_string()));
        assert!(!names_of(&env).contains(&"EDITOR".to_string()));
        assert!(names_of(&env).contains(&"MY_API_KEY".to_string()));
    }

    #[test]
    fn printed_forms_hold_names_never_values() {
        let mut p = policy(Inherit::All);
        p.set_var(SetVar::new("INJECTED", "marker-4", "--setenv").unwrap());
        p.add_keep(Pattern::new("MY_API_KEY", "--keepenv").unwrap());
        let env = compute(&p, &caller(&CALLER));
        let text = env.to_string();
        let json = serde_json::to_string(&env).unwrap();
        let debug = format!("{env:?}");
        for out in [&text, &json, &debug] {
            assert!(!out.contains("marker-"), "{out}");
        }
        assert_eq!(
            text,
            "env: inherit all; exclude *KEY*, *SECRET*, *TOKEN*; keep MY_API_KEY (names only; values are never shown)\n\
             \x20 removed by cordon (it sets CORDON_SANDBOX* itself): CORDON_SANDBOX, CORDON_SANDBOX_NETWORK_DISABLED\n\
             \x20 removed by exclude *KEY* (p: env.exclude (default)): AWS_SECRET_ACCESS_KEY\n\
             \x20 removed by exclude *TOKEN* (p: env.exclude (default)): github_token\n\
             \x20 kept by keep MY_API_KEY (--keepenv): MY_API_KEY\n\
             \x20 set INJECTED (--setenv)\n"
        );
        assert!(json.contains(r#""removed":[{"name":"CORDON_SANDBOX","by":"cordon"}"#));
    }

    #[test]
    fn names_that_are_not_utf8_or_hold_newlines_stay_on_their_line() {
        use std::os::unix::ffi::OsStringExt;
        let caller = vec![
            (
                OsString::from_vec(b"A\xffTOKEN".to_vec()),
                OsString::from("x"),
            ),
            (OsString::from("B\nTOKEN"), OsString::from("y")),
        ];
        let env = compute(&policy(Inherit::All), &caller);
        assert!(env.vars.is_empty());
        let text = env.to_string();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("B\\nTOKEN"), "{text}");
    }
}
