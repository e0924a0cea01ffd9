//! `cordon run`: policy -> plan -> launch.

use std::ffi::OsString;

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::{LaunchArgs, PolicyArgs, SkillChoice, print_json};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::sandbox::{self, Launch};
use crate::stdio::{Process, Stdio};
use crate::view::{Platform, View, platform_view};

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
    pub platform: Option<super::launch_args::PlatformArg>,
    #[command(flatten)]
    pub launch: LaunchArgs,
    /// With --allow-domain: append the proxy's refusals to FILE as JSON
    /// lines (host, port, protocol, reason, flag; docs/network.md).
    #[arg(long, value_name = "FILE")]
    pub proxy_log: Option<PathBuf>,
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

pub const SKILL_LONG_ABOUT: &str = "Run CMD with exactly the permissions a skill declares, bounded by the turn's policy (the POLICY options), by exec.

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

/// `run --dry-run --json`.
#[derive(Serialize)]
struct DryRun<'a> {
    plan: &'a Plan,
    sandbox: &'a View,
    process: &'a Process,
    command: Vec<String>,
}

fn dry_run(plan: &Plan, stdio: &Stdio, args: &RunArgs) -> Result<i32> {
    let platform = args.platform.map_or_else(Platform::host, Platform::from);
    let view = platform_view(plan, platform, args.launch.abi.landlock_abi)?;
    let process = stdio.describe();
    if args.json {
        let command = args
            .command
            .iter()
            .map(|a: &OsString| a.to_string_lossy().into_owned())
            .collect();
        print_json(&DryRun {
            plan,
            sandbox: &view,
            process: &process,
            command,
        })?;
    } else {
        print!("{}", view.dry_run_text(plan, &process, &args.command));
    }
    Ok(0)
}

pub fn run(args: RunArgs) -> Result<i32> {
    launch(args, None)
}

/// `cordon skill [POLICY] SKILL_DIR -- CMD`.
pub fn skill(args: SkillArgs) -> Result<i32> {
    if !args.run.skills.is_empty() {
        return Err(Error::new(
            "--skills is for `cordon run`; `cordon skill` runs the skill SKILL_DIR names",
        ));
    }
    launch(args.run, Some(args.skill_dir))
}

fn launch(args: RunArgs, skill_dir: Option<PathBuf>) -> Result<i32> {
    if args.command.is_empty() && !args.dry_run {
        return Err(Error::new(
            "no command given; put it after `--`, e.g. `cordon run -- ls`",
        ));
    }
    // First: whether the named descriptors are open is the caller's state,
    // before cordon opens anything of its own.
    let stdio = args.launch.stdio()?;
    let skill = match &skill_dir {
        Some(dir) => SkillChoice::Named(dir),
        None => SkillChoice::Matched {
            roots: &args.skills,
            command: &args.command,
        },
    };
    let (mut plan, bounded) = args.policy.plan(skill)?;
    plan.kill_leftovers = !args.launch.keep_leftovers;
    if bounded && args.launch.best_effort {
        return Err(Error::new(format!(
            "--best-effort does not apply to {}: a skill's declared sandbox runs bounded or not at all; remove --best-effort",
            plan.policy_name
        )));
    }
    if args.dry_run {
        return dry_run(&plan, &stdio, &args);
    }
    sandbox::launch(
        &plan,
        &args.command,
        &Launch {
            dry_run: args.dry_run,
            best_effort: args.launch.best_effort,
            landlock_abi: args.launch.abi.landlock_abi,
            chdir: args.policy.cwd.is_some().then(|| plan.cwd.clone()),
            bounded,
            stdio,
            proxy_log: args.proxy_log.clone(),
        },
    )
}
