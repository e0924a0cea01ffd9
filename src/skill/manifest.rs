//! A skill's manifest: the directory holding `SKILL.md`, and the
//! `permissions` block it declares in `agents/openai.yaml` (where Codex's
//! skill loader reads a skill's metadata) or in the YAML front matter of
//! `SKILL.md`. The block is PermissionProfile-shaped:
//!
//! ```yaml
//! permissions:
//!   file_system:
//!     read: [./data, ~/datasets]     # relative to the skill directory, absolute, or ~/
//!     write: [./out]
//!   network: true                    # or {enabled: true}
//!   macos: {preferences: read-only, automation: [com.apple.Notes]}
//! ```
//!
//! Parsing is strict: an unknown key, a wrong type or malformed YAML is an
//! error naming the key and the file. Nothing here reads more than the two
//! files.

use std::path::{Path, PathBuf};

use yaml_serde::Value;

use crate::error::{Error, Result};
use crate::plan::fs::lexical;
use crate::policy::{Automation, Grant, MacosExtensions, PathSpec, Preferences};

/// The file that marks a skill directory.
pub const SKILL_FILE: &str = "SKILL.md";
/// Codex's per-skill metadata file, relative to the skill directory.
pub const METADATA_FILE: &str = "agents/openai.yaml";

/// A declared network grant or macOS extensions, with the key that said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared<T> {
    pub value: T,
    pub origin: String,
}

/// The `permissions` block, parsed. Paths are absolute (a relative one is
/// joined to the skill directory here) or `~/...` (expanded when resolved).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions {
    /// `None`: no read list, so the skill reads what the turn reads.
    pub read: Option<Vec<Grant>>,
    pub write: Vec<Grant>,
    pub network: Option<Declared<bool>>,
    pub macos: Option<Declared<MacosExtensions>>,
}

impl Permissions {
    /// The block without its origins, to compare two places that both
    /// declare one.
    fn shape(&self) -> impl PartialEq + '_ {
        let specs = |g: &[Grant]| g.iter().map(|g| g.spec.clone()).collect::<Vec<_>>();
        (
            self.read.as_deref().map(specs),
            specs(&self.write),
            self.network.as_ref().map(|n| n.value),
            self.macos.as_ref().map(|m| m.value.clone()),
        )
    }
}

/// A skill directory and what its manifest declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skill {
    /// Canonical.
    pub dir: PathBuf,
    /// The file whose `permissions` block applies (`None`: neither has one).
    pub manifest: Option<PathBuf>,
    pub permissions: Option<Permissions>,
}

fn fail(file: &Path, msg: impl std::fmt::Display) -> Error {
    Error::new(format!("skill manifest {}: {msg}", file.display()))
}

/// Loads the skill in `dir`: it must be a directory holding `SKILL.md`.
/// When both places declare a block they must declare the same one (then
/// `agents/openai.yaml`, Codex's place, is the one named in origins);
/// otherwise the one that has it applies.
pub fn load(dir: &Path) -> Result<Skill> {
    let canon = std::fs::canonicalize(dir).map_err(|e| {
        Error::new(format!(
            "skill {}: {e}; give the directory that holds the skill's SKILL.md",
            dir.display()
        ))
    })?;
    if !canon.is_dir() {
        return Err(Error::new(format!(
            "skill {}: not a directory; give the directory that holds the skill's SKILL.md",
            dir.display()
        )));
    }
    let skill_md = canon.join(SKILL_FILE);
    let text = match read_manifest(&skill_md) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(format!(
                "skill {}: no {SKILL_FILE} in it, so it is not a skill directory; give the directory that holds SKILL.md",
                canon.display()
            )));
        }
        Err(e) => return Err(fail(&skill_md, format!("cannot read: {e}"))),
    };
    let from_md = match front_matter(&text).map_err(|m| fail(&skill_md, m))? {
        Some(yaml) => block(yaml, &skill_md, &canon)?,
        None => None,
    };
    let meta = canon.join(METADATA_FILE);
    let from_meta = match read_manifest(&meta) {
        Ok(t) => block(&t, &meta, &canon)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail(&meta, format!("cannot read: {e}"))),
    };
    let (manifest, permissions) = match (from_meta, from_md) {
        (Some(a), Some(b)) => {
            if a.shape() != b.shape() {
                return Err(fail(
                    &meta,
                    format!(
                        "declares a permissions block that differs from the one in {}; keep one of them (Codex reads {METADATA_FILE})",
                        skill_md.display()
                    ),
                ));
            }
            (Some(meta), Some(a))
        }
        (Some(a), None) => (Some(meta), Some(a)),
        (None, Some(b)) => (Some(skill_md), Some(b)),
        (None, None) => (None, None),
    };
    Ok(Skill {
        dir: canon,
        manifest,
        permissions,
    })
}

