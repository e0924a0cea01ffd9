//! `cordon learn`: the profile that extends the traced one with the
//! grants its denials ask for. Every grant carries the denials behind it
//! as comments; what must never be granted outright (a protected path, a
//! deny entry, `/`, `$HOME` whole, the network) is written commented out,
//! with the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Denial, Fix, Report};
use crate::plan::shown;

/// Evidence lines kept per grant.
const EVIDENCE: usize = 5;

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// One comment line: control characters from the command never make a
/// second line in the file.
fn comment(text: &str) -> String {
    format!("# {}", shown(Path::new(text)))
}

fn evidence(d: &Denial) -> String {
    let what = d
        .path
        .clone()
        .or_else(|| d.target.clone())
        .unwrap_or_default();
    comment(&format!("denied: {} {} ({})", d.op, what, d.errno))
}

/// A protected name (`.git`, `~/.bashrc`) the path passes through: such
/// a path is protected only inside a writable root, so a grant of it
/// outside one would make it writable; learn never writes that grant.
fn protected_on_the_way(path: &Path, protected: &[String]) -> Option<String> {
    protected.iter().find_map(|name| {
        let last = name.trim_start_matches("~/").trim_end_matches('/');
        path.components()
            .any(|c| c.as_os_str() == last)
            .then(|| name.clone())
    })
}

/// Where learn never grants writes: what the host boots, runs or reads
/// as its configuration (an adversarial pass had `learn` grant `/etc`
/// from one denied `/etc/ld.so.preload`).
const SYSTEM: [&str; 13] = [
    "/etc",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/boot",
    "/proc",
    "/sys",
    "/dev",
    "/var/spool",
    "/var/lib",
];

/// Why a grant is not written as one, if it is not.
fn refused(fix: &Fix, home: Option<&Path>, protected: &[String]) -> Option<String> {
    if let Fix::AllowWrite { path, .. } | Fix::AllowRead(path) = fix {
        if path.to_str().is_none() {
            return Some(format!(
                "{} is not UTF-8, which a profile cannot name",
                shown(path)
            ));
        }
        if let Fix::AllowWrite { path, .. } = fix
            && let Some(sys) = SYSTEM.iter().find(|s| path.starts_with(s))
        {
            return Some(format!(
                "{} is in {sys}, which the host runs or trusts (a hostile command asks for /etc/cron.d or /proc/sys/kernel/core_pattern): learn never grants writes there; add it yourself if you mean it",
                shown(path)
            ));
        }
        if let Some(name) = protected_on_the_way(path, protected) {
            return Some(format!(
                "{} is (or is inside) protected name {name}: learn never grants it",
                shown(path)
            ));
        }
    }
    match fix {
        Fix::AllowWrite { path, wanted } if path != wanted => Some(format!(
            "{} does not exist yet: create it (mkdir -p) and add it to `write`",
            shown(wanted)
        )),
        Fix::AllowWrite { path, .. } | Fix::AllowRead(path) if path == Path::new("/") => {
            Some("/ is the whole filesystem: never granted by learn".into())
        }
        Fix::AllowWrite { path, .. } if Some(path.as_path()) == home => {
            Some("all of $HOME: never granted by learn; grant the directory the tool uses".into())
        }
        // A directory above $HOME holds all of it (`/home`, or the parent of
        // a $HOME elsewhere: adversarial pass 8 planted `~/.local/bin/ls`
        // through one); another user's home is theirs.
        Fix::AllowWrite { path, .. } if home.is_some_and(|h| h.starts_with(path)) => Some(format!(
            "{} holds $HOME: never granted by learn; grant the directory the tool uses",
            shown(path)
        )),
        Fix::AllowWrite { path, .. }
            if ["/home", "/root"].iter().any(|d| path.starts_with(d))
                && !home.is_some_and(|h| path.starts_with(h)) =>
        {
            Some(format!(
                "{} is in another account's home: never granted by learn",
                shown(path)
            ))
        }
        Fix::LiftDeny { entry, .. } => Some(format!(
            "inside deny entry {entry}: learn never lifts one; add the path to `read` yourself if you mean it"
        )),
        Fix::Unprotect(n) => Some(format!(
            "protected path {n}: learn never unprotects; pass --unprotect {n} if you mean it"
        )),
        Fix::Network => Some(
            "the network: learn never turns it on; set `enabled = true` under [network] if you mean it"
                .into(),
        ),
        Fix::ConnectTcp(p) => Some(format!(
            "the network: learn never opens it; add {p} to connect_tcp under [network] if you mean it"
        )),
        Fix::BindTcp(p) => Some(format!(
            "the network: learn never opens it; add {p} to bind_tcp under [network] if you mean it"
        )),
        Fix::Domain(h) => Some(format!(
            "the network: learn never opens it; add {h:?} to domains under [network] if you mean it"
        )),
        Fix::ProfileLine(l) => Some(format!("needs {l}")),
        Fix::Never(why) => Some(why.clone()),
        _ => None,
    }
}

/// The learned profile's text. `extends` is the traced profile (a
/// built-in name or an absolute path).
/// `protected`: the plan's protected names.
pub fn profile(
    report: &Report,
    extends: &str,
    home: Option<&Path>,
    protected: &[String],
) -> String {
    let mut write: BTreeMap<PathBuf, Vec<&Denial>> = BTreeMap::new();
    let mut read: BTreeMap<PathBuf, Vec<&Denial>> = BTreeMap::new();
    let mut not: Vec<(String, &Denial)> = Vec::new();
    for d in &report.denials {
        let Some(fix) = &d.grant else { continue };
        if let Some(why) = refused(fix, home, protected) {
            not.push((why, d));
            continue;
        }
        match fix {
            Fix::AllowWrite { path, .. } => write.entry(path.clone()).or_default().push(d),
            Fix::AllowRead(path) => read.entry(path.clone()).or_default().push(d),
            _ => {}
        }
    }
    let mut out = String::new();
    out.push_str("# Learned by `cordon learn` from: ");
    out.push_str(&shown(Path::new(&report.command.join(" "))).to_string());
    out.push('\n');
    out.push_str(
        "# Each grant lists the denials that asked for it. Review before use: every\n\
         # grant widens the sandbox. Flags given to learn besides -p are not recorded.\n",
    );
    out.push_str(&format!("extends = {}\n", toml_str(extends)));
    let list = |out: &mut String, key: &str, items: &BTreeMap<PathBuf, Vec<&Denial>>| {
        if items.is_empty() {
            return;
        }
        out.push_str(&format!("{key} = [\n"));
        for (path, ds) in items {
            for d in ds.iter().take(EVIDENCE) {
                out.push_str(&format!("  {}\n", evidence(d)));
            }
            if ds.len() > EVIDENCE {
                out.push_str(&format!("  # ... and {} more\n", ds.len() - EVIDENCE));
            }
            out.push_str(&format!("  {},\n", toml_str(&path.to_string_lossy())));
        }
        out.push_str("]\n");
    };
    if !write.is_empty() || !read.is_empty() {
        out.push_str("\n[file_system]\n");
        list(&mut out, "write", &write);
        list(&mut out, "read", &read);
    }
    if !not.is_empty() {
        out.push_str("\n# Not granted:\n");
        for (why, d) in not {
            out.push_str(&format!("{}\n", evidence(d)));
            if let Some(f) = &d.fix {
                out.push_str(&format!("#   would need: {}\n", shown(Path::new(f))));
            }
            out.push_str(&format!("{}\n", comment(&format!("  not granted: {why}"))));
        }
    }
    out
}
