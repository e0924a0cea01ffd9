//! Prints the git pins of writable roots and times the planning, for
//! `bench/nested-git.sh` and by hand:
//!
//!   cargo run --release --example git-pins -- [--scan] [--runs N] [--quiet] [--mark] ROOT...
//!
//! Each run plans from scratch (no cache is shared between runs); the
//! median and minimum of `--runs` runs are printed. `--mark` brackets the
//! first plan with two getppid(2) calls, so `strace` can count the system
//! calls of exactly one plan (bench/nested-git.sh does).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cordon::plan::{GitEnv, GitOptions, GitScan, plan_git, shown};

fn main() {
    let mut scan = GitScan::Off;
    let mut runs = 1usize;
    let mut quiet = false;
    let mut mark = false;
    let mut roots = Vec::new();
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--scan") => scan = GitScan::Full,
            Some("--quiet") => quiet = true,
            Some("--mark") => mark = true,
            Some("--runs") => {
                runs = args
                    .next()
                    .and_then(|n| n.to_str()?.parse().ok())
                    .unwrap_or(1)
                    .max(1)
            }
            _ => match std::fs::canonicalize(&a) {
                Ok(p) => roots.push(p),
                Err(e) => {
                    eprintln!("git-pins: {}: {e}", PathBuf::from(&a).display());
                    std::process::exit(2);
                }
            },
        }
    }
    let env = GitEnv::from_process();
    let opts = GitOptions {
        scan,
        cwd: None,
        commits: false,
    };
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut plan = None;
    for run in 0..runs {
        let marked = mark && run == 0;
        if marked {
            // SAFETY: getppid has no preconditions; it is only a marker.
            unsafe { libc::getppid() };
        }
        let t = Instant::now();
        let p = plan_git(&roots, &env, &opts);
        times.push(t.elapsed());
        if marked {
            // SAFETY: as above.
            unsafe { libc::getppid() };
        }
        plan = Some(p);
    }
    let Some(plan) = plan else { return };
    if !quiet {
        for r in &plan.repos {
            println!(
                "repo {} (common {}; worktree {}) -- {}",
                shown(&r.git_dir),
                shown(&r.common_dir),
                r.worktree
                    .as_ref()
                    .map_or("none".to_string(), |w| shown(w).to_string()),
                r.found
            );
        }
        for p in &plan.pins {
            let state = match (p.exists, p.link, p.is_dir) {
                (false, _, _) => "missing",
                (true, true, _) => "link",
                (true, false, true) => "dir",
                (true, false, false) => "file",
            };
            let root = p
                .root
                .as_ref()
                .map_or("outside".to_string(), |r| format!("in {}", shown(r)));
            println!("pin {state:7} {} [{root}] -- {}", shown(&p.path), p.why);
        }
        for n in &plan.notes {
            println!("note {n}");
        }
    }
    for s in &plan.scans {
        println!(
            "scan {}: {} dirs, {} entries, {} .git found, {} skipped",
            shown(&s.root),
            s.dirs,
            s.entries,
            s.found,
            s.skipped
        );
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "plan: {} repos, {} pins; {} run(s): median {:.1} us, min {:.1} us",
        plan.repos.len(),
        plan.pins.len(),
        times.len(),
        median.as_secs_f64() * 1e6,
        times[0].as_secs_f64() * 1e6
    );
}
