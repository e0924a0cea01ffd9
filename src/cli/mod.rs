//! The command line (contract §4). Parsing errors become one `cordon: ` line
//! and exit 125; each subcommand lives in its own module.

mod completions;
mod doctor;
mod env_args;
mod explain;
mod launch_args;
mod man;
mod policy_args;
mod profiles;
mod request;
mod rerun;
mod run;
mod seatbelt;
mod trace;

use std::ffi::OsString;
use std::io::Write;

use clap::{Args, Parser, Subcommand};

pub use launch_args::{AbiArg, LaunchArgs, SessionArgs};
pub use policy_args::{PolicyArgs, SkillChoice};

use crate::error::{EXIT_CORDON, Error, Result};

#[derive(Parser)]
#[command(
    name = "cordon",
    version,
    about = "Run a command inside the host's native sandbox (Landlock + seccomp, or Seatbelt)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run CMD under a sandbox built from the policy, by exec.
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<run::RunArgs>),
    /// Rerun an approved command from an escalation request (JSON), under
    /// exactly the sandbox it asks for.
    #[command(long_about = rerun::LONG_ABOUT)]
    #[command(after_help = RERUN_EXAMPLES)]
    Rerun(rerun::RerunArgs),
    /// Run CMD with the permissions a skill declares (agents/openai.yaml or
    /// SKILL.md front matter), bounded by the turn's policy, by exec.
    #[command(long_about = run::SKILL_LONG_ABOUT)]
    #[command(after_help = SKILL_EXAMPLES)]
    Skill(Box<run::SkillArgs>),
    /// Print the Seatbelt (macOS) profile and sandbox-exec argv, on any OS.
    #[command(after_help = SEATBELT_EXAMPLES)]
    Seatbelt(Box<seatbelt::SeatbeltArgs>),
    /// List the built-in and user profiles, or print one.
    #[command(after_help = PROFILES_EXAMPLES)]
    Profiles(profiles::ProfilesArgs),
    /// Show the resolved plan, what enforces each part of it on this host,
    /// and read/write/execute verdicts for paths.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(Box<explain::ExplainArgs>),
    #[command(about = trace::TRACE_ABOUT)]
    #[command(after_help = TRACE_EXAMPLES)]
    Trace(Box<trace::TraceArgs>),
    #[command(about = trace::LEARN_ABOUT)]
    #[command(after_help = LEARN_EXAMPLES)]
    Learn(Box<trace::LearnArgs>),
    /// Probe what this host can enforce, feature by feature; exit 0 when
    /// the default profile is fully enforced, 1 otherwise.
    #[command(after_help = DOCTOR_EXAMPLES)]
    Doctor(doctor::DoctorArgs),
    /// Print a shell completion script (bash, zsh or fish) on stdout.
    #[command(long_about = completions::LONG_ABOUT)]
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff) on stdout: `cordon man | man -l -`.
    Man(man::ManArgs),
}

const RUN_EXAMPLES: &str = r#"Examples:
  cordon run -- make test                        workspace-write: write the cwd, $TMPDIR, /tmp
  cordon run -p read-only -- grep -r TODO .      read everything, write nothing
  cordon run -w ~/.npm --network -- npm install  one more writable root, the network on
  cordon run --allow-domain crates.io --allow-domain '*.crates.io' -- cargo fetch
  cordon run --deny-read '**/.env' -- python3 app.py
  cordon run --dry-run -- make                   print the plan, run nothing"#;
const RERUN_EXAMPLES: &str = r#"Examples:
  cordon rerun --request req.json                the request as a file
  echo '{"command":["make"],"cwd":"/srv/repo","execution":"turn_default"}' | cordon rerun --request -
  cordon rerun --request req.json --dry-run      the sandbox it would get"#;
const SKILL_EXAMPLES: &str = r#"Examples:
  cordon skill ~/.agents/skills/pdf -- python3 ~/.agents/skills/pdf/scripts/fill.py in.pdf
  cordon skill -p read-only ./skills/lint -- ./skills/lint/run.sh"#;
