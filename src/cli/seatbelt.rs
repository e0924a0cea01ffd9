//! `cordon seatbelt`: the exact SBPL profile and `sandbox-exec` argv that
//! `cordon run` would use on macOS, printed on any OS.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use super::request::RequestPlan;
use super::{PolicyArgs, SkillChoice};
use crate::error::Result;
use crate::plan::Plan;
use crate::seatbelt::{self, Profile};

#[derive(Args)]
pub struct SeatbeltArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print {"profile", "params", "argv"} as JSON.
    #[arg(long)]
    pub json: bool,
    /// Show the sandbox an escalation request (JSON file, or - for stdin)
    /// would get, and its command.
    #[arg(long, value_name = "FILE|-", conflicts_with_all = ["profile", "policy_json"])]
    pub request: Option<String>,
    /// Show the sandbox of this skill's commands (`cordon skill`): its
    /// declared permissions bounded by the policy.
    #[arg(long, value_name = "SKILL_DIR", conflicts_with = "request")]
    pub skill: Option<PathBuf>,
    /// The command the argv should run (after `--`).
    #[arg(trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// The plan to compile and the command: from the POLICY options, or from an
/// escalation request (its command unless one is given after `--`).
fn plan_for(args: &SeatbeltArgs) -> Result<(Plan, Vec<OsString>)> {
    if let Some(request) = &args.request {
        let RequestPlan { plan, argv, .. } = RequestPlan::read(request)?;
        let argv = if args.command.is_empty() {
            argv
        } else {
            args.command.clone()
        };
        return Ok((plan, argv));
    }
    let (plan, _) = args
        .policy
        .plan(SkillChoice::named(args.skill.as_deref()))?;
    Ok((plan, args.command.clone()))
}

pub fn seatbelt(args: SeatbeltArgs) -> Result<i32> {
    let (plan, command) = plan_for(&args)?;
    let profile = seatbelt::compile(&plan)?;
    let argv = seatbelt::argv(&profile, &command);
    if args.json {
        println!("{}", json(&profile, &argv));
    } else {
        print!("{}", text(&profile, &argv));
    }
    Ok(0)
}

fn json(profile: &Profile, argv: &[OsString]) -> serde_json::Value {
    let params: serde_json::Map<String, serde_json::Value> = profile
        .params
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let argv: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    serde_json::json!({ "profile": profile.text, "params": params, "argv": argv })
}

/// The profile, then the command line as comments: the whole output is
/// itself a valid profile, and `PROFILE=$(cordon seatbelt ...)` makes the
/// shown command line runnable.
fn text(profile: &Profile, argv: &[OsString]) -> String {
    let mut out = profile.text.clone();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("\n;; ===== sandbox-exec command line (PROFILE = the text above) =====\n");
    let mut args = argv.iter().map(|a| a.to_string_lossy());
    // argv[0] is SANDBOX_EXEC, argv[1..3] is `-p PROFILE`.
    let exe = args.next().unwrap_or_default();
    let mut line = format!(";; {exe} -p \"$PROFILE\"");
    // One `-D` per line, then `-- CMD...` on the last line.
    let mut in_command = false;
    for a in args.skip(2) {
        if in_command {
            line.push(' ');
        } else {
            line.push_str(" \\\n;;   ");
            in_command = a == "--";
        }
        line.push_str(&shell_quote(&a));
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// Quotes `s` for a POSIX shell. Control characters use `$'...'` escapes so
/// a value can never break out of its comment line.
fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        return s.to_string();
    }
    if !s.chars().any(char::is_control) {
        return format!("'{}'", s.replace('\'', r"'\''"));
    }
    let mut out = String::from("$'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str(r"\'"),
            '\\' => out.push_str(r"\\"),
            '\n' => out.push_str(r"\n"),
            '\t' => out.push_str(r"\t"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("-DW0=/private/tmp/x"), "-DW0=/private/tmp/x");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a\nb'\\"), r"$'a\nb\'\\'");
        assert_eq!(shell_quote("\u{1b}[1m"), r"$'\x1b[1m'");
        assert!(!shell_quote("x\ny\r\u{85}").chars().any(char::is_control));
    }
}
