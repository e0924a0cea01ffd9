//! The environment policy (`[env]`, contract §6): which of the caller's
//! variables reach the command, which are dropped, and what is set. Parsed
//! and validated here; the child's environment is computed from it at
//! planning (`plan/env.rs`).
//!
//! Order of the rules, for every variable of the caller: `inherit` picks the
//! base set, `exclude` drops from it, `keep` brings back whatever either of
//! them dropped, and `set` overrides. `CORDON_SANDBOX*` is cordon's own: never
//! taken from the caller, never set by a policy.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::PolicyError;

/// What every built-in profile, and every profile that says nothing about
/// it, drops: names that look like credentials (Codex's default excludes).
pub const DEFAULT_EXCLUDE: [&str; 3] = ["*KEY*", "*SECRET*", "*TOKEN*"];

/// The prefix of the variables cordon sets for the command (contract §4).
pub const CORDON_PREFIX: &str = "CORDON_SANDBOX";

/// The base set of variables, before `exclude`, `keep` and `set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Inherit {
    /// Every variable of the caller.
    #[default]
    All,
    /// Only the core set (`plan::env::CORE`, plus `LC_*`).
    Core,
    /// Nothing.
    None,
}

impl Inherit {
    pub fn parse(text: &str) -> Option<Inherit> {
        match text {
            "all" => Some(Inherit::All),
            "core" => Some(Inherit::Core),
            "none" => Some(Inherit::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Inherit::All => "all",
            Inherit::Core => "core",
            Inherit::None => "none",
        }
    }

    /// How much of the caller's environment it passes, for widening.
    fn breadth(self) -> u8 {
        match self {
            Inherit::None => 0,
            Inherit::Core => 1,
            Inherit::All => 2,
        }
    }
}

/// Why a pattern, a variable to set or a widening is refused; displays as
/// the message, which its caller puts after the flag or list. Never holds
/// a value: it may be a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvError {
    EmptyPattern,
    PatternNul(String),
    /// A pattern with `=`: the name before it (what follows is not kept).
    PatternEq(String),
    BadName {
        name: String,
        fault: NameFault,
    },
    /// A `CORDON_*` name.
    Reserved(String),
    /// The value of this variable holds a NUL byte.
    ValueNul(String),
    /// An `additional` grant's `inherit` broader than the turn's.
    WiderInherit {
        extra: Inherit,
        turn: Inherit,
    },
}

/// What is wrong with a variable's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameFault {
    Empty,
    Eq,
    Nul,
    Control,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvError::EmptyPattern => f.write_str(
                "an empty pattern matches no variable; give a name or a glob such as `*TOKEN*`",
            ),
            EnvError::PatternNul(text) => write!(
                f,
                "pattern `{}` contains a NUL byte, which no variable name holds; remove it",
                text.escape_debug()
            ),
            EnvError::PatternEq(name) => write!(
                f,
                "pattern `{}=...` contains `=`, which no variable name holds; give the name alone (`FOO`, not `FOO=bar`)",
                name.escape_debug()
            ),
            EnvError::BadName { name, fault } => {
                let what = match fault {
                    NameFault::Empty => {
                        return f.write_str("an empty variable name; use a name such as `FOO_DIR`");
                    }
                    NameFault::Eq => "`=`, which ends a name in the environment",
                    NameFault::Nul => "a NUL byte",
                    NameFault::Control => "a control character",
                };
                write!(
                    f,
                    "variable name `{}` contains {what}; use a name such as `FOO_DIR`",
                    name.escape_debug()
                )
            }
            EnvError::Reserved(name) => write!(
                f,
                "`{name}` is set by cordon itself ({CORDON_PREFIX}*: the sandbox the command runs in), never by a policy; remove it"
            ),
            EnvError::ValueNul(name) => write!(
                f,
                "the value of `{name}` contains a NUL byte, which the environment cannot hold; remove it"
            ),
            EnvError::WiderInherit { extra, turn } => write!(
                f,
                "additional permissions: env.inherit = {} would pass every variable the turn's inherit = {} drops; an approval widens the sandbox, not the variables: name them with env.keep instead",
                extra.as_str(),
                turn.as_str()
            ),
        }
    }
}

