//! Entry point of `cordon-probe`. The probe exercises Linux kernel interfaces
//! (seccomp, Landlock, namespaces), so it is Linux-only; elsewhere the binary
//! is a stub, which keeps `cargo build`/`cargo check` of the package working
//! on macOS (cargo builds every binary target for the integration tests).

#[cfg(target_os = "linux")]
#[path = "cordon-probe.rs"]
mod probe;

#[cfg(target_os = "linux")]
fn main() {
    probe::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("cordon-probe: Linux only");
    std::process::exit(2);
}
