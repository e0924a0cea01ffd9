//! `cordon run`: policy -> plan -> launch.

use super::RunArgs;
use crate::error::{Error, Result};
use crate::plan::{self, Env};
use crate::sandbox::{self, Launch};

pub fn run(args: RunArgs) -> Result<i32> {
    if args.command.is_empty() && !args.dry_run {
        return Err(Error::new(
            "no command given; put it after `--`, e.g. `cordon run -- ls`",
        ));
    }
    let policy = args.policy.policy()?;
    let cwd = args.policy.cwd()?;
    let plan = plan::resolve(&policy, &cwd, &Env::from_process())?;
    sandbox::launch(
        &plan,
        &args.command,
        &Launch {
            dry_run: args.dry_run,
            best_effort: args.best_effort,
            landlock_abi: args.landlock_abi,
            chdir: args.policy.cwd.is_some().then(|| plan.cwd.clone()),
            bounded: false,
        },
    )
}