impl std::error::Error for EnvError {}

/// A case-insensitive glob on variable names (`*` any run, `?` any one
/// character, everything else literal), with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pattern {
    pub pattern: String,
    pub origin: String,
}

impl Pattern {
    /// Validates `text`: not empty, no NUL, no `=` (no name holds one, so
    /// such a pattern is a mistake that would silently match nothing).
    pub fn new(text: &str, origin: &str) -> Result<Pattern, EnvError> {
        if text.is_empty() {
            return Err(EnvError::EmptyPattern);
        }
        if text.contains('\0') {
            return Err(EnvError::PatternNul(text.to_string()));
        }
        if let Some((name, _)) = text.split_once('=') {
            // What follows `=` may be a value, a secret: not echoed.
            return Err(EnvError::PatternEq(name.to_string()));
        }
        Ok(Pattern {
            pattern: text.to_string(),
            origin: origin.to_string(),
        })
    }

    pub fn matches(&self, name: &[u8]) -> bool {
        glob_match(self.pattern.as_bytes(), name)
    }
}

/// The byte after the character that starts at `i` (a UTF-8 sequence, or
/// one byte of a name that is not UTF-8).
fn next_char(s: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < s.len() && s[j] & 0xC0 == 0x80 {
        j += 1;
    }
    j
}

/// Whether `name` matches the glob `pattern`, ASCII case ignored. Linear
/// backtracking to the last `*` (names are short; no recursion, no
/// allocation: this runs for every variable of every command).
pub fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // Where the last `*` resumes: pattern index after it, name index.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, n));
                p += 1;
            }
            Some(b'?') => {
                p += 1;
                n = next_char(name, n);
            }
            Some(c) if c.eq_ignore_ascii_case(&name[n]) => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    star = Some((sp, sn + 1));
                    p = sp;
                    n = sn + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// One variable the policy sets. The value is never printed: `Debug`
/// leaves it out, and `explain` shows names only.
#[derive(Clone, PartialEq, Eq)]
pub struct SetVar {
    pub name: String,
    pub value: String,
    pub origin: String,
}

impl fmt::Debug for SetVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetVar")
            .field("name", &self.name)
            .field("value", &"(not shown)")
            .field("origin", &self.origin)
            .finish()
    }
}

impl SetVar {
    /// Validates a name and value for the environment. Errors name the
    /// variable, never the value (it may be a secret).
    pub fn new(name: &str, value: &str, origin: &str) -> Result<SetVar, EnvError> {
        let fault = if name.is_empty() {
            Some(NameFault::Empty)
        } else if name.contains('=') {
            Some(NameFault::Eq)
        } else if name.contains('\0') {
            Some(NameFault::Nul)
        } else if name.chars().any(char::is_control) {
            // A newline in a name forges lines in `env` output
            // (`E\nCORDON_SANDBOX=none`; adversarial pass 4).
            Some(NameFault::Control)
        } else {
            None
        };
        if let Some(fault) = fault {
            return Err(EnvError::BadName {
                name: name.to_string(),
                fault,
            });
        }
        if name.starts_with(CORDON_PREFIX) {
            return Err(EnvError::Reserved(name.to_string()));
        }
        if value.contains('\0') {
            return Err(EnvError::ValueNul(name.to_string()));
        }
        Ok(SetVar {
            name: name.to_string(),
            value: value.to_string(),
            origin: origin.to_string(),
        })
    }
}

/// `[env]` as written in a profile (TOML) or a permission profile (JSON).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnv {
    inherit: Option<Inherit>,
    exclude: Option<Vec<String>>,
    keep: Option<Vec<String>>,
    set: Option<BTreeMap<String, String>>,
}

/// `[env]` validated, with only what it names: a whole profile fills the
/// rest with defaults ([`EnvDecl::into_policy`]); an `additional` grant
/// widens a policy by it ([`EnvPolicy::widen`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvDecl {
    pub inherit: Option<Inherit>,
    pub exclude: Option<Vec<Pattern>>,
    pub keep: Vec<Pattern>,
    pub set: Vec<SetVar>,
}

