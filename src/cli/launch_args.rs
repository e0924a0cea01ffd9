//! The launch options the subcommands that start a command share:
//! `--landlock-abi`, the session flags, and the options of `run`, `skill`,
//! `trace` and `learn`.

use clap::Args;

use crate::error::Result;

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

/// `--platform linux|macos`: whose view `explain` and `--dry-run` show.
/// Here, not in `view.rs`, so the view does not depend on the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlatformArg {
    Linux,
    Macos,
}

impl From<PlatformArg> for crate::view::Platform {
    fn from(p: PlatformArg) -> Self {
        match p {
            PlatformArg::Linux => crate::view::Platform::Linux,
            PlatformArg::Macos => crate::view::Platform::Macos,
        }
    }
}
