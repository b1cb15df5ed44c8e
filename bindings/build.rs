//! Links the shared library for 16 KB memory pages on ELF targets (Android, Linux).
//!
//! Android 15 devices may run with 16 KB pages, and Google Play requires apps targeting it to
//! ship 64-bit libraries whose LOAD segments are aligned to 16 KB; linkers default to 4 KB
//! (the NDK from r28, the host linkers here never). A cdylib link argument, not `rustflags`, so
//! it holds whatever RUSTFLAGS cargo-ndk or a developer sets and rebuilds nothing else.
//! `scripts/check-elf-alignment.py` checks the result.

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "android" || target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,max-page-size=16384");
    }
}