/// The error `error` of the list `at`.
fn entry_error(at: &str) -> impl Fn(EnvError) -> PolicyError + '_ {
    move |error| PolicyError::Env {
        at: at.to_string(),
        error,
    }
}

fn patterns(items: &[String], origin: &str) -> Result<Vec<Pattern>, PolicyError> {
    let mut out: Vec<Pattern> = Vec::with_capacity(items.len());
    for item in items {
        let p = Pattern::new(item, origin).map_err(entry_error(origin))?;
        if !out.iter().any(|o| o.pattern == p.pattern) {
            out.push(p);
        }
    }
    Ok(out)
}

impl EnvDecl {
    /// Validates `raw`; `origin` names the profile in errors.
    pub(crate) fn from_raw(raw: RawEnv, origin: &str) -> Result<EnvDecl, PolicyError> {
        let exclude = match &raw.exclude {
            Some(items) => Some(patterns(items, &format!("{origin}: env.exclude"))?),
            None => None,
        };
        let keep = patterns(
            raw.keep.as_deref().unwrap_or_default(),
            &format!("{origin}: env.keep"),
        )?;
        let set_origin = format!("{origin}: env.set");
        let set = raw
            .set
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| SetVar::new(k, v, &set_origin).map_err(entry_error(&set_origin)))
            .collect::<Result<_, _>>()?;
        Ok(EnvDecl {
            inherit: raw.inherit,
            exclude,
            keep,
            set,
        })
    }

    /// The declaration as a whole policy: `inherit` defaults to `all`,
    /// `exclude` to `DEFAULT_EXCLUDE` (a profile drops secrets unless it
    /// says `exclude = []`).
    pub fn into_policy(self, origin: &str) -> EnvPolicy {
        let mut p = EnvPolicy::defaults(origin);
        if let Some(i) = self.inherit {
            p.inherit = i;
            p.inherit_origin = format!("{origin}: env.inherit");
        }
        if let Some(ex) = self.exclude {
            p.exclude = ex;
        }
        p.keep = self.keep;
        p.set = self.set;
        p
    }
}

/// The environment policy of a [`super::Policy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPolicy {
    pub inherit: Inherit,
    /// The rule that chose `inherit` (shown for what it drops).
    pub inherit_origin: String,
    pub exclude: Vec<Pattern>,
    /// Brings back a variable that `inherit` or `exclude` dropped.
    pub keep: Vec<Pattern>,
    /// In order; one entry per name.
    pub set: Vec<SetVar>,
}

impl EnvPolicy {
    /// A profile that says nothing: everything but `DEFAULT_EXCLUDE`.
    pub fn defaults(origin: &str) -> EnvPolicy {
        let ex_origin = format!("{origin}: env.exclude (default)");
        EnvPolicy {
            inherit: Inherit::All,
            inherit_origin: format!("{origin}: env.inherit (default)"),
            exclude: DEFAULT_EXCLUDE
                .iter()
                .map(|p| Pattern {
                    pattern: p.to_string(),
                    origin: ex_origin.clone(),
                })
                .collect(),
            keep: Vec::new(),
            set: Vec::new(),
        }
    }

    pub fn add_exclude(&mut self, p: Pattern) {
        if !self.exclude.iter().any(|e| e.pattern == p.pattern) {
            self.exclude.push(p);
        }
    }

    pub fn add_keep(&mut self, p: Pattern) {
        if !self.keep.iter().any(|k| k.pattern == p.pattern) {
            self.keep.push(p);
        }
    }

    /// Sets a variable, replacing an earlier value of the same name (a
    /// flag's over the profile's).
    pub fn set_var(&mut self, v: SetVar) {
        match self.set.iter_mut().find(|s| s.name == v.name) {
            Some(s) => *s = v,
            None => self.set.push(v),
        }
    }

