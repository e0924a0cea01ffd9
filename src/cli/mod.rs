//! The command line (contract §4). Parsing errors become one `cordon: ` line
//! and exit 125; each subcommand lives in its own module.

mod doctor;
mod env_args;
mod explain;
mod policy_args;
mod profiles;
mod rerun;
mod run;
mod seatbelt;
mod trace;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use policy_args::PolicyArgs;

use crate::error::{EXIT_CORDON, Error, Result};
use crate::view::Platform;

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
    Run(Box<RunArgs>),
    /// Rerun an approved command from an escalation request (JSON), under
    /// exactly the sandbox it asks for.
    #[command(long_about = rerun::LONG_ABOUT)]
    Rerun(RerunArgs),
    /// Run CMD with the permissions a skill declares (agents/openai.yaml or
    /// SKILL.md front matter), bounded by the turn's policy, by exec.
    #[command(long_about = SKILL_LONG_ABOUT)]
    Skill(Box<SkillArgs>),
    /// Print the Seatbelt (macOS) profile and sandbox-exec argv, on any OS.
    Seatbelt(Box<seatbelt::SeatbeltArgs>),
    /// List the built-in profiles, or print one.
    Profiles(ProfilesArgs),
    /// Show the resolved plan, what enforces each part of it on this host,
    /// and read/write/execute verdicts for paths.
    Explain(Box<explain::ExplainArgs>),
    #[command(about = trace::TRACE_ABOUT)]
    Trace(Box<trace::TraceArgs>),
    #[command(about = trace::LEARN_ABOUT)]
    Learn(Box<trace::LearnArgs>),
    /// Probe what this host can enforce, feature by feature; exit 0 when
    /// the default profile is fully enforced, 1 otherwise.
    Doctor(doctor::DoctorArgs),
}

