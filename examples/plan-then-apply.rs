//! A test harness for the race between planning and enforcement (issue 11
//! item 3), deterministic where a swapper process is a gamble: resolves the
//! default profile plus `-w ROOT` in the current directory, prints `planned`
//! and waits for a line on stdin (the test swaps `ROOT` for a symlink
//! meanwhile), then builds the sandbox exactly as `cordon run` does and
//! execs `CMD`. Not part of cordon; `cargo test` builds it.
//!
//!   plan-then-apply [--best-effort] [--unprotected] ROOT -- CMD [ARG...]
//!
//! `--best-effort` as in `cordon run`; `--unprotected` clears the protected
//! names (no placeholders, so the swap meets the mount or Landlock step).

use std::ffi::OsString;
use std::io::{BufRead, Write};

use cordon::plan::{Env, resolve};
use cordon::policy::{PathSpec, Policy};
use cordon::sandbox::{Launch, launch};

fn main() {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let flag = |args: &mut Vec<OsString>, name: &str| {
        let had = args.iter().position(|a| a == name);
        had.map(|i| args.remove(i)).is_some()
    };
    let best_effort = flag(&mut args, "--best-effort");
    let unprotected = flag(&mut args, "--unprotected");
    let Some(split) = args.iter().position(|a| a == "--") else {
        eprintln!("usage: plan-then-apply [--best-effort] [--unprotected] ROOT -- CMD [ARG...]");
        std::process::exit(2);
    };
    let (root, argv) = (&args[0], &args[split + 1..]);
    let mut policy = Policy::default_profile().expect("default profile");
    policy.add_write(PathSpec::Path(root.into()), "--writable-root");
    if unprotected {
        policy.protected.clear();
    }
    let cwd = std::env::current_dir().expect("cwd");
    let plan = resolve(&policy, &cwd, &Env::from_process()).expect("plan");
    println!("planned");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok();
    let opts = Launch {
        best_effort,
        ..Launch::default()
    };
    let err = launch(&plan, argv, &opts);
    match err {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("cordon: {}", e.message);
            std::process::exit(e.exit);
        }
    }
}