    /// The value `set` gives `name`, if any.
    pub fn set_value(&self, name: &str) -> Option<&str> {
        self.set
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value.as_str())
    }

    /// Adds an `additional` grant's env (escalations, `--permissions`):
    /// patterns and set variables are unioned (the grant's values win), as
    /// protected names are unioned by the merge. An approval widens the
    /// sandbox, not the variables: a broader `inherit` is refused (it would
    /// pass every variable the turn drops, unnamed); `keep` names them.
    pub fn widen(&mut self, extra: &EnvDecl) -> Result<(), EnvError> {
        if let Some(i) = extra.inherit {
            if i.breadth() > self.inherit.breadth() {
                return Err(EnvError::WiderInherit {
                    extra: i,
                    turn: self.inherit,
                });
            }
            if i != self.inherit {
                self.inherit = i;
                self.inherit_origin = "additional permissions: env.inherit".into();
            }
        }
        for p in extra.exclude.iter().flatten() {
            self.add_exclude(p.clone());
        }
        for p in &extra.keep {
            self.add_keep(p.clone());
        }
        for v in &extra.set {
            self.set_var(v.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        glob_match(p.as_bytes(), n.as_bytes())
    }

    #[test]
    fn globs_ignore_ascii_case_and_know_star_and_question_mark() {
        assert!(m("*KEY*", "MY_API_KEY"));
        assert!(m("*KEY*", "aws_access_key_id"));
        assert!(m("*key*", "KEY"));
        assert!(m("*TOKEN*", "GITHUB_TOKEN"));
        assert!(m("*Secret*", "AWS_SECRET_ACCESS_KEY"));
        assert!(!m("*KEY*", "MONKY"));
        assert!(m("LC_*", "LC_ALL"));
        assert!(m("LC_*", "lc_ctype"));
        assert!(m("LC_*", "LC_"));
        assert!(!m("LC_*", "XLC_ALL"));
        assert!(m("GH_TOKE?", "GH_TOKEN"));
        assert!(!m("GH_TOKE?", "GH_TOKE"));
        assert!(!m("GH_TOKE?", "GH_TOKENS"));
        assert!(m("?", "é"));
        assert!(!m("??", "é"));
        assert!(m("*", ""));
        assert!(m("**", "A"));
        assert!(m("A*B*C", "AxxBxxBxxC"));
        assert!(!m("A*B*C", "AxxBxxBxxD"));
        assert!(m("*a", "aaa"));
        assert!(!m("PATH", "PATHS"));
        assert!(!m("PATH", "PAT"));
        assert!(m("path", "PATH"));
        // Only ASCII folds; other bytes compare exactly.
        assert!(!m("É", "é"));
        // Names that are not UTF-8 still match byte for byte.
        assert!(glob_match(b"*TOKEN", b"\xff_token"));
        assert!(glob_match(b"?_TOKEN", b"\xff_TOKEN"));
        // Brackets and backslashes are literal.
        assert!(m("[A]", "[a]"));
        assert!(!m("[A]", "A"));
    }

    #[test]
    fn patterns_refuse_empty_nul_and_equals() {
        assert!(
            Pattern::new("", "t")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(
            Pattern::new("A\0", "t")
                .unwrap_err()
                .to_string()
                .contains("NUL")
        );
        assert!(
            Pattern::new("A=b", "t")
                .unwrap_err()
                .to_string()
                .contains("`=`")
        );
        assert_eq!(Pattern::new("*KEY*", "t").unwrap().pattern, "*KEY*");
    }

    #[test]
    fn set_names_are_checked_and_values_never_named() {
        for (name, want) in [
            ("", "an empty variable name"),
            ("A=B", "contains `=`"),
            ("A\0", "NUL"),
            ("CORDON_SANDBOX", "set by cordon"),
            ("CORDON_SANDBOX_NETWORK_DISABLED", "set by cordon"),
        ] {
            let e = SetVar::new(name, "s3cr3t-value", "t")
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{name:?}: {e}");
            assert!(!e.contains("s3cr3t"), "{e}");
        }
        let e = SetVar::new("A", "x\0y", "t").unwrap_err().to_string();
        assert!(e.contains("NUL") && !e.contains("x\\0y"), "{e}");
        // Lower case is another variable: not cordon's.
        assert!(SetVar::new("cordon_sandbox", "x", "t").is_ok());
        let v = SetVar::new("TOKEN", "s3cr3t-value", "t").unwrap();
        assert!(!format!("{v:?}").contains("s3cr3t"));
    }

    #[test]
    fn omitted_keys_take_the_defaults_and_declared_ones_replace_them() {
        let p = EnvDecl::default().into_policy("x.toml");
        assert_eq!(p.inherit, Inherit::All);
        let ex: Vec<_> = p.exclude.iter().map(|e| e.pattern.as_str()).collect();
        assert_eq!(ex, DEFAULT_EXCLUDE);
        let p = EnvDecl {
            inherit: Some(Inherit::Core),
            exclude: Some(vec![]),
            ..Default::default()
        }
        .into_policy("x.toml");
        assert_eq!(p.inherit, Inherit::Core);
        assert_eq!(p.inherit_origin, "x.toml: env.inherit");
        assert!(p.exclude.is_empty());
    }

    #[test]
    fn an_approval_unions_names_and_never_widens_inherit() {
        let mut p = EnvDecl {
            inherit: Some(Inherit::Core),
            ..Default::default()
        }
        .into_policy("turn");
        p.set_var(SetVar::new("A", "1", "turn").unwrap());
        let extra = EnvDecl {
            inherit: None,
            exclude: Some(vec![Pattern::new("*PASSWORD*", "x").unwrap()]),
            keep: vec![Pattern::new("GITHUB_TOKEN", "x").unwrap()],
            set: vec![
                SetVar::new("A", "2", "x").unwrap(),
                SetVar::new("B", "3", "x").unwrap(),
            ],
        };
        p.widen(&extra).unwrap();
        assert_eq!(p.inherit, Inherit::Core);
        assert_eq!(p.exclude.len(), 4);
        assert_eq!(p.keep.len(), 1);
        assert_eq!(p.set_value("A"), Some("2"));
        assert_eq!(p.set_value("B"), Some("3"));
        // Adversarial pass 4: `inherit = all` in an approval passed every
        // variable a turn of `none` dropped. Refused; narrowing is kept.
        let all = EnvDecl {
            inherit: Some(Inherit::All),
            ..Default::default()
        };
        let e = p.widen(&all).unwrap_err().to_string();
        assert!(e.contains("name them with env.keep"), "{e}");
        assert_eq!(p.inherit, Inherit::Core);
        let none = EnvDecl {
            inherit: Some(Inherit::None),
            ..Default::default()
        };
        p.widen(&none).unwrap();
        assert_eq!(p.inherit, Inherit::None);
    }

    fn patterns_of(p: &EnvPolicy) -> Vec<&str> {
        p.exclude.iter().map(|e| e.pattern.as_str()).collect()
    }

    #[test]
    fn every_builtin_and_every_json_shape_drops_secrets() {
        for name in super::super::BUILTIN_NAMES {
            let p = super::super::load_profile(name).unwrap();
            assert_eq!(p.env.inherit, Inherit::All, "{name}");
            assert_eq!(patterns_of(&p.env), DEFAULT_EXCLUDE, "{name}");
        }
        for json in [
            r#"{"type":"read-only"}"#,
            r#"{"type":"workspace-write","network_access":true}"#,
            r#"{"type":"danger-full-access"}"#,
            r#"{"file_system":{"write":[":cwd"]}}"#,
        ] {
            let p = super::super::parse_policy_json(json, "--policy-json").unwrap();
            assert_eq!(patterns_of(&p.env), DEFAULT_EXCLUDE, "{json}");
        }
    }

    #[test]
    fn profiles_declare_env_in_toml_and_json() {
        let toml = "[env]\ninherit = \"core\"\nexclude = []\nkeep = [\"EDITOR\"]\nset = { B = \"2\", A = \"1\" }\n";
        let p = super::super::parse_profile_toml(toml, "p.toml").unwrap();
        assert_eq!(p.env.inherit, Inherit::Core);
        assert!(p.env.exclude.is_empty());
        assert_eq!(p.env.keep[0].pattern, "EDITOR");
        let set: Vec<_> = p.env.set.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(set, ["A", "B"]);
        assert_eq!(p.env.set[0].origin, "p.toml: env.set");
        let p = super::super::parse_profile_toml("", "p.toml").unwrap();
        assert_eq!(patterns_of(&p.env), DEFAULT_EXCLUDE);
        let p = super::super::parse_policy_json(
            r#"{"env":{"inherit":"none","set":{"A":"1"}}}"#,
            "--policy-json",
        )
        .unwrap();
        assert_eq!(p.env.inherit, Inherit::None);
        assert_eq!(p.env.set_value("A"), Some("1"));
    }

    #[test]
    fn bad_env_tables_are_one_line_naming_the_input() {
        let cases = [
            (
                "[env]\ninherit = \"some\"\n",
                "at line 2, column 11: unknown variant `some`",
            ),
            (
                "[env]\nexclud = []\n",
                "at line 2, column 1: unknown field `exclud`",
            ),
            (
                "[env]\nexclude = [\"\"]\n",
                "p.toml: env.exclude: an empty pattern",
            ),
            (
                "[env]\nkeep = [\"A=1\"]\n",
                "p.toml: env.keep: pattern `A=...` contains `=`",
            ),
            (
                "[env]\nset = { \"\" = \"marker\" }\n",
                "p.toml: env.set: an empty variable name",
            ),
            (
                "[env]\nset = { \"A=B\" = \"marker\" }\n",
                "p.toml: env.set: variable name `A=B` contains `=`",
            ),
            (
                "[env]\nset = { \"A\\u0000\" = \"marker\" }\n",
                "p.toml: env.set: variable name `A\\0` contains a NUL byte",
            ),
            (
                "[env]\nset = { A = \"x\\u0000marker\" }\n",
                "the value of `A` contains a NUL byte",
            ),
            (
                "[env]\nset = { CORDON_SANDBOX = \"marker\" }\n",
                "`CORDON_SANDBOX` is set by cordon itself",
            ),
            (
                "[env]\nset = { A = 1 }\n",
                "at line 2, column 13: invalid type: integer",
            ),
        ];
        for (toml, want) in cases {
            let e = super::super::parse_profile_toml(toml, "p.toml").unwrap_err();
            assert_eq!(e.exit, 125);
            assert!(
                e.message.contains(want),
                "{toml}\n got: {}\n want: {want}",
                e.message
            );
            assert!(
                !e.message.contains('\n') && !e.message.contains("marker"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn reruns_keep_the_turns_environment_unless_exact_brings_its_own() {
        use super::super::{parse_request, request_policy};
        let d = tempfile::tempdir().unwrap();
        let policy = |turn: &str, execution: &str| {
            let text = format!(
                r#"{{"command":["true"],"cwd":{:?},"turn":{turn},"execution":{execution}}}"#,
                d.path().to_str().unwrap()
            );
            request_policy(&parse_request(&text, "request t.json").unwrap())
                .unwrap()
                .0
                .env
        };
        let turn = r#"{"sandbox_policy":{"file_system":{"write":[":cwd"]},"env":{"inherit":"core","keep":["EDITOR"]}}}"#;
        let turn_env = policy(turn, r#""turn_default""#);
        assert_eq!(turn_env.inherit, Inherit::Core);
        assert_eq!(policy(turn, r#""unsandboxed""#), turn_env);
        assert_eq!(
            policy(turn, r#"{"permissions":{"exact":{"type":"read-only"}}}"#),
            turn_env
        );
        assert_eq!(
            policy(
                turn,
                r#"{"permissions":{"exact":{"file_system":{"write":[":cwd"]}}}}"#
            ),
            turn_env
        );
        let own = policy(
            turn,
            r#"{"permissions":{"exact":{"env":{"inherit":"none"}}}}"#,
        );
        assert_eq!(own.inherit, Inherit::None);
        assert_eq!(patterns_of(&own), DEFAULT_EXCLUDE);
        let wider = policy(
            turn,
            r#"{"permissions":{"additional":{"env":{"keep":["GITHUB_TOKEN"]}}}}"#,
        );
        assert_eq!(wider.inherit, Inherit::Core);
        let keep: Vec<_> = wider.keep.iter().map(|k| k.pattern.as_str()).collect();
        assert_eq!(keep, ["EDITOR", "GITHUB_TOKEN"]);
        // A turn in one of the harness shapes gets the built-in's.
        let ww = policy(
            r#"{"sandbox_policy":{"type":"workspace-write"}}"#,
            r#""unsandboxed""#,
        );
        assert_eq!(patterns_of(&ww), DEFAULT_EXCLUDE);
    }
}
