//! Prints the Korean replay's table (docs/rules-korea.md): what the shops of each venue mode
//! showed each citizen at noon, from 1 December 2021 to 10 March 2022, one row per change.
//! `cargo run -p vaxpass-tests --example korea-replay [RULES_FILE]`.

use vaxpass_tests::korea_replay::{table, Replay};

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../issuer/rules/korea-2021-2022.toml"
        )
        .into()
    });
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let rule_sets = match vaxpass_issuer::rules_file::parse(&text) {
        Ok(sets) => sets,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let mut replay = Replay::new(rule_sets);
    let verdicts = replay.run(12);
    print!("{}", table(&verdicts, &replay.citizens));
}
