//! The plan as stable plain text (for `--dry-run` and `explain`).

use std::fmt;
use std::path::Path;

use super::{Plan, Protected, ProtectedVia, ReadScope, Root};

/// A path (or name) for line-oriented output: lossy UTF-8 with control
/// characters escaped (`\n`), so a root named `a\nb` stays on its line.
pub struct Shown<'a>(&'a Path);

pub fn shown(p: &(impl AsRef<Path> + ?Sized)) -> Shown<'_> {
    Shown(p.as_ref())
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.to_string_lossy();
        // Printable ASCII needs no escaping: one write, not one per char
        // (10,000 roots print some 10 MB of paths in a dry run).
        if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return f.write_str(&s);
        }
        for c in s.chars() {
            if c.is_control() || is_bidi_control(c) {
                write!(f, "{}", c.escape_debug())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// Unicode's directional formatting characters: not `is_control`, but a
/// path holding U+202E prints as something other than what it names
/// (adversarial pass 6), so they are escaped like control characters.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Why `:caches` is opt-in, shown under each cache it grants.
pub const CACHE_NOTE: &str = "a writable cache can poison later builds that run outside the sandbox (a crate, package or module planted here is used as downloaded); grant caches only to commands you would let build for you";

fn root_line(f: &mut fmt::Formatter<'_>, kind: &str, r: &Root) -> fmt::Result {
    write!(f, "{kind} {}  (from {}", shown(&r.path), shown(&r.origin))?;
    if let Some(s) = &r.spelled {
        write!(f, "; given as {}", shown(s))?;
    }
    for n in &r.nested {
        write!(f, "; includes {}", shown(n))?;
    }
    writeln!(f, ")")
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "policy: {}", shown(&self.policy_name))?;
        writeln!(f, "cwd: {}", shown(&self.cwd))?;
        self.skill_lines(f)?;
        write!(f, "{}", self.env)?;
        if !self.sandboxed {
            return writeln!(f, "sandbox: none (full access)");
        }
        self.read_lines(f)?;
        self.write_lines(f)?;
        self.deny_lines(f)?;
        for d in &self.devices {
            writeln!(f, "device {}", shown(&d.path))?;
        }
        for t in &self.terminals {
            writeln!(f, "terminal {} ({})", shown(&t.path), t.describe())?;
        }
        for s in &self.stdio_files {
            writeln!(f, "stdio file {} ({})", shown(&s.path), s.describe())?;
        }
        self.network_lines(f)?;
        self.macos_line(f)
    }
}

/// A protected path's state in words: missing or read-only, and how.
fn protected_state(p: &Protected) -> String {
    match (p.exists, p.via) {
        (false, ProtectedVia::Git) => format!(
            "missing: {}",
            p.why.as_deref().unwrap_or("git reads or runs it")
        ),
        (false, ProtectedVia::Symlink) => {
            format!("symlink, its target {} missing", shown(&p.target))
        }
        (false, _) => "missing".to_string(),
        (true, ProtectedVia::Direct) => "read-only".to_string(),
        (true, ProtectedVia::Symlink) => {
            format!("symlink, read-only at {}", shown(&p.target))
        }
        (true, ProtectedVia::Git) => format!(
            "read-only: {}",
            p.why.as_deref().unwrap_or("git reads or runs it")
        ),
        (true, ProtectedVia::Gitdir) => {
            format!("gitdir pointer, read-only at {}", shown(&p.target))
        }
    }
}

