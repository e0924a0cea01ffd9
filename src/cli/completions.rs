//! `cordon completions SHELL`: a completion script for the whole command
//! line, generated from the same parser `cordon` uses.

use clap::{Args, CommandFactory};

use super::Cli;
use crate::error::Result;

pub const LONG_ABOUT: &str = "Print a shell completion script on stdout.

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

pub fn completions(args: CompletionsArgs) -> Result<i32> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut Cli::command(), "cordon", &mut std::io::stdout());
    Ok(0)
}
