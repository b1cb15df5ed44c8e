//! Writes docs/performance.md from one benchmark run: criterion's estimates and the memory and
//! FFI figures that `scripts/bench-report.sh` left in a directory, plus the sizes and the EU DCC
//! verification count, measured here. Every figure in the document comes from that run.
//!
//!     report <criterion dir> <perf dir> <output.md>

mod hostile;
mod inputs;
mod render;
mod sizes;

use std::path::PathBuf;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [criterion, perf, output] = args.as_slice() else {
        return Err("usage: report <criterion dir> <perf dir> <output.md>".into());
    };
    let run = render::Run {
        machine: inputs::Machine::this_one()?,
        times: inputs::Times::read(criterion)?,
        memory: inputs::Memory::read(&perf.join("memory.json"))?,
        hostile: hostile::Hostile::read(&perf.join("hostile.json"))?,
        ffi: inputs::Ffi::read(&perf.join("ffi.jsonl"))?,
        library: inputs::Library::read(&perf.join("library.json"))?,
        sizes: sizes::Sizes::measure()?,
        dcc: sizes::DccCount::measure(),
    };
    std::fs::write(output, render::document(&run))?;
    eprintln!("wrote {}", output.display());
    Ok(())
}
