//! `cargo run -p uniffi-bindgen -- generate --library <libvaxpass_ffi.so> --language kotlin ...`
//!
//! uniffi's generator at the pinned version, plus the Python fix of `scripts/patch-bindings.py`:
//! when an output directory ends up holding `vaxpass.py`, that script patches it before this
//! returns. The fix belongs to the generator rather than to its callers because maturin runs this
//! binary itself when it builds the Python wheel, with no step of ours in between.
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The module uniffi writes for the `vaxpass` namespace.
const PYTHON_MODULE: &str = "vaxpass.py";

fn main() -> ExitCode {
    let out_dir = out_dir(std::env::args_os().skip(1));
    uniffi::uniffi_bindgen_main(); // exits with status 1 on a generator error
    let Some(module) = out_dir.map(|dir| dir.join(PYTHON_MODULE)) else {
        return ExitCode::SUCCESS;
    };
    if !module.is_file() {
        return ExitCode::SUCCESS;
    }
    patch_python(&module)
}

/// The `--out-dir`/`-o` argument, in any of the forms clap accepts for it.
fn out_dir(mut args: impl Iterator<Item = OsString>) -> Option<PathBuf> {
    let mut found = None;
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else { continue };
        if text == "--out-dir" || text == "-o" {
            found = args.next().map(PathBuf::from);
        } else if let Some(value) = text.strip_prefix("--out-dir=") {
            found = Some(PathBuf::from(value));
        } else if let Some(value) = text.strip_prefix("-o").filter(|v| !v.is_empty()) {
            found = Some(PathBuf::from(value.strip_prefix('=').unwrap_or(value)));
        }
    }
    found
}

fn patch_python(module: &Path) -> ExitCode {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/patch-bindings.py");
    match Command::new("python3")
        .arg(&script)
        .arg("python")
        .arg(module)
        .status()
    {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!(
                "{} failed on {}: {status}",
                script.display(),
                module.display()
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("could not run python3 {}: {error}", script.display());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Option<PathBuf> {
        out_dir(args.iter().map(OsString::from))
    }

    #[test]
    fn out_dir_is_found_in_every_form_clap_accepts() {
        let expected = Some(PathBuf::from("out/python"));
        assert_eq!(parse(&["generate", "--out-dir", "out/python"]), expected);
        assert_eq!(parse(&["generate", "--out-dir=out/python"]), expected);
        assert_eq!(parse(&["generate", "-o", "out/python"]), expected);
        assert_eq!(parse(&["generate", "-oout/python"]), expected);
        assert_eq!(parse(&["generate", "-o=out/python"]), expected);
        assert_eq!(
            parse(&["generate", "--language", "python", "--no-format"]),
            None
        );
    }
}
