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
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// Rerun an approved command from an escalation request (JSON), under
    /// exactly the sandbox it asks for.
    #[command(long_about = rerun::LONG_ABOUT)]
    #[command(after_help = RERUN_EXAMPLES)]
    Rerun(RerunArgs),
    /// Run CMD with the permissions a skill declares (agents/openai.yaml or
    /// SKILL.md front matter), bounded by the turn's policy, by exec.
    #[command(long_about = SKILL_LONG_ABOUT)]
    #[command(after_help = SKILL_EXAMPLES)]
    Skill(Box<SkillArgs>),
    /// Print the Seatbelt (macOS) profile and sandbox-exec argv, on any OS.
    #[command(after_help = SEATBELT_EXAMPLES)]
    Seatbelt(Box<seatbelt::SeatbeltArgs>),
    /// List the built-in and user profiles, or print one.
    #[command(after_help = PROFILES_EXAMPLES)]
    Profiles(ProfilesArgs),
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
    #[command(long_about = COMPLETIONS_LONG_ABOUT)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on stdout: `cordon man | man -l -`.
    Man(ManArgs),
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

const COMPLETIONS_LONG_ABOUT: &str = "Print a shell completion script on stdout.

  bash: cordon completions bash > ~/.local/share/bash-completion/completions/cordon
  zsh:  cordon completions zsh > ~/.zfunc/_cordon   (with fpath+=~/.zfunc before compinit)
  fish: cordon completions fish > ~/.config/fish/completions/cordon.fish";

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh or fish.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Args)]
pub struct ManArgs {
    /// A subcommand's page instead of cordon's (e.g. `cordon man run`).
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

fn completions(args: CompletionsArgs) -> Result<i32> {
    use clap::CommandFactory;
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut Cli::command(), "cordon", &mut std::io::stdout());
    Ok(0)
}

fn man(args: ManArgs) -> Result<i32> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    cmd.build();
    let page = match &args.subcommand {
        None => cmd,
        Some(name) => {
            let Some(sub) = cmd.find_subcommand(name) else {
                let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                return Err(Error::new(format!(
                    "man {}: no such subcommand; use one of {}",
                    name.escape_debug(),
                    names.join(", ")
                )));
            };
            // The page is titled `cordon-run`, as man pages of subcommands are.
            sub.clone()
                .display_name(format!("cordon-{}", sub.get_name()))
                .bin_name(format!("cordon {}", sub.get_name()))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| Error::new(format!("cannot render the manual page: {e}")))?;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| Error::new(format!("cannot write the manual page: {e}")))?;
    Ok(0)
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
    #[command(flatten)]
    pub abi: AbiArg,
    #[command(flatten)]
    pub session: SessionArgs,
}

/// `--landlock-abi N`: declared once, bounded by the newest ABI cordon
/// knows.
#[derive(Args, Clone, Copy, Default)]
pub struct AbiArg {
    /// Use at most this Landlock ABI, for reproducible behaviour across
    /// kernels.
    #[arg(
        long = "landlock-abi",
        value_name = "N",
        value_parser = clap::value_parser!(u8).range(1..=crate::linux::landlock::Abi::NEWEST as i64)
    )]
    pub landlock_abi: Option<u8>,
}

/// `--new-session` / `--no-new-session`.
#[derive(Args, Clone, Copy, Default)]
pub struct SessionArgs {
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

impl SessionArgs {
    pub fn flag(self) -> crate::stdio::SessionFlag {
        crate::stdio::SessionFlag::from_flags(self.new_session, self.no_new_session)
    }
}

/// The launch options `run`, `skill`, `trace` and `learn` share.
#[derive(Args)]
pub struct LaunchArgs {
    /// Run even where this host cannot enforce part of the policy, with one
    /// warning per gap.
    #[arg(long)]
    pub best_effort: bool,
    #[command(flatten)]
    pub abi: AbiArg,
    /// Leave processes the command started running after it exits (by
    /// default they are killed: the sandbox ends with the command; `trace`
    /// then follows them until the last one exits).
    #[arg(long)]
    pub keep_leftovers: bool,
    /// Keep inherited descriptor N (above 2) open in the command
    /// (repeatable); every other one above 2 is closed at exec, since a
    /// descriptor opened outside reaches past the sandbox.
    #[arg(long = "keep-fd", value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    pub keep_fd: Vec<i32>,
    #[command(flatten)]
    pub session: SessionArgs,
}

impl LaunchArgs {
    /// What the command inherits (descriptors, session), checked.
    pub fn stdio(&self) -> Result<crate::stdio::Stdio> {
        crate::stdio::Stdio::new(&self.keep_fd, self.session.flag())
    }
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
    #[command(flatten)]
    pub launch: LaunchArgs,
    /// With --allow-domain: append the proxy's refusals to FILE as JSON
    /// lines (host, port, protocol, reason, flag; docs/network.md).
    #[arg(long, value_name = "FILE")]
    pub proxy_log: Option<std::path::PathBuf>,
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
    /// A built-in or user profile to print as TOML.
    pub name: Option<String>,
    /// Print JSON: the list as an array of {name, kind, default,
    /// description, path?, unusable?}, one profile as {name, kind, path?,
    /// toml}.
    #[arg(long)]
    pub json: bool,
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
        Command::Completions(args) => completions(args),
        Command::Man(args) => man(args),
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
        let run = RunArgs::augment_args(
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
