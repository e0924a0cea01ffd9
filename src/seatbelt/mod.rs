//! The Seatbelt backend: a plan compiled to an SBPL profile plus its `-D`
//! parameters (pure, every OS, so it is tested on Linux), and the
//! `sandbox-exec` argv that applies it. Only `sandbox.rs` execs it, on macOS.
//!
//! Every path enters the profile as a parameter referenced with
//! `(param "K")`, never as text, so a path with quotes, backslashes or
//! spaces cannot change the profile's meaning. The profile is laid out for
//! SBPL's last-match-wins rule: constant base, reads, writes, network,
//! extensions, then the final denies, which nothing after them can undo.

#[cfg(target_os = "macos")]
pub mod apply;
mod extensions;
mod paths;
#[cfg(target_os = "macos")]
pub mod proxy;

pub use paths::macos_path;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::plan::{Plan, ReadScope};

/// Hard-coded so that a `sandbox-exec` earlier on PATH cannot stand in.
pub const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

/// Constant fragments (no user paths), reviewed as SBPL files.
pub const BASE: &str = include_str!("../../seatbelt/base.sb");
pub const NETWORK: &str = include_str!("../../seatbelt/network.sb");
pub const MINIMAL_READ: &str = include_str!("../../seatbelt/minimal_read.sb");
pub const FINAL: &str = include_str!("../../seatbelt/final.sb");

/// Longest parameter value accepted. Seatbelt substitutes values into its
/// filters as string literals; cordon keeps them well under the 1024-byte
/// macOS path limit and rejects anything longer rather than guess.
pub const MAX_VALUE_BYTES: usize = 900;

/// A compiled profile: the SBPL text and the `-D KEY=VALUE` definitions it
/// references, in emission order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub text: String,
    pub params: Vec<(String, String)>,
}

/// Collects the text and hands out parameter names.
struct Builder {
    text: String,
    params: Vec<(String, String)>,
}

impl Builder {
    /// Defines parameter `key` as `path` (mapped the macOS way) and returns
    /// the expression that references it.
    fn param(&mut self, key: String, path: &Path, what: &str) -> Result<String> {
        let value = value(&macos_path(path), what)?;
        let expr = format!("(param \"{key}\")");
        self.params.push((key, value));
        Ok(expr)
    }

    fn line(&mut self, s: &str) {
        self.text.push_str(s);
        self.text.push('\n');
    }
}

/// A path as a parameter value: UTF-8, no control characters (a newline in a
/// `-D` value would be a newline in a literal), bounded length.
fn value(path: &Path, what: &str) -> Result<String> {
    let refuse = |why: &str| {
        Error::new(format!(
            "{what} {} {why}, so it cannot go into a Seatbelt profile; rename it or remove it from the policy",
            path.to_string_lossy().escape_debug()
        ))
    };
    let s = path.to_str().ok_or_else(|| refuse("is not valid UTF-8"))?;
    if s.chars().any(char::is_control) {
        return Err(refuse("contains a control character"));
    }
    if s.len() > MAX_VALUE_BYTES {
        return Err(refuse(&format!("is longer than {MAX_VALUE_BYTES} bytes")));
    }
    Ok(s.to_string())
}

/// The paths that must stay read-only inside `root`: every protected path
/// of every writable root (the spelled `root/name` and its symlink or gitdir
/// target) that lies in `root`. Across roots because a `.git` symlink or
/// gitdir pointer may lead into another writable root. Missing ones are
/// included: Seatbelt then refuses to create them.
fn protected_inside(plan: &Plan, root: &Path) -> Vec<PathBuf> {
    let mut out = BTreeSet::new();
    for (_, p) in plan.protected() {
        for path in [&p.path, &p.target] {
            let path = macos_path(path);
            if path.starts_with(root) {
                out.insert(path);
            }
        }
    }
    out.into_iter().collect()
}

