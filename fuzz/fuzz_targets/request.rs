//! The escalation request (`cordon rerun --request`): parse, the policy the
//! execution gets, then the pure stages at the request's cwd.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let req = cordon::policy::parse_request(text, "request fuzz.json");
    common::check(&req);
    let Ok(req) = req else { return };
    let got = cordon::policy::request_policy(&req);
    common::check(&got);
    if let Ok((policy, cwd, _kind)) = got {
        common::stages(&policy, &cwd);
    }
});
