//! The macOS turn extensions as the profile's last section (before the final
//! denies). None of them touches files, so they cannot widen what the write
//! rules above allow.

use std::fmt::Write;

use crate::error::{Error, Result};
use crate::policy::{Automation, Contacts, MacosExtensions, Preferences, valid_bundle_id};

/// cfprefsd serves every CFPreferences/NSUserDefaults read and write; the
/// agent is per user (looked up as a local name on newer releases).
const CFPREFSD: &str = r#"(allow mach-lookup
  (global-name "com.apple.cfprefsd.daemon")
  (global-name "com.apple.cfprefsd.agent")
  (local-name "com.apple.cfprefsd.agent"))
"#;

/// Apple Events travel through the appleeventsd service.
const APPLEEVENTS: &str = r#"(allow mach-lookup
  (global-name "com.apple.coreservices.appleevents"))
"#;

/// LaunchServices (Codex's `macos_launch_services`): opening documents and
/// applications through launchservicesd (`open`, `NSWorkspace`).
const LAUNCH_SERVICES: &str = r#"(allow mach-lookup
  (global-name "com.apple.coreservices.launchservicesd")
  (global-name "com.apple.lsd.mapdb")
  (global-name "com.apple.coreservices.quarantine-resolver")
  (global-name "com.apple.lsd.modifydb"))
(allow lsopen)
"#;

/// Contacts, read: the AddressBook services. The files themselves follow
/// the read scope (readable under `:root`, otherwise grant
/// `~/Library/Application Support/AddressBook` with `--allow-read`).
const CONTACTS_READ: &str = r#"(allow mach-lookup
  (global-name "com.apple.tccd")
  (global-name "com.apple.tccd.system")
  (global-name "com.apple.contactsd.persistence")
  (global-name "com.apple.AddressBook.ContactsAccountsService")
  (global-name "com.apple.contacts.account-caching")
  (global-name "com.apple.accountsd.accountmanager"))
"#;

/// Appends the extensions section to `out`. Bundle ids are checked again
/// here (the policy parsers already refuse bad ones) because they are the
/// one user string written into the profile itself rather than a parameter:
/// `[A-Za-z0-9._-]` cannot close a string or start an escape.
pub fn section(m: &MacosExtensions, out: &mut String) -> Result<()> {
    let automation = automation_label(&m.automation)?;
    // Infallible: writing to a String.
    let _ = writeln!(
        out,
        ";; ===== macOS extensions: preferences={} automation={automation} accessibility={} calendar={}{} =====",
        m.preferences.as_str(),
        m.accessibility,
        m.calendar,
        m.newer_extensions()
    );
    preference_rules(m.preferences, out);
    automation_rules(&m.automation, out);
    service_rules(m, out);
    contact_rules(m.contacts, out)
}

/// The automation setting as the section's header names it; a bundle id
/// outside `[A-Za-z0-9._-]` is refused.
fn automation_label(automation: &Automation) -> Result<String> {
    Ok(match automation {
        Automation::None => "none".to_string(),
        Automation::All => "all".to_string(),
        Automation::BundleIds(ids) => {
            if let Some(bad) = ids.iter().find(|id| !valid_bundle_id(id)) {
                return Err(Error::new(format!(
                    "automation bundle id `{}` is invalid: use only letters, digits, `.`, `_` and `-` (e.g. com.apple.Terminal)",
                    bad.escape_debug()
                )));
            }
            ids.join(",")
        }
    })
}

/// User preferences through cfprefsd: none, read, or read and write.
fn preference_rules(p: Preferences, out: &mut String) {
    match p {
        Preferences::None => out.push_str(";; Preferences: none.\n"),
        Preferences::ReadOnly => {
            out.push_str(";; Preferences: read (cfprefs).\n(allow user-preference-read)\n");
            out.push_str(CFPREFSD);
        }
        Preferences::ReadWrite => {
            out.push_str(";; Preferences: read and write (cfprefs).\n");
            out.push_str("(allow user-preference-read user-preference-write)\n");
            out.push_str(CFPREFSD);
        }
    }
}

/// Apple Events: none, to any application, or to the named ones.
fn automation_rules(automation: &Automation, out: &mut String) {
    match automation {
        Automation::None => out.push_str(";; Automation: none.\n"),
        Automation::All => {
            out.push_str(";; Automation: Apple Events to any application.\n");
            out.push_str("(allow appleevent-send)\n");
            out.push_str(APPLEEVENTS);
            // Codex parity: `tell application "X"` for any X resolves the
            // application through launchservicesd. Apple Events to every
            // application already reach further than this lookup; `lsopen`
            // (launching) stays with launch_services.
            out.push_str(
                ";; Resolving the target application (launchservicesd lookup only; no lsopen).\n",
            );
            out.push_str(
                "(allow mach-lookup\n  (global-name \"com.apple.coreservices.launchservicesd\"))\n",
            );
        }
        Automation::BundleIds(ids) => {
            out.push_str(";; Automation: Apple Events to these applications only.\n");
            out.push_str("(allow appleevent-send");
            for id in ids {
                let _ = write!(out, "\n  (appleevent-destination \"{id}\")");
            }
            out.push_str(")\n");
            out.push_str(APPLEEVENTS);
        }
    }
}

/// The on/off extensions, each one service lookup: accessibility,
/// calendar, launch services, reminders.
fn service_rules(m: &MacosExtensions, out: &mut String) {
    if m.accessibility {
        out.push_str(";; Accessibility: the AX server (per-session service).\n");
        out.push_str(
            "(allow mach-lookup\n  (local-name \"com.apple.axserver\")\n  (global-name \"com.apple.axserver\"))\n",
        );
    }
    if m.calendar {
        out.push_str(";; Calendar: EventKit's calendar agent.\n");
        out.push_str("(allow mach-lookup\n  (global-name \"com.apple.CalendarAgent\"))\n");
    }
    if m.launch_services {
        out.push_str(";; Launch services: open documents and applications.\n");
        out.push_str(LAUNCH_SERVICES);
    }
    if m.reminders {
        out.push_str(";; Reminders: EventKit's calendar agent and remindd.\n");
        out.push_str(
            "(allow mach-lookup\n  (global-name \"com.apple.CalendarAgent\")\n  (global-name \"com.apple.remindd\"))\n",
        );
    }
}

/// Contacts: read-only through the AddressBook services; read-write is
/// refused.
fn contact_rules(c: Contacts, out: &mut String) -> Result<()> {
    match c {
        Contacts::None => {}
        Contacts::ReadOnly => {
            out.push_str(
                ";; Contacts: read (the AddressBook services; files follow the read scope).\n",
            );
            out.push_str(CONTACTS_READ);
        }
        Contacts::ReadWrite => {
            // Parsers refuse it; a policy built another way must not get a
            // file grant from this section.
            return Err(Error::new(
                "macos contacts = read-write is not supported: it needs writes outside the writable roots; use read-only and grant the AddressBook directory with --allow-write",
            ));
        }
    }
    Ok(())
}
