//! The profile TOML (`-p FILE`): parse, then the pure stages.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `load_profile` reads with read_to_string, which refuses non-UTF-8.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = cordon::policy::parse_profile_toml(text, "fuzz.toml");
    common::check(&parsed);
    if let Ok(policy) = parsed {
        common::stages(&policy, std::path::Path::new("/"));
    }
});