const SEATBELT_EXAMPLES: &str = r#"Examples:
  cordon seatbelt -p workspace-write -C ~/src/app      the SBPL profile
  cordon seatbelt --json -- make                       profile and sandbox-exec argv as JSON"#;
const PROFILES_EXAMPLES: &str = r#"Examples:
  cordon profiles                     list them
  cordon profiles workspace-write     print one (TOML)
  cordon profiles --json"#;
const EXPLAIN_EXAMPLES: &str = r#"Examples:
  cordon explain                              the plan and what enforces it here
  cordon explain ~/.ssh/id_ed25519 .git/config    a verdict (and the fix) per path
  cordon explain -p read-only --json /etc/hosts"#;
const TRACE_EXAMPLES: &str = r#"Examples:
  cordon trace -- npm install                 each denial, with the flag that allows it
  cordon trace --json -o report.json -- make"#;
const LEARN_EXAMPLES: &str = r#"Examples:
  cordon learn -o npm.toml -- npm install     a profile extending workspace-write
  cordon run -p ./npm.toml -- npm install     review it first: every grant widens"#;
const DOCTOR_EXAMPLES: &str = r#"Examples:
  cordon doctor
  cordon doctor --json"#;

/// Prints `value` as one line of JSON.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| {
        Error::new(format!(
            "cannot print JSON: {e}; a path that is not UTF-8 cannot be shown as JSON, use the text output"
        ))
    })?;
    println!("{text}");
    Ok(())
}

/// clap's error as one line in cordon's format, built from its kind and
/// context (not from its rendered, multi-line, possibly coloured text).
fn clap_error_line(err: &clap::Error) -> String {
    use clap::error::{ContextKind as K, ContextValue as V, ErrorKind as E};
    if err.kind() == E::DisplayHelpOnMissingArgumentOrSubcommand {
        return "no subcommand given (run, skill, rerun, explain, seatbelt, doctor, trace, learn, profiles, completions, man); see `cordon --help`"
            .to_string();
    }
    let one = |k: K| match err.get(k) {
        Some(V::String(s)) => Some(s.clone()),
        Some(V::StyledStr(s)) => Some(s.to_string()),
        _ => None,
    };
    let many = |k: K| match err.get(k) {
        Some(V::String(s)) => vec![s.clone()],
        Some(V::Strings(v)) => v.clone(),
        _ => Vec::new(),
    };
    let arg = one(K::InvalidArg).unwrap_or_default();
    let value = one(K::InvalidValue).unwrap_or_default();
    let mut line = match err.kind() {
        E::UnknownArgument => format!("unexpected argument '{arg}' found"),
        E::InvalidSubcommand => format!(
            "unrecognized subcommand '{}'",
            one(K::InvalidSubcommand).unwrap_or_default()
        ),
        E::InvalidValue if value.is_empty() => {
            format!("a value is required for '{arg}' but none was supplied")
        }
        E::InvalidValue | E::ValueValidation => {
            let mut l = format!("invalid value '{value}' for '{arg}'");
            if let Some(why) = std::error::Error::source(err) {
                l.push_str(&format!(": {why}"));
            }
            l
        }
        E::ArgumentConflict => match one(K::PriorArg) {
            Some(prior) if prior == arg => {
                format!("the argument '{arg}' cannot be used multiple times")
            }
            Some(prior) => format!("the argument '{arg}' cannot be used with '{prior}'"),
            None => format!(
                "the argument '{arg}' cannot be used with {}",
                many(K::PriorArg).join(", ")
            ),
        },
        E::MissingRequiredArgument => format!(
            "the following required arguments were not provided: {}",
            many(K::InvalidArg).join(" ")
        ),
        E::MissingSubcommand => format!(
            "'{}' requires a subcommand but one was not provided",
            one(K::InvalidSubcommand).unwrap_or_default()
        ),
        E::TooManyValues => format!("unexpected value '{value}' for '{arg}' found"),
        E::NoEquals => format!("equal sign is needed when assigning values to '{arg}'"),
        kind => {
            let what = kind.as_str().unwrap_or("invalid arguments").to_string();
            if arg.is_empty() {
                what
            } else {
                format!("{what}: '{arg}'")
            }
        }
    };
    let valid = many(K::ValidValue);
    if !valid.is_empty() {
        line.push_str(&format!(" [possible values: {}]", valid.join(", ")));
    }
    // clap's suggestions for a misspelt flag or subcommand.
    for kind in [K::SuggestedSubcommand, K::SuggestedArg] {
        let similar = many(kind);
        if !similar.is_empty() {
            let quoted: Vec<String> = similar.iter().map(|s| format!("`{s}`")).collect();
            line.push_str(&format!(" (did you mean {}?)", quoted.join(" or ")));
        }
    }
    format!("{line}; see `cordon --help` (or `cordon help SUBCOMMAND`)")
}

