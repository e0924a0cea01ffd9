//! `cordon man [SUBCOMMAND]`: the manual page (roff), generated from the
//! same parser `cordon` uses.

use std::io::Write;

use clap::{Args, CommandFactory};

use super::Cli;
use crate::error::{Error, Result};

#[derive(Args)]
pub struct ManArgs {
    /// A subcommand's page instead of cordon's (e.g. `cordon man run`).
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

pub fn man(args: ManArgs) -> Result<i32> {
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