/// The most a manifest may hold: skills' are a few hundred bytes.
const MAX_MANIFEST: u64 = 1 << 20;

/// Reads a manifest: a regular file (a symlink to one is followed) of at
/// most [`MAX_MANIFEST`] bytes. A repository can carry `openai.yaml ->
/// /dev/zero`, or a FIFO, which `read_to_string` would read forever
/// (adversarial pass 5).
fn read_manifest(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        // A FIFO opens at once instead of waiting for a writer.
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(
            "not a regular file; a manifest is a file of YAML",
        ));
    }
    if meta.len() > MAX_MANIFEST {
        return Err(std::io::Error::other(format!(
            "{} bytes, over the {MAX_MANIFEST} a manifest may hold",
            meta.len()
        )));
    }
    let mut text = String::new();
    file.take(MAX_MANIFEST + 1).read_to_string(&mut text)?;
    Ok(text)
}

/// Why `SKILL.md`'s front matter cannot be read as the harness reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BadFrontMatter {
    /// `---` after blank lines, or with more on its line.
    Opening,
    /// No closing `---` line.
    Unclosed,
}

impl std::fmt::Display for BadFrontMatter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadFrontMatter::Opening => {
                "the front matter must open with a first line that is exactly `---` (no blank lines before it, nothing after it); fix the opening line"
            }
            BadFrontMatter::Unclosed => {
                "front matter starts with `---` but has no closing `---` line; close it"
            }
        })
    }
}

/// The YAML between a first line `---` and the next `---` line; `None`
/// when the file does not start with front matter at all. A start that
/// looks like front matter but is not exactly `---` (`--- # x`, blank
/// lines before it) is refused: read one way by cordon and another by the
/// harness, a declared block would be dropped without a word (adversarial
/// pass 5).
fn front_matter(text: &str) -> std::result::Result<Option<&str>, BadFrontMatter> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let Some(first) = lines.next() else {
        return Ok(None);
    };
    if first.trim_end() != "---" {
        let opening = text.lines().find(|l| !l.trim().is_empty());
        if opening.is_some_and(|l| l.trim_start().starts_with("---")) {
            return Err(BadFrontMatter::Opening);
        }
        return Ok(None);
    }
    let start = first.len();
    let mut at = start;
    for line in lines {
        if line.trim_end() == "---" {
            return Ok(Some(&text[start..at]));
        }
        at += line.len();
    }
    Err(BadFrontMatter::Unclosed)
}

/// The `permissions` block of one YAML document, if it has one.
fn block(yaml: &str, file: &Path, skill: &Path) -> Result<Option<Permissions>> {
    let doc: Value = yaml_serde::from_str(yaml).map_err(|e| {
        let msg = e.to_string().replace('\n', " ");
        fail(file, format!("invalid YAML: {msg}; fix the file"))
    })?;
    let top = match doc {
        Value::Null => return Ok(None),
        Value::Mapping(m) => m,
        _ => return Err(fail(file, "the document is not a mapping of keys")),
    };
    let Some(perms) = top.get("permissions") else {
        return Ok(None);
    };
    let origin = format!("skill {}", file.display());
    Parser {
        file,
        skill,
        origin: &origin,
    }
    .permissions(perms)
    .map(Some)
}

