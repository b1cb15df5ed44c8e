//! `cargo run -p uniffi-bindgen -- generate --library <libvaxpass_ffi.so> --language kotlin ...`
//!
//! uniffi's generator at the pinned version, with two additions for the Python it writes, which
//! belong here rather than with its callers because maturin runs this binary itself when it builds
//! the wheel, with no step of ours after it:
//! - `vaxpass.py` gets the Python fix of `scripts/patch-bindings.py`;
//! - asked for Python, it fails when it wrote no `vaxpass.py`: uniffi reads the interface from the
//!   library's symbol table and, from a stripped library, generates nothing and says nothing.
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The module uniffi writes for the `vaxpass` namespace.
const PYTHON_MODULE: &str = "vaxpass.py";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let out_dir = values(&args, "--out-dir", "-o").last().map(PathBuf::from);
    let python = values(&args, "--language", "-l")
        .iter()
        .any(|language| ["python", "py"].contains(&language.to_ascii_lowercase().as_str()));
    uniffi::uniffi_bindgen_main(); // exits with status 1 on a generator error
    let Some(module) = out_dir.map(|dir| dir.join(PYTHON_MODULE)) else {
        return ExitCode::SUCCESS;
    };
    if module.is_file() {
        patch_python(&module)
    } else if python {
        eprintln!(
            "no {} was generated: the library has no uniffi metadata (is its symbol table stripped?)",
            module.display()
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Every value of an option, in the forms clap accepts: `--long V`, `--long=V`, `-s V`, `-sV`,
/// `-s=V`.
fn values(args: &[OsString], long: &str, short: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut args = args.iter().filter_map(|arg| arg.to_str());
    while let Some(arg) = args.next() {
        if arg == long || arg == short {
            found.extend(args.next().map(str::to_owned));
        } else if let Some(value) = arg.strip_prefix(long).and_then(|v| v.strip_prefix('=')) {
            found.push(value.to_owned());
        } else if let Some(value) = arg.strip_prefix(short).filter(|v| !v.is_empty()) {
            found.push(value.strip_prefix('=').unwrap_or(value).to_owned());
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

    fn parse(args: &[&str], long: &str, short: &str) -> Vec<String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        values(&args, long, short)
    }

    #[test]
    fn option_values_are_found_in_every_form_clap_accepts() {
        for args in [
            ["generate", "--out-dir", "out/py"].as_slice(),
            &["generate", "--out-dir=out/py"],
            &["generate", "-o", "out/py"],
            &["generate", "-oout/py"],
            &["generate", "-o=out/py"],
        ] {
            assert_eq!(parse(args, "--out-dir", "-o"), ["out/py"], "{args:?}");
        }
        let languages = [
            "-l",
            "kotlin",
            "--language=swift",
            "--language",
            "python",
            "-lpy",
        ];
        assert_eq!(
            parse(&languages, "--language", "-l"),
            ["kotlin", "swift", "python", "py"]
        );
        assert!(parse(
            &["generate", "--no-format", "--library", "x.so"],
            "--out-dir",
            "-o"
        )
        .is_empty());
    }
}