/// Whether the command line asked for JSON output: then a failure is
/// printed as JSON on stdout too (`print_error`).
fn wants_json(cli: &Cli) -> bool {
    match &cli.command {
        Command::Run(a) => a.json,
        Command::Skill(a) => a.run.json,
        Command::Explain(a) => a.json,
        Command::Seatbelt(a) => a.json,
        Command::Doctor(a) => a.json,
        Command::Profiles(a) => a.json,
        Command::Trace(a) => a.json,
        Command::Rerun(_) | Command::Learn(_) | Command::Completions(_) | Command::Man(_) => false,
    }
}

/// The same for a command line clap could not parse: a `--json` before
/// any `--` (after it, the words are the command's).
fn args_want_json() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

/// A failure of cordon itself: always the one `cordon: ` line on stderr;
/// with `--json`, also `{"error": MESSAGE, "exit": N}` as the one line on
/// stdout, so a harness that reads JSON gets JSON (docs/explain-doctor.md).
fn print_error(message: &str, exit: i32, json: bool) {
    eprintln!("cordon: {message}");
    if json {
        let line = serde_json::json!({"error": message, "exit": exit});
        println!("{line}");
    }
}

fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run(args) => run::run(*args),
        Command::Skill(args) => run::skill(*args),
        Command::Rerun(args) => rerun::rerun(args),
        Command::Seatbelt(args) => seatbelt::seatbelt(*args),
        Command::Profiles(args) => profiles::profiles(args),
        Command::Explain(args) => explain::explain(*args),
        Command::Doctor(args) => doctor::doctor(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => man::man(args),
        Command::Trace(args) => trace::trace(*args),
        Command::Learn(args) => trace::learn(*args),
    }
}

/// Entry point: never returns.
/// `cordon run` wraps every command an agent runs, so its parse is the hot
/// path: build only the `run` parser for it (the full tree of subcommands is
/// most of clap's start-up cost), and never free what is about to be
/// replaced by exec.
fn parse() -> std::result::Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let args: Vec<OsString> = std::env::args_os().collect();
    let mut cmd = if args.get(1).is_some_and(|a| a == "run") {
        let full = clap::Command::new("cordon");
        let run = run::RunArgs::augment_args(
            clap::Command::new("run")
                .about(RUN_ABOUT)
                .after_help(RUN_EXAMPLES),
        );
        full.subcommand_required(true)
            .disable_help_subcommand(true)
            .subcommand(run)
    } else {
        Cli::command()
    };
    let matches = cmd.try_get_matches_from_mut(args)?;
    let cli = Cli::from_arg_matches(&matches);
    std::mem::forget(matches);
    std::mem::forget(cmd);
    cli
}

const RUN_ABOUT: &str = "Run CMD under a sandbox built from the policy, by exec.";

pub fn main() -> ! {
    let code = match parse() {
        Ok(cli) => {
            let json = wants_json(&cli);
            match dispatch(cli) {
                Ok(code) => code,
                Err(e) => {
                    print_error(&e.message, e.exit, json);
                    e.exit
                }
            }
        }
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                let _ = e.print();
                0
            }
            _ => {
                print_error(&clap_error_line(&e), EXIT_CORDON, args_want_json());
                EXIT_CORDON
            }
        },
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}
