//! The policy JSON (`--policy-json`, `--permissions`, `-p FILE.json`): both
//! shapes, then the pure stages.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = cordon::policy::parse_policy_json(text, "--policy-json");
    common::check(&parsed);
    if let Ok(policy) = parsed {
        common::stages(&policy, std::path::Path::new("/"));
    }
    // `--permissions`: merged onto the default profile, as the CLI does.
    let perms = cordon::policy::parse_permission_profile(text, "--permissions");
    common::check(&perms);
    if let Ok(extra) = perms {
        let base = cordon::policy::Policy::default_profile().expect("built-in profile");
        let merged = cordon::policy::merge_permissions(&base, &extra);
        common::check(&merged);
        if let Ok(merged) = merged {
            common::stages(&merged, std::path::Path::new("/"));
        }
        common::stages(
            &extra.into_policy("--permissions"),
            std::path::Path::new("/"),
        );
    }
});