impl Plan {
    /// The skill whose permissions apply, and how it was matched.
    fn skill_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(s) = &self.skill else {
            return Ok(());
        };
        match &s.manifest {
            Some(m) => writeln!(
                f,
                "skill: {} (permissions from {}, bounded by the turn: {})",
                shown(&s.dir),
                shown(m),
                shown(&s.turn)
            )?,
            None => writeln!(
                f,
                "skill: {} (no permissions block: the turn's sandbox, {})",
                shown(&s.dir),
                shown(&s.turn)
            )?,
        }
        if let Some(why) = &s.matched {
            writeln!(f, "  matched: {}", shown(why))?;
        }
        for d in &s.decisions {
            writeln!(f, "  {}", shown(d))?;
        }
        Ok(())
    }

    /// `read: all`, or `read: restricted` and each readable root.
    fn read_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.read {
            ReadScope::All => writeln!(f, "read: all"),
            ReadScope::Restricted { minimal, roots, .. } => {
                writeln!(
                    f,
                    "read: restricted{}",
                    if *minimal { " (+ :minimal)" } else { "" }
                )?;
                for r in roots {
                    root_line(f, "  read", r)?;
                }
                Ok(())
            }
        }
    }

    /// Each writable root with its protected paths, or `write: none`.
    fn write_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.writable.is_empty() {
            writeln!(f, "write: none")?;
        }
        for w in &self.writable {
            root_line(f, "write", &w.root)?;
            if w.root.origin == ":caches" {
                writeln!(f, "  note: {CACHE_NOTE}")?;
            }
            for p in &w.protected {
                writeln!(f, "  protected {} ({})", shown(&p.path), protected_state(p))?;
            }
        }
        Ok(())
    }

    /// The network switch, then the listed ports and domains.
    fn network_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unix = if self.network.unix_sockets {
            "allowed"
        } else {
            "denied"
        };
        let net = if self.network.enabled { "on" } else { "off" };
        writeln!(f, "network: {net} (unix sockets: {unix})")?;
        let n = &self.network;
        if !n.connect_tcp.is_empty() {
            let ports: Vec<String> = n.connect_tcp.iter().map(u16::to_string).collect();
            writeln!(f, "network connect_tcp: {} (any host)", ports.join(", "))?;
        }
        if !n.bind_tcp.is_empty() {
            let ports: Vec<String> = n.bind_tcp.iter().map(u16::to_string).collect();
            writeln!(f, "network bind_tcp: {}", ports.join(", "))?;
        }
        if !n.domains.is_empty() {
            let list: Vec<String> = n.domains.iter().map(|d| d.to_string()).collect();
            writeln!(
                f,
                "network domains (through cordon's proxy): {}",
                list.join(", ")
            )?;
        }
        Ok(())
    }

    /// The macOS extensions, carried on every OS.
    fn macos_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.macos;
        let automation = match &m.automation {
            crate::policy::Automation::None => "none".to_string(),
            crate::policy::Automation::All => "all".to_string(),
            crate::policy::Automation::BundleIds(ids) => ids.join(","),
        };
        write!(
            f,
            "macos: preferences={} automation={automation} accessibility={} calendar={}",
            m.preferences.as_str(),
            m.accessibility,
            m.calendar
        )?;
        writeln!(f, "{}", m.newer_extensions())
    }

    /// `deny PATH  (ENTRY from ORIGIN)`, what lifts part of it, entries a
    /// grant names whole, and each glob's reach.
    fn deny_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.deny.denied {
            write!(
                f,
                "deny {}  ({} from {}",
                shown(&d.path),
                shown(&d.entry),
                shown(&d.origin)
            )?;
            if let Some(s) = &d.spelled {
                write!(f, "; given as {}", shown(s))?;
            }
            writeln!(f, ")")?;
            for l in &d.lifted {
                writeln!(f, "  lifted {}  (by {})", shown(&l.path), shown(&l.by))?;
            }
        }
        for w in &self.deny.waived {
            writeln!(
                f,
                "not denied {}  ({} from {}: named by {})",
                shown(&w.path),
                shown(&w.entry),
                shown(&w.origin),
                shown(&w.by)
            )?;
        }
        if !self.deny.absent.is_empty() {
            writeln!(
                f,
                "deny: {} paths named by deny entries do not exist (listed by --json: plan.deny.absent)",
                self.deny.absent.len()
            )?;
        }
        for g in &self.deny.globs {
            let bases: Vec<String> = g.bases.iter().map(|b| shown(b).to_string()).collect();
            write!(
                f,
                "deny glob {} below {} (from {}; depth {}): {} matched",
                shown(&g.entry),
                bases.join(", "),
                shown(&g.origin),
                g.depth,
                g.matches
            )?;
            if !g.closed.is_empty() {
                let closed: Vec<String> = g.closed.iter().map(|c| shown(c).to_string()).collect();
                write!(
                    f,
                    "; denied whole, as yours but closed to listing: {}",
                    closed.join(", ")
                )?;
            }
            if g.cut_at_depth > 0 {
                write!(
                    f,
                    "; {} directories at the depth limit not searched",
                    g.cut_at_depth
                )?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        let p = std::path::Path::new("/etc/\u{202e}dlrow\n\u{2066}x");
        assert_eq!(shown(p).to_string(), "/etc/\\u{202e}dlrow\\n\\u{2066}x");
    }
}