struct Parser<'a> {
    file: &'a Path,
    skill: &'a Path,
    /// `skill FILE`: the prefix of every grant's origin.
    origin: &'a str,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

impl Parser<'_> {
    fn err(&self, key: &str, msg: impl std::fmt::Display) -> Error {
        fail(self.file, format!("{key}: {msg}"))
    }

    /// The entries of a mapping with string keys, each checked against
    /// `known`: an unknown key is an error naming it.
    fn mapping<'v>(
        &self,
        v: &'v Value,
        key: &str,
        known: &[&str],
    ) -> Result<Vec<(&'v str, &'v Value)>> {
        let Value::Mapping(m) = v else {
            return Err(self.err(key, format!("is {}, expected a mapping", kind(v))));
        };
        let mut out = Vec::with_capacity(m.len());
        for (k, val) in m {
            let Some(k) = k.as_str() else {
                return Err(self.err(key, format!("has a key that is {}, not a name", kind(k))));
            };
            if !known.contains(&k) {
                return Err(self.err(
                    &format!("{key}.{k}"),
                    format!(
                        "unknown key `{}` (known: {}); remove it",
                        k.escape_debug(),
                        known.join(", ")
                    ),
                ));
            }
            out.push((k, val));
        }
        Ok(out)
    }

    fn bool(&self, v: &Value, key: &str) -> Result<bool> {
        v.as_bool()
            .ok_or_else(|| self.err(key, format!("is {}, expected true or false", kind(v))))
    }

    fn permissions(&self, v: &Value) -> Result<Permissions> {
        const KEY: &str = "permissions";
        if v.is_null() {
            return Err(self.err(
                KEY,
                "is empty; write `permissions: {}` for a sandbox that grants nothing, or remove the key to run under the turn's sandbox",
            ));
        }
        let mut out = Permissions::default();
        for (k, val) in self.mapping(v, KEY, &["file_system", "network", "macos"])? {
            match k {
                "file_system" => {
                    let key = "permissions.file_system";
                    if val.is_null() {
                        continue;
                    }
                    for (k, list) in self.mapping(val, key, &["read", "write"])? {
                        let key = format!("{key}.{k}");
                        let grants = self.paths(list, &key)?;
                        if k == "read" {
                            out.read = Some(grants);
                        } else {
                            out.write = grants;
                        }
                    }
                }
                "network" => out.network = Some(self.network(val)?),
                _ => out.macos = Some(self.macos(val)?),
            }
        }
        Ok(out)
    }

    /// A list of paths: absolute, `~/...`, or relative to the skill
    /// directory (joined here, without touching the filesystem).
    fn paths(&self, v: &Value, key: &str) -> Result<Vec<Grant>> {
        let Value::Sequence(items) = v else {
            return Err(self.err(key, format!("is {}, expected a list of paths", kind(v))));
        };
        let mut out: Vec<Grant> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("{key}[{i}]");
            let Some(text) = item.as_str() else {
                return Err(self.err(&at, format!("is {}, expected a path", kind(item))));
            };
            let text = text.trim();
            if text.starts_with(':') {
                return Err(self.err(
                    &at,
                    format!(
                        "`{}`: a skill names paths (relative to its directory, absolute, or ~/...), not special names",
                        text.escape_debug()
                    ),
                ));
            }
            let spec = PathSpec::parse(text).map_err(|e| self.err(&at, e))?;
            let spec = match spec {
                // `~` and `~/...` expand to $HOME when resolved; `~user` is
                // a file name like any other.
                PathSpec::Path(p) if !p.is_absolute() && !p.starts_with("~") => {
                    PathSpec::Path(lexical(&self.skill.join(p)))
                }
                other => other,
            };
            if out.iter().any(|g| g.spec == spec) {
                continue;
            }
            out.push(Grant {
                spec,
                origin: format!("{}: {at}", self.origin),
            });
        }
        Ok(out)
    }

    /// `network: true` or `network: {enabled: true}`.
    fn network(&self, v: &Value) -> Result<Declared<bool>> {
        const KEY: &str = "permissions.network";
        let value = match v {
            Value::Bool(b) => *b,
            Value::Mapping(_) => {
                let mut enabled = false;
                for (_, val) in self.mapping(v, KEY, &["enabled"])? {
                    enabled = self.bool(val, "permissions.network.enabled")?;
                }
                enabled
            }
            other => {
                return Err(self.err(
                    KEY,
                    format!(
                        "is {}, expected true, false or {{enabled: BOOL}}",
                        kind(other)
                    ),
                ));
            }
        };
        Ok(Declared {
            value,
            origin: format!("{}: {KEY}", self.origin),
        })
    }

    /// The macOS extensions, in cordon's spelling (`preferences`,
    /// `automation`, `accessibility`, `calendar`) or Codex's
    /// (`macos_preferences`, `automations` / `macos_automation`,
    /// `macos_accessibility`, `macos_calendar`; booleans and `readonly` /
    /// `readwrite` for preferences). One field given twice is an error.
    fn macos(&self, v: &Value) -> Result<Declared<MacosExtensions>> {
        const KEY: &str = "permissions.macos";
        let known = [
            "preferences",
            "macos_preferences",
            "automation",
            "automations",
            "macos_automation",
            "accessibility",
            "macos_accessibility",
            "calendar",
            "macos_calendar",
        ];
        let mut m = MacosExtensions::default();
        let mut seen: Vec<&str> = Vec::new();
        for (k, val) in self.mapping(v, KEY, &known)? {
            let key = format!("{KEY}.{k}");
            let field = k.strip_prefix("macos_").unwrap_or(k);
            let field = if field == "automations" {
                "automation"
            } else {
                field
            };
            if seen.contains(&field) {
                return Err(self.err(&key, format!("`{field}` is given twice; keep one spelling")));
            }
            seen.push(field);
            match field {
                "preferences" => m.preferences = self.preferences(val, &key)?,
                "automation" => m.automation = self.automation(val, &key)?,
                "accessibility" => m.accessibility = self.bool(val, &key)?,
                _ => m.calendar = self.bool(val, &key)?,
            }
        }
        Ok(Declared {
            value: m,
            origin: format!("{}: {KEY}", self.origin),
        })
    }

    /// `preferences`: none, read-only or read-write, or Codex's booleans
    /// and `readonly` / `readwrite`.
    fn preferences(&self, val: &Value, key: &str) -> Result<Preferences> {
        Ok(match val {
            Value::Bool(true) => Preferences::ReadOnly,
            Value::Bool(false) => Preferences::None,
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "readonly" => Preferences::ReadOnly,
                "readwrite" => Preferences::ReadWrite,
                other => Preferences::parse(other).ok_or_else(|| {
                    self.err(
                        key,
                        format!("`{}`: use none, read-only or read-write", s.escape_debug()),
                    )
                })?,
            },
            other => {
                return Err(self.err(
                    key,
                    format!("is {}, expected none, read-only or read-write", kind(other)),
                ));
            }
        })
    }

    /// `automation`: none, all, a boolean, or a list of bundle ids.
    fn automation(&self, val: &Value, key: &str) -> Result<Automation> {
        Ok(match val {
            Value::Bool(true) => Automation::All,
            Value::Bool(false) => Automation::None,
            Value::String(s) if s == "all" => Automation::All,
            Value::String(s) if s == "none" => Automation::None,
            Value::Sequence(items) => {
                let mut ids = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let id = item.as_str().ok_or_else(|| {
                        self.err(
                            &format!("{key}[{i}]"),
                            format!("is {}, expected a bundle id", kind(item)),
                        )
                    })?;
                    ids.push(id.trim().to_string());
                }
                Automation::from_ids(ids).map_err(|e| self.err(key, e))?
            }
            other => {
                return Err(self.err(
                    key,
                    format!(
                        "is {}, expected none, all, true, false or a list of bundle ids",
                        kind(other)
                    ),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skill(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("s");
        for (name, text) in files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        let canon = std::fs::canonicalize(&dir).unwrap();
        (d, canon)
    }

    fn err(files: &[(&str, &str)]) -> String {
        let (_d, dir) = skill(files);
        let e = load(&dir).unwrap_err();
        assert_eq!(e.exit, 125);
        assert!(!e.message.contains('\n'), "{}", e.message);
        e.message
    }

    #[test]
    fn openai_yaml_block_with_paths_relative_to_the_skill() {
        let (_d, dir) = skill(&[
            ("SKILL.md", "---\nname: x\ndescription: y\n---\n# body\n"),
            (
                "agents/openai.yaml",
                "interface:\n  display_name: X\npermissions:\n  file_system:\n    read: [./data, /opt/tool, ~/ds]\n    write: [out, scripts/../cache]\n  network:\n    enabled: true\n",
            ),
        ]);
        let s = load(&dir).unwrap();
        let meta = dir.join(METADATA_FILE);
        assert_eq!(s.manifest.as_deref(), Some(meta.as_path()));
        let p = s.permissions.unwrap();
        let specs: Vec<_> = p.read.unwrap().iter().map(|g| g.spec.clone()).collect();
        assert_eq!(
            specs,
            [
                PathSpec::Path(dir.join("data")),
                PathSpec::Path("/opt/tool".into()),
                PathSpec::Path("~/ds".into())
            ]
        );
        assert_eq!(p.write[1].spec, PathSpec::Path(dir.join("cache")));
        assert_eq!(
            p.write[1].origin,
            format!("skill {}: permissions.file_system.write[1]", meta.display())
        );
        assert!(p.network.unwrap().value);
        assert!(p.macos.is_none());
    }

    #[test]
    fn front_matter_block_and_codex_spellings() {
        let (_d, dir) = skill(&[(
            "SKILL.md",
            "---\nname: x\npermissions:\n  network: true\n  macos:\n    macos_preferences: readwrite\n    automations: [com.apple.Notes]\n    macos_calendar: true\n---\nbody\n",
        )]);
        let s = load(&dir).unwrap();
        assert_eq!(s.manifest, Some(dir.join(SKILL_FILE)));
        let p = s.permissions.unwrap();
        let m = p.macos.unwrap().value;
        assert_eq!(m.preferences, Preferences::ReadWrite);
        assert_eq!(
            m.automation,
            Automation::BundleIds(vec!["com.apple.Notes".into()])
        );
        assert!(m.calendar && !m.accessibility);
        assert!(p.read.is_none() && p.write.is_empty());
        // Codex's serde spelling, snake_case (issue 17).
        let (_d, dir) = skill(&[(
            "SKILL.md",
            "---\nname: x\npermissions:\n  macos:\n    macos_preferences: read_only\n---\nbody\n",
        )]);
        let m = load(&dir)
            .unwrap()
            .permissions
            .unwrap()
            .macos
            .unwrap()
            .value;
        assert_eq!(m.preferences, Preferences::ReadOnly);
    }

    #[test]
    fn no_block_anywhere_is_none() {
        let (_d, dir) = skill(&[("SKILL.md", "# no front matter\n")]);
        let s = load(&dir).unwrap();
        assert_eq!(s.permissions, None);
        assert_eq!(s.manifest, None);
        let (_d, dir) = skill(&[
            ("SKILL.md", "---\nname: x\n---\n"),
            ("agents/openai.yaml", "interface: {display_name: X}\n"),
        ]);
        assert_eq!(load(&dir).unwrap().permissions, None);
    }

    #[test]
    fn both_places_must_agree() {
        let same = "permissions:\n  network: true\n";
        let (_d, dir) = skill(&[
            ("SKILL.md", &format!("---\n{same}---\n")),
            ("agents/openai.yaml", same),
        ]);
        let s = load(&dir).unwrap();
        assert_eq!(s.manifest, Some(dir.join(METADATA_FILE)));
        let m = err(&[
            ("SKILL.md", "---\npermissions:\n  network: false\n---\n"),
            ("agents/openai.yaml", same),
        ]);
        assert!(m.contains("differs") && m.contains("keep one"), "{m}");
    }

    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str);

    /// Each case is refused with a message naming the skill and `needle`.
    fn assert_refused(cases: &[Case]) {
        for (files, needle) in cases {
            let m = err(files);
            assert!(
                m.contains(needle),
                "{files:?}\n  gave: {m}\n  want: {needle}"
            );
            assert!(m.starts_with("skill"), "{m}");
        }
    }

    #[test]
    fn bad_keys_and_values_name_the_key_and_the_file() {
        assert_refused(&[
            (
                &[
                    ("SKILL.md", "x"),
                    ("agents/openai.yaml", "permissions:\n  netwrk: true\n"),
                ],
                "permissions.netwrk: unknown key `netwrk`",
            ),
            (
                &[
                    ("SKILL.md", "x"),
                    (
                        "agents/openai.yaml",
                        "permissions:\n  file_system:\n    exec: []\n",
                    ),
                ],
                "permissions.file_system.exec: unknown key",
            ),
            (
                &[
                    ("SKILL.md", "x"),
                    (
                        "agents/openai.yaml",
                        "permissions:\n  network: yes please\n",
                    ),
                ],
                "permissions.network: is a string",
            ),
            (
                &[
                    ("SKILL.md", "x"),
                    (
                        "agents/openai.yaml",
                        "permissions:\n  file_system:\n    write: [1]\n",
                    ),
                ],
                "permissions.file_system.write[0]: is a number",
            ),
            (
                &[
                    ("SKILL.md", "x"),
                    (
                        "agents/openai.yaml",
                        "permissions:\n  file_system:\n    write: [\":cwd\"]\n",
                    ),
                ],
                "not special names",
            ),
            (
                &[
                    ("SKILL.md", "x"),
                    (
                        "agents/openai.yaml",
                        "permissions:\n  macos:\n    automation: none\n    automations: all\n",
                    ),
                ],
                "given twice",
            ),
            (
                &[("SKILL.md", "x"), ("agents/openai.yaml", "permissions:\n")],
                "permissions: is empty",
            ),
        ]);
        let m = err(&[
            ("SKILL.md", "x"),
            ("agents/openai.yaml", "permissions:\n  netwrk: true\n"),
        ]);
        assert!(m.contains("openai.yaml"), "{m}");
    }

    #[test]
    fn bad_files_and_documents_name_the_file() {
        assert_refused(&[
            (&[("agents/openai.yaml", "x: 1\n")], "no SKILL.md"),
            (
                &[
                    ("SKILL.md", "x"),
                    ("agents/openai.yaml", "permissions: [\n"),
                ],
                "invalid YAML",
            ),
            (
                &[("SKILL.md", "---\npermissions: {}\n")],
                "no closing `---`",
            ),
            (
                &[("SKILL.md", "x"), ("agents/openai.yaml", "- a\n")],
                "not a mapping",
            ),
        ]);
    }

    #[test]
    fn empty_block_grants_nothing() {
        let (_d, dir) = skill(&[("SKILL.md", "---\npermissions: {}\n---\n")]);
        assert_eq!(
            load(&dir).unwrap().permissions,
            Some(Permissions::default())
        );
    }
}
