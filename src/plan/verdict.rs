//! The shape of a per-path verdict (`explain PATH`), shared by the backends:
//! each backend decides read / write / execute from its own compiled
//! artifacts; the plan only says which protected subpath a path falls under.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use super::{Lookup, Plan, Protected, ProtectedVia, WritableRoot};

/// One access (read, write or execute) to one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    pub allowed: bool,
    /// What decides it: `landlock`, `mount`, `seatbelt`, or `none` when
    /// nothing in the sandbox restricts it.
    pub mechanism: String,
    /// The deciding rule, e.g. `writable root /repo from :cwd`.
    pub rule: String,
    /// For a denied access, the flag that would allow it (`fix.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Access {
    pub fn allow(mechanism: &str, rule: impl Into<String>) -> Access {
        Access {
            allowed: true,
            mechanism: mechanism.into(),
            rule: rule.into(),
            fix: None,
        }
    }
    pub fn deny(mechanism: &str, rule: impl Into<String>) -> Access {
        Access {
            allowed: false,
            mechanism: mechanism.into(),
            rule: rule.into(),
            fix: None,
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = if self.allowed { "allowed" } else { "denied" };
        write!(f, "{word} ({})", self.rule)
    }
}

/// Everything `explain` says about one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathVerdict {
    #[serde(flatten)]
    pub lookup: Lookup,
    pub read: Access,
    pub write: Access,
    pub execute: Access,
    pub warnings: Vec<String>,
}

impl fmt::Display for PathVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.lookup;
        let p = super::shown(&l.path);
        if l.resolved != l.path {
            writeln!(f, "{p}: resolves to {}", super::shown(&l.resolved))?;
        }
        if !l.exists {
            writeln!(f, "{p}: does not exist (verdicts are for creating it)")?;
        }
        if let Some(e) = &l.error {
            writeln!(f, "{p}: lookup stopped: {e}")?;
        }
        for (what, a) in [
            ("read", &self.read),
            ("write", &self.write),
            ("execute", &self.execute),
        ] {
            writeln!(f, "{what} {p}: {a}")?;
            if let Some(fix) = &a.fix {
                writeln!(f, "  fix: {fix}")?;
            }
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

/// How a protected entry is named in verdicts and errors.
pub fn describe_protected(w: &WritableRoot, p: &Protected) -> String {
    let root = super::shown(&w.root.path);
    match p.via {
        ProtectedVia::Direct => format!("protected subpath {} of writable root {root}", p.name),
        // A link crossed on the way to a protected target (`why` says to
        // which), here or by `git.rs`.
        ProtectedVia::Symlink if p.why.is_some() => format!(
            "symlink {} of writable root {root} ({}), pinned",
            super::shown(&p.path),
            p.why.as_deref().unwrap_or_default(),
        ),
        ProtectedVia::Symlink if p.exists => format!(
            "protected subpath {} of writable root {root}, a symlink protected at its target {}",
            p.name,
            super::shown(&p.target)
        ),
        ProtectedVia::Symlink => format!(
            "protected subpath {} of writable root {root}, a dangling symlink",
            p.name
        ),
        ProtectedVia::Git => format!(
            "{} of writable root {root} ({})",
            super::shown(&p.path),
            p.why.as_deref().unwrap_or("git reads or runs it")
        ),
        ProtectedVia::Gitdir => format!(
            "gitdir {} named by {} of writable root {root}",
            super::shown(&p.target),
            super::shown(&p.path)
        ),
    }
}

impl Plan {
    /// The protected entry `resolved` (a looked-up path) falls under, if
    /// any: an existing one by its target, a missing one by its spelling
    /// (a dangling symlink by its missing target, where a lookup leads).
    pub fn protection_for(&self, resolved: &Path) -> Option<(&WritableRoot, &Protected)> {
        self.protected().find(|(_, p)| {
            let at = if p.exists || p.via == ProtectedVia::Symlink {
                &p.target
            } else {
                &p.path
            };
            resolved.starts_with(at)
        })
    }
}
