//! `cordon explain [POLICY] [--json] [--platform P] [PATH...]`: the resolved
//! plan, what enforces each of its features, and per-path verdicts with the
//! deciding rule. Everything is read off the same plan and compiled
//! artifacts `cordon run` uses.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::request::RequestPlan;
use super::{AbiArg, PolicyArgs, SkillChoice, print_json};
use crate::error::Result;
use crate::plan::{self, PathVerdict, Plan};
use crate::stdio::{Process, SessionFlag, Stdio};
use crate::view::{Platform, View, platform_view};

#[derive(Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print JSON (the shape is documented in docs/explain-doctor.md).
    #[arg(long)]
    pub json: bool,
    /// Whose view to explain: linux or macos. Default: this host's.
    #[arg(long, value_enum, value_name = "PLATFORM")]
    pub platform: Option<super::launch_args::PlatformArg>,
    /// Explain the sandbox an escalation request (JSON file, or - for stdin)
    /// would get, as `cordon rerun` resolves it now.
    #[arg(long, value_name = "FILE|-", conflicts_with_all = ["profile", "policy_json"])]
    pub request: Option<String>,
    /// Explain the sandbox CMD gets as this skill's (`cordon skill`): its
    /// declared permissions bounded by the policy; each verdict names the
    /// manifest key that decided it.
    #[arg(long, value_name = "SKILL_DIR", conflicts_with = "request")]
    pub skill: Option<PathBuf>,
    #[command(flatten)]
    pub abi: AbiArg,
    /// Paths to give read / write / execute verdicts for (relative to the
    /// policy's cwd).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// `explain --json`: deterministic for the same inputs (no time, no pid).
#[derive(Serialize)]
struct Report<'a> {
    plan: &'a Plan,
    sandbox: &'a View,
    /// What `cordon run` from here, without launch options, passes on.
    process: Process,
    paths: Vec<PathVerdict>,
}

pub fn explain(args: ExplainArgs) -> Result<i32> {
    let plan = match &args.request {
        Some(request) => RequestPlan::read(request)?.plan,
        None => {
            args.policy
                .plan(SkillChoice::named(args.skill.as_deref()))?
                .0
        }
    };
    let process = Stdio::new(&[], SessionFlag::Auto)?.describe();
    let platform = args.platform.map_or_else(Platform::host, Platform::from);
    let view = platform_view(&plan, platform, args.abi.landlock_abi)?;
    let lookups: Vec<_> = args
        .paths
        .iter()
        .map(|p| plan::lookup(p, &plan.cwd))
        .collect();
    let verdicts: Vec<PathVerdict> = lookups
        .iter()
        .filter_map(|l| view.verdict(&plan, l))
        .collect();
    if args.json {
        print_json(&Report {
            plan: &plan,
            sandbox: &view,
            process,
            paths: verdicts,
        })?;
        return Ok(0);
    }
    if lookups.is_empty() {
        print!("{plan}{}{process}", view.enforcement_text());
        return Ok(0);
    }
    if verdicts.len() < lookups.len() {
        for l in &lookups {
            println!("{}: no verdict (see below)", l.path.display());
        }
        print!("{}", view.enforcement_text());
    }
    for v in &verdicts {
        print!("{v}");
    }
    Ok(0)
}