fn reads(plan: &Plan, b: &mut Builder) -> Result<()> {
    let (minimal, roots) = match &plan.read {
        ReadScope::All => {
            b.line(";; ===== Reads: everything (read scope :root); code may be mapped from anywhere =====");
            b.line("(allow file-read* file-map-executable)");
            return Ok(());
        }
        ReadScope::Restricted { minimal, roots, .. } => (*minimal, roots),
    };
    b.line(";; ===== Reads: restricted =====");
    if minimal {
        b.text.push_str(MINIMAL_READ);
    }
    let mut filters = Vec::new();
    for (i, r) in roots.iter().enumerate() {
        filters.push(format!(
            "(subpath {})",
            b.param(format!("R{i}"), &r.path, "readable path")?
        ));
    }
    // Writable roots are readable too, as on Linux; their W* parameters are
    // defined by `writes` (`compile` runs it first, emits it after).
    for i in 0..plan.writable.len() {
        filters.push(format!("(subpath (param \"W{i}\"))"));
    }
    // Never emit a filterless allow: it would grant reads of everything.
    if filters.is_empty() {
        b.line(";; No readable roots beyond the platform set.");
        return Ok(());
    }
    b.line(";; The readable roots (R*) and writable roots (W*); code may be mapped from them.");
    b.line(&format!(
        "(allow file-read* file-map-executable\n  {})",
        filters.join("\n  ")
    ));
    // stat/realpath/getcwd walk the ancestors: metadata only, never listing.
    let mut ancestors = BTreeSet::new();
    for path in roots
        .iter()
        .map(|r| &r.path)
        .chain(plan.writable.iter().map(|w| &w.root.path))
    {
        ancestors.extend(macos_path(path).ancestors().skip(1).map(Path::to_path_buf));
    }
    let mut filters = Vec::new();
    for (i, a) in ancestors.iter().enumerate() {
        filters.push(format!(
            "(literal {})",
            b.param(format!("A{i}"), a, "ancestor directory")?
        ));
    }
    if !filters.is_empty() {
        b.line(";; Metadata (stat, readlink) of their ancestor directories (A*).");
        b.line(&format!(
            "(allow file-read-metadata\n  {})",
            filters.join("\n  ")
        ));
    }
    Ok(())
}

fn writes(plan: &Plan, b: &mut Builder) -> Result<()> {
    if plan.writable.is_empty() {
        b.line(";; ===== Writes: none (beyond the device files of the base policy) =====");
        return Ok(());
    }
    b.line(";; ===== Writes: each writable root (W*) minus its protected subpaths (W*_P*) =====");
    b.line(";; Protected subpaths stay read-only and cannot be created, even when missing.");
    for (i, w) in plan.writable.iter().enumerate() {
        let root = macos_path(&w.root.path);
        let root_expr = b.param(format!("W{i}"), &root, "writable root")?;
        let protected = protected_inside(plan, &root);
        if protected.is_empty() {
            b.line(&format!("(allow file-write* (subpath {root_expr}))"));
            continue;
        }
        let mut rule = format!("(allow file-write*\n  (require-all\n    (subpath {root_expr})");
        for (j, p) in protected.iter().enumerate() {
            let e = b.param(format!("W{i}_P{j}"), p, "protected path")?;
            let _ = write!(
                rule,
                "\n    (require-not (literal {e}))\n    (require-not (subpath {e}))"
            );
        }
        rule.push_str("))");
        b.line(&rule);
    }
    Ok(())
}

/// A glob as a Seatbelt regex below `base`: `*` and `?` within one name,
/// `**` for any number of directories, and whatever lies below a match
/// (a matched directory is hidden whole). Refuses characters a raw regex
/// string cannot carry safely.
fn glob_regex(base: &Path, pattern: &str, entry: &str) -> Result<String> {
    let base = macos_path(base);
    let refuse = || {
        Error::new(format!(
            "deny glob {} cannot go into a Seatbelt profile: its base or pattern holds a quote, backslash or control character; rename the directory or remove the entry",
            entry.escape_debug()
        ))
    };
    let text = base.to_str().ok_or_else(refuse)?;
    let ok = |s: &str| !s.chars().any(|c| c == '"' || c == '\\' || c.is_control());
    if !ok(text) || !ok(pattern) {
        return Err(refuse());
    }
    let escape = |c: char, out: &mut String| {
        if ".^$|()[]{}*+?".contains(c) {
            out.push('\\');
        }
        out.push(c);
    };
    let mut re = String::from("^");
    for c in text.trim_end_matches('/').chars() {
        escape(c, &mut re);
    }
    re.push('/');
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        if *comp == "**" {
            re.push_str("(.*/)?");
            continue;
        }
        for c in comp.chars() {
            match c {
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                c => escape(c, &mut re),
            }
        }
        if !last {
            re.push('/');
        }
    }
    re.push_str("(/.*)?$");
    Ok(re)
}

