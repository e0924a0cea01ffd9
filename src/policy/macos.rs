//! macOS turn extensions: carried on every OS, enforced only by Seatbelt.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Preferences {
    None,
    /// `read_only` is Codex's spelling (snake_case values).
    #[default]
    #[serde(alias = "read_only")]
    ReadOnly,
    #[serde(alias = "read_write")]
    ReadWrite,
}

impl Preferences {
    pub fn parse(s: &str) -> Option<Preferences> {
        match s {
            "none" => Some(Preferences::None),
            // Codex writes snake_case values.
            "read-only" | "read_only" => Some(Preferences::ReadOnly),
            "read-write" | "read_write" => Some(Preferences::ReadWrite),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Preferences::None => "none",
            Preferences::ReadOnly => "read-only",
            Preferences::ReadWrite => "read-write",
        }
    }
}

/// Contacts (Codex's `macos_contacts`): the AddressBook services. Only
/// `read-only` is carried into the profile; `read-write` is refused where it
/// is parsed (Codex's rule writes all of `/var/folders`, a file grant the
/// extensions section must never make).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Contacts {
    #[default]
    None,
    #[serde(alias = "read_only")]
    ReadOnly,
    #[serde(alias = "read_write")]
    ReadWrite,
}

impl Contacts {
    pub fn as_str(self) -> &'static str {
        match self {
            Contacts::None => "none",
            Contacts::ReadOnly => "read-only",
            Contacts::ReadWrite => "read-write",
        }
    }
}

/// Apple Events the command may send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Automation {
    #[default]
    None,
    All,
    /// Only these bundle ids (validated: `[A-Za-z0-9._-]+`).
    BundleIds(Vec<String>),
}

/// Why an `automation` value is refused; displays as the message, which
/// its caller puts after the flag or key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutomationError {
    BadId(String),
    /// A word other than `none` or `all`.
    BadWord(String),
}

impl fmt::Display for AutomationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, text, why) = match self {
            AutomationError::BadId(id) => (
                "automation bundle id",
                id,
                "is invalid: use only letters, digits, `.`, `_` and `-` (e.g. com.apple.Terminal)",
            ),
            AutomationError::BadWord(w) => (
                "automation",
                w,
                "is not `none`, `all` or a list of bundle ids",
            ),
        };
        write!(f, "{what} `{}` {why}", text.escape_debug())
    }
}

impl std::error::Error for AutomationError {}

impl Automation {
    /// Parses `none`, `all` or a comma-separated list of bundle ids.
    pub fn parse_flag(s: &str) -> Result<Automation, AutomationError> {
        match s {
            "none" => Ok(Automation::None),
            "all" => Ok(Automation::All),
            list => {
                Automation::from_ids(list.split(',').map(str::trim).map(String::from).collect())
            }
        }
    }

    pub fn from_ids(ids: Vec<String>) -> Result<Automation, AutomationError> {
        if let Some(id) = ids.iter().find(|id| !valid_bundle_id(id)) {
            return Err(AutomationError::BadId(id.clone()));
        }
        let mut ids = ids;
        ids.sort();
        ids.dedup();
        Ok(if ids.is_empty() {
            Automation::None
        } else {
            Automation::BundleIds(ids)
        })
    }
}

/// A bundle id as cordon accepts it: `[A-Za-z0-9._-]+`. Ids are written into
/// the Seatbelt profile as string literals, and these characters cannot end
/// a literal or start an escape.
pub fn valid_bundle_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// As in the profile: `"none"`, `"all"` or the list of bundle ids.
impl Serialize for Automation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Automation::None => s.serialize_str("none"),
            Automation::All => s.serialize_str("all"),
            Automation::BundleIds(ids) => ids.serialize(s),
        }
    }
}

/// The raw shape of `automation` in TOML/JSON: `"none"`, `"all"` or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum AutomationRaw {
    Word(String),
    Ids(Vec<String>),
    /// Codex's object form `{"bundle_ids": [...]}`.
    Object {
        bundle_ids: Vec<String>,
    },
}

