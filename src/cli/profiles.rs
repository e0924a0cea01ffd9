//! `cordon profiles [NAME]`: list the built-ins or print one.

use super::ProfilesArgs;
use crate::error::{Error, Result};
use crate::policy::{self, BUILTIN_NAMES, DEFAULT_PROFILE};

pub fn profiles(args: ProfilesArgs) -> Result<i32> {
    match args.name {
        Some(name) => {
            let text = policy::builtin_text(&name).ok_or_else(|| {
                Error::new(format!(
                    "unknown profile `{}`: use one of {}",
                    name.escape_debug(),
                    BUILTIN_NAMES.join(", ")
                ))
            })?;
            print!("{text}");
        }
        None => {
            for name in BUILTIN_NAMES {
                let p = policy::load_profile(name)?;
                let default = if name == DEFAULT_PROFILE {
                    " (default)"
                } else {
                    ""
                };
                println!("{name}{default}: {}", p.description);
            }
        }
    }
    Ok(0)
}