#[derive(Args)]
pub struct RerunArgs {
    /// The escalation request: a JSON file, or `-` to read it from stdin.
    #[arg(long, value_name = "FILE|-")]
    pub request: String,
    /// Print the plan and the compiled sandbox; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// For "turn_default" only: run even where this host cannot enforce part
    /// of the turn's policy, with one warning per gap. Refused for
    /// `permissions` executions, which run bounded or not at all.
    #[arg(long)]
    pub best_effort: bool,
    /// Use at most this Landlock ABI (1-7).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=7))]
    pub landlock_abi: Option<u8>,
    /// Start the command without a controlling terminal (a new session)
    /// even when one of fds 0-2 is a terminal. The default does so exactly
    /// when none of them is.
    #[arg(long, conflicts_with = "no_new_session")]
    pub new_session: bool,
    /// Keep the controlling terminal even when none of fds 0-2 is a
    /// terminal.
    #[arg(long)]
    pub no_new_session: bool,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the plan and the compiled sandbox; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: print JSON (documented in docs/explain-doctor.md).
    #[arg(long, requires = "dry_run")]
    pub json: bool,
    /// With --dry-run: show what this platform would compile (linux, macos).
    #[arg(long, value_enum, value_name = "PLATFORM", requires = "dry_run")]
    pub platform: Option<Platform>,
    /// Run even where this host cannot enforce part of the policy, with one
    /// warning per gap.
    #[arg(long)]
    pub best_effort: bool,
    /// Use at most this Landlock ABI (1-7), for reproducible behaviour across
    /// kernels.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=7))]
    pub landlock_abi: Option<u8>,
    /// Leave processes the command started running after it exits (by
    /// default they are killed: the sandbox ends with the command).
    #[arg(long)]
    pub keep_leftovers: bool,
    /// Keep inherited descriptor N (above 2) open in the command
    /// (repeatable); every other one above 2 is closed at exec, since a
    /// descriptor opened outside reaches past the sandbox.
    #[arg(long = "keep-fd", value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    pub keep_fd: Vec<i32>,
    /// Start the command without a controlling terminal (a new session)
    /// even when one of fds 0-2 is a terminal. The default does so exactly
    /// when none of them is.
    #[arg(long, conflicts_with = "no_new_session")]
    pub new_session: bool,
    /// Keep the controlling terminal even when none of fds 0-2 is a
    /// terminal.
    #[arg(long)]
    pub no_new_session: bool,
    /// A skill root (repeatable): when the program or a path in the
    /// command (also inside `sh -c '...'`) lies in a skill directory under
    /// it, the skill's declared permissions apply, bounded by the policy.
    /// `.agents/skills` of the repository and `~/.agents/skills` are
    /// always skill roots.
    #[arg(long = "skills", value_name = "DIR")]
    pub skills: Vec<PathBuf>,
    /// The command and its arguments (after `--`).
    #[arg(trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// `cordon skill [POLICY] SKILL_DIR -- CMD`: the launch options of `run`
/// (its trailing CMD after SKILL_DIR).
#[derive(Args)]
pub struct SkillArgs {
    /// The skill: the directory that holds its SKILL.md.
    #[arg(value_name = "SKILL_DIR")]
    pub skill_dir: PathBuf,
    #[command(flatten)]
    pub run: RunArgs,
}

const SKILL_LONG_ABOUT: &str = "Run CMD with exactly the permissions a skill declares, bounded by the turn's policy (the POLICY options), by exec.

The skill's permissions block (agents/openai.yaml, or the YAML front matter of SKILL.md):
  permissions:
    file_system:
      read: [./data]        # relative to SKILL_DIR, absolute, or ~/...
      write: [./out]
    network: true           # or {enabled: true}
    macos: {preferences: read-only}

No block: CMD runs under the turn's policy. A block: exactly that sandbox, where
each write root must lie inside a writable root of the turn, reads are the
intersection with the turn's, and the network is on only if declared and the
turn allows it. A grant the turn does not cover exits 125 and runs nothing;
approve it through `cordon rerun` with \"skill\" and an \"additional\" execution.";

#[derive(Args)]
pub struct ProfilesArgs {
    /// A built-in profile to print as TOML.
    pub name: Option<String>,
}

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

/// One line out of clap's multi-line error, in cordon's format: the message
/// plus the indented lines that name the arguments, up to the usage.
fn clap_error_line(err: &clap::Error) -> String {
    if err.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "no subcommand given (run, skill, rerun, trace, learn, explain, seatbelt, doctor, profiles); see `cordon --help`"
            .to_string();
    }
    let rendered = err.render().to_string();
    let mut parts: Vec<&str> = rendered
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
        .map(str::trim)
        .collect();
    if parts.is_empty() {
        parts.push("invalid arguments");
    }
    let first = parts[0].trim_start_matches("error: ");
    let mut line = first.to_string();
    for p in &parts[1..] {
        line.push(' ');
        line.push_str(p);
    }
    // clap's "a similar subcommand exists" tip, from the error's context
    // (its rendered text puts it after a blank line, which is cut above).
    use clap::error::{ContextKind, ContextValue};
    for kind in [ContextKind::SuggestedSubcommand, ContextKind::SuggestedArg] {
        let similar: Vec<String> = match err.get(kind) {
            Some(ContextValue::String(s)) => vec![s.clone()],
            Some(ContextValue::Strings(v)) => v.clone(),
            _ => continue,
        };
        if !similar.is_empty() {
            let quoted: Vec<String> = similar.iter().map(|s| format!("`{s}`")).collect();
            line.push_str(&format!(" (did you mean {}?)", quoted.join(" or ")));
        }
    }
    format!("{line}; see `cordon --help` (or `cordon help SUBCOMMAND`)")
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
        let run = RunArgs::augment_args(clap::Command::new("run").about(RUN_ABOUT));
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
        Ok(cli) => match dispatch(cli) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("cordon: {}", e.message);
                e.exit
            }
        },
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                let _ = e.print();
                0
            }
            _ => {
                eprintln!("cordon: {}", clap_error_line(&e));
                EXIT_CORDON
            }
        },
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}
