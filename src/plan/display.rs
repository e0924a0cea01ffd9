//! The plan as stable plain text (for `--dry-run` and `explain`).

use std::fmt;

use super::{Plan, ProtectedVia, ReadScope, Root};

fn root_line(f: &mut fmt::Formatter<'_>, kind: &str, r: &Root) -> fmt::Result {
    write!(f, "{kind} {}  (from {}", r.path.display(), r.origin)?;
    if let Some(s) = &r.spelled {
        write!(f, "; given as {}", s.display())?;
    }
    for n in &r.nested {
        write!(f, "; includes {}", n.display())?;
    }
    writeln!(f, ")")
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "policy: {}", self.policy_name)?;
        writeln!(f, "cwd: {}", self.cwd.display())?;
        if !self.sandboxed {
            return writeln!(f, "sandbox: none (full access)");
        }
        match &self.read {
            ReadScope::All => writeln!(f, "read: all")?,
            ReadScope::Restricted { minimal, roots } => {
                writeln!(
                    f,
                    "read: restricted{}",
                    if *minimal { " (+ :minimal)" } else { "" }
                )?;
                for r in roots {
                    root_line(f, "  read", r)?;
                }
            }
        }
        if self.writable.is_empty() {
            writeln!(f, "write: none")?;
        }
        for w in &self.writable {
            root_line(f, "write", &w.root)?;
            for p in &w.protected {
                let state = match (p.exists, p.via) {
                    (false, _) => "missing: cannot be pinned on Linux".to_string(),
                    (true, ProtectedVia::Direct) => "read-only".to_string(),
                    (true, ProtectedVia::Symlink) => {
                        format!("symlink, read-only at {}", p.target.display())
                    }
                    (true, ProtectedVia::Gitdir) => {
                        format!("gitdir pointer, read-only at {}", p.target.display())
                    }
                };
                writeln!(f, "  protected {} ({state})", p.path.display())?;
            }
        }
        for (d, _) in &self.devices {
            writeln!(f, "device {}", d.display())?;
        }
        let unix = if self.network.unix_sockets {
            "allowed"
        } else {
            "denied"
        };
        let net = if self.network.enabled { "on" } else { "off" };
        writeln!(f, "network: {net} (unix sockets: {unix})")?;
        let m = &self.macos;
        let automation = match &m.automation {
            crate::policy::Automation::None => "none".to_string(),
            crate::policy::Automation::All => "all".to_string(),
            crate::policy::Automation::BundleIds(ids) => ids.join(","),
        };
        writeln!(
            f,
            "macos: preferences={} automation={automation} accessibility={} calendar={}",
            m.preferences.as_str(),
            m.accessibility,
            m.calendar
        )
    }
}