impl AutomationRaw {
    pub(crate) fn resolve(self) -> Result<Automation, AutomationError> {
        match self {
            AutomationRaw::Word(w) if w == "none" => Ok(Automation::None),
            AutomationRaw::Word(w) if w == "all" => Ok(Automation::All),
            AutomationRaw::Word(w) => Err(AutomationError::BadWord(w)),
            AutomationRaw::Ids(ids) | AutomationRaw::Object { bundle_ids: ids } => {
                Automation::from_ids(ids)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MacosExtensions {
    pub preferences: Preferences,
    pub automation: Automation,
    pub accessibility: bool,
    pub calendar: bool,
    /// Codex's newer extensions; shown only when granted, so the plans of
    /// profiles that do not name them read as before.
    #[serde(skip_serializing_if = "is_false")]
    pub launch_services: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub reminders: bool,
    #[serde(skip_serializing_if = "is_no_contacts")]
    pub contacts: Contacts,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_no_contacts(c: &Contacts) -> bool {
    *c == Contacts::None
}

impl MacosExtensions {
    /// ` launch_services=true reminders=true contacts=read-only`, each only
    /// when granted (empty for a profile that names none of them).
    pub fn newer_extensions(&self) -> String {
        let mut out = String::new();
        if self.launch_services {
            out.push_str(" launch_services=true");
        }
        if self.reminders {
            out.push_str(" reminders=true");
        }
        if self.contacts != Contacts::None {
            out.push_str(" contacts=");
            out.push_str(self.contacts.as_str());
        }
        out
    }

    /// Union: each extension is granted if either side grants it.
    pub fn union(&self, other: &MacosExtensions) -> MacosExtensions {
        let automation = match (&self.automation, &other.automation) {
            (Automation::All, _) | (_, Automation::All) => Automation::All,
            (Automation::None, x) | (x, Automation::None) => x.clone(),
            (Automation::BundleIds(a), Automation::BundleIds(b)) => {
                let mut ids = a.clone();
                ids.extend(b.iter().cloned());
                ids.sort();
                ids.dedup();
                Automation::BundleIds(ids)
            }
        };
        MacosExtensions {
            preferences: self.preferences.max(other.preferences),
            automation,
            accessibility: self.accessibility || other.accessibility,
            calendar: self.calendar || other.calendar,
            launch_services: self.launch_services || other.launch_services,
            reminders: self.reminders || other.reminders,
            contacts: self.contacts.max(other.contacts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(p: Preferences, a: Automation, acc: bool, cal: bool) -> MacosExtensions {
        MacosExtensions {
            preferences: p,
            automation: a,
            accessibility: acc,
            calendar: cal,
            ..Default::default()
        }
    }

    fn ids(list: &[&str]) -> Automation {
        Automation::BundleIds(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn bundle_ids_are_validated() {
        for ok in ["com.apple.Terminal", "a", "org.x-y_z.9"] {
            assert!(valid_bundle_id(ok), "{ok}");
        }
        for bad in [
            "",
            "com.apple\\\"x",
            "a b",
            "a\\b",
            "a\nb",
            "caf\u{e9}",
            "a/b",
            "a)",
        ] {
            assert!(!valid_bundle_id(bad), "{bad:?}");
            assert!(
                Automation::from_ids(vec![bad.to_string()]).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn union_grants_what_either_side_grants() {
        let a = ext(Preferences::ReadOnly, ids(&["a.b", "c.d"]), true, false);
        let b = ext(Preferences::None, ids(&["c.d", "e.f"]), false, true);
        let u = a.union(&b);
        assert_eq!(u.automation, ids(&["a.b", "c.d", "e.f"]));
        assert_eq!(u.preferences, Preferences::ReadOnly);
        assert!(u.accessibility);
        assert!(u.calendar);
    }
}
