//! The command line (contract §4). Parsing errors become one `cordon: ` line
//! and exit 125; each subcommand lives in its own module.

mod policy_args;
mod profiles;
mod rerun;
mod run;
mod seatbelt;

use std::ffi::OsString;
use std::io::Write;

use clap::{Args, Parser, Subcommand};

pub use policy_args::PolicyArgs;

use crate::error::{EXIT_CORDON, Result};

#[derive(Parser)]
#[command(
    name = "cordon",
    version,
    about = "Run a command inside the host's native sandbox (Landlock + seccomp, or Seatbelt).",
    disable_help_subcommand = true
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
    /// Print the Seatbelt (macOS) profile and sandbox-exec argv, on any OS.
    Seatbelt(Box<seatbelt::SeatbeltArgs>),
    /// List the built-in profiles, or print one.
    Profiles(ProfilesArgs),
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
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the plan and the compiled sandbox; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run even where this host cannot enforce part of the policy, with one
    /// warning per gap.
    #[arg(long)]
    pub best_effort: bool,
    /// Use at most this Landlock ABI (1-7), for reproducible behaviour across
    /// kernels.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=7))]
    pub landlock_abi: Option<u8>,
    /// The command and its arguments (after `--`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<OsString>,
}

#[derive(Args)]
pub struct ProfilesArgs {
    /// A built-in profile to print as TOML.
    pub name: Option<String>,
}

/// One line out of clap's multi-line error, in cordon's format.
fn clap_error_line(err: &clap::Error) -> String {
    if err.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "no subcommand given (run, rerun, explain, seatbelt, doctor, profiles); see `cordon --help`"
            .to_string();
    }
    let rendered = err.render().to_string();
    let mut lines = rendered.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let mut first = first.trim_start_matches("error: ").to_string();
    // "the following required arguments were not provided:" names them on
    // the next line.
    if first.ends_with(':')
        && let Some(next) = lines.next()
    {
        first = format!("{first} {}", next.trim());
    }
    format!("{first}; see `cordon --help`")
}

fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run(args) => run::run(*args),
        Command::Rerun(args) => rerun::rerun(args),
        Command::Seatbelt(args) => seatbelt::seatbelt(*args),
        Command::Profiles(args) => profiles::profiles(args),
    }
}

/// Entry point: never returns.
pub fn main() -> ! {
    let code = match Cli::try_parse() {
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