/// Denied paths (D*) after the writes, so nothing before them can grant
/// them; what a grant lifts inside one (D*_L*) after that; globs (regexes,
/// matched by Seatbelt at any depth, no expansion needed).
fn denies(plan: &Plan, b: &mut Builder) -> Result<()> {
    let d = &plan.deny;
    if d.denied.is_empty() && d.absent.is_empty() && d.globs.is_empty() {
        return Ok(());
    }
    b.line(";; ===== Denied: neither readable nor writable, even inside a root (D*) =====");
    let mut filters = Vec::new();
    let mut n = 0;
    let spelled = d
        .denied
        .iter()
        .flat_map(|x| std::iter::once(&x.path).chain(&x.spelled))
        .chain(&d.absent);
    let mut seen = BTreeSet::new();
    for p in spelled {
        let p = macos_path(p);
        if !seen.insert(p.clone()) {
            continue;
        }
        let e = b.param(format!("D{n}"), &p, "denied path")?;
        n += 1;
        filters.push(format!("(literal {e})\n  (subpath {e})"));
    }
    for g in &d.globs {
        for base in &g.bases {
            filters.push(format!(
                "(regex #\"{}\")",
                glob_regex(base, &g.pattern, &g.entry)?
            ));
        }
    }
    b.line(&format!(
        "(deny file-read* file-write* file-map-executable\n  {})",
        filters.join("\n  ")
    ));
    let mut lifted = Vec::new();
    for (i, x) in d.denied.iter().enumerate() {
        for (j, l) in x.lifted.iter().enumerate() {
            let key = format!("D{i}_L{j}");
            let e = b.param(key.clone(), &macos_path(&l.path), "lifted path")?;
            lifted.push((key, e, l));
        }
    }
    if !lifted.is_empty() {
        b.line(";; Lifted inside them by a grant that names them (D*_L*): readable again,");
        b.line(";; writable where a writable root lies (its protected subpaths stay denied).");
        let reads: Vec<String> = lifted
            .iter()
            .map(|(_, e, _)| format!("(subpath {e})"))
            .collect();
        b.line(&format!(
            "(allow file-read* file-map-executable\n  {})",
            reads.join("\n  ")
        ));
        for (key, e, l) in &lifted {
            let Some(w) = plan
                .writable
                .iter()
                .find(|w| l.path.starts_with(&w.root.path))
            else {
                continue;
            };
            let mut rule = format!("(allow file-write*\n  (require-all\n    (subpath {e})");
            let protected = protected_inside(plan, &macos_path(&w.root.path));
            for (k, p) in protected.iter().enumerate() {
                let pe = b.param(format!("{key}_P{k}"), p, "protected path")?;
                let _ = write!(
                    rule,
                    "\n    (require-not (literal {pe}))\n    (require-not (subpath {pe}))"
                );
            }
            rule.push_str("))");
            b.line(&rule);
        }
    }
    b.line("");
    Ok(())
}

/// While `.git` is protected, no path named `.git` can be created, renamed
/// to, written or removed at any depth: `git init sub`, `git clone URL dir`
/// or `mv x .git` inside a writable root would plant a repository whose
/// hooks and config git later runs outside the sandbox. Files inside an
/// existing nested `.git` follow the protected paths above. After the write
/// rules and the deny section, so no allow re-opens it.
fn git_anywhere(plan: &Plan, b: &mut Builder) {
    if plan.writable.is_empty() || !plan.protected_names.iter().any(|n| n == ".git") {
        return;
    }
    b.line(";; ===== .git at any depth: never created, renamed to or removed =====");
    b.line("(deny file-write* (regex #\"/\\.git$\"))");
    b.line("");
}

/// Git mode's anchors (a writable gitdir's `objects` and `refs`): the
/// directory itself is never removed, renamed or chmodded (its entries are
/// other paths and stay writable), so the gitdir stays a repository. The
/// counterpart of the Linux mount points; `.git` itself is held by
/// [`git_anywhere`]. (Not run on a Mac by this change: see SECURITY.md.)
fn git_anchors(plan: &Plan, b: &mut Builder) -> Result<()> {
    let anchors: Vec<&PathBuf> = plan.writable.iter().flat_map(|w| &w.anchors).collect();
    if anchors.is_empty() {
        return Ok(());
    }
    b.line(";; ===== git mode: objects and refs of a writable gitdir stay in place =====");
    for (i, a) in anchors.into_iter().enumerate() {
        let e = b.param(format!("GA{i}"), &macos_path(a), "git mode anchor")?;
        b.line(&format!("(deny file-write* (literal {e}))"));
    }
    b.line("");
    Ok(())
}

/// Compiles `plan` into a Seatbelt profile. Refuses (exit 125) a plan with no
/// sandbox, and paths or bundle ids that cannot be expressed safely.
pub fn compile(plan: &Plan) -> Result<Profile> {
    compile_with(plan, None)
}

/// [`compile`] with the domain proxy's port, known once `cordon run` has
/// bound its listener on the host's loopback: the profile then allows TCP
/// to `localhost:PORT` and nothing else of the network. Without the port
/// (`cordon seatbelt`, `--dry-run`) the rule is shown as a comment.
pub fn compile_with(plan: &Plan, proxy_port: Option<u16>) -> Result<Profile> {
    if !plan.sandboxed {
        return Err(Error::new(format!(
            "policy {} applies no sandbox (full access), so there is no Seatbelt profile; `cordon run` execs such commands directly",
            plan.policy_name
        )));
    }
    let mut b = Builder {
        text: String::with_capacity(BASE.len() + MINIMAL_READ.len() + NETWORK.len() + 4096),
        params: Vec::new(),
    };
    b.text.push_str(BASE);
    b.line("");
    // Writes first into a side builder so their W* parameters exist before
    // the read section (emitted first) references them.
    let mut w = Builder {
        text: String::new(),
        params: Vec::new(),
    };
    writes(plan, &mut w)?;
    reads(plan, &mut b)?;
    b.line("");
    b.text.push_str(&w.text);
    b.params.extend(w.params);
    b.line("");
    denies(plan, &mut b)?;
    git_anywhere(plan, &mut b);
    git_anchors(plan, &mut b)?;
    if plan.network.enabled {
        b.line(";; ===== Network: on =====");
        b.text.push_str(NETWORK);
    } else if plan.network.has_ports() || plan.network.proxied() {
        // TCP to and from the listed ports only; UDP, DNS (the
        // mDNSResponder socket) and every other port stay denied. With
        // domains, the proxy on the host's loopback is the way out.
        b.line(";; ===== Network: TCP to listed ports only =====");
        if plan.network.proxied() {
            match proxy_port {
                Some(p) => b.line(&format!(
                    "(allow network-outbound (remote tcp \"localhost:{p}\"))"
                )),
                None => b.line(
                    ";; domains: (allow network-outbound (remote tcp \"localhost:PORT\")), PORT the proxy's, chosen at run time",
                ),
            }
        }
        for p in &plan.network.connect_tcp {
            b.line(&format!("(allow network-outbound (remote tcp \"*:{p}\"))"));
        }
        for p in &plan.network.bind_tcp {
            b.line(&format!("(allow network-bind (local tcp \"*:{p}\"))"));
            b.line(&format!("(allow network-inbound (local tcp \"*:{p}\"))"));
        }
    } else {
        b.line(";; ===== Network: off (no rule: denied by default) =====");
    }
    b.line("");
    extensions::section(&plan.macos, &mut b.text)?;
    b.line("");
    b.line(";; ===== Final denies =====");
    b.text.push_str(FINAL);
    Ok(Profile {
        text: b.text,
        params: b.params,
    })
}

/// `/usr/bin/sandbox-exec -p PROFILE -DK=V... -- CMD...`.
pub fn argv(profile: &Profile, command: &[OsString]) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::with_capacity(profile.params.len() + command.len() + 4);
    out.push(SANDBOX_EXEC.into());
    out.push("-p".into());
    out.push(profile.text.clone().into());
    for (k, v) in &profile.params {
        out.push(format!("-D{k}={v}").into());
    }
    out.push("--".into());
    out.extend(command.iter().cloned());
    out
}

/// The profile text followed by its parameters as comments, so the whole
/// stays a valid profile (`run --dry-run` on macOS prints this).
impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        if !self.text.ends_with('\n') {
            f.write_str("\n")?;
        }
        for (k, v) in &self.params {
            // Values hold no control characters (see `value`), so each
            // stays on its comment line.
            writeln!(f, ";; -D {k}={v}")?;
        }
        Ok(())
    }
}
