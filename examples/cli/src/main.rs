//! `vaxpass`: the command-line tool for the vaxpass SDK. It plays each role over files in a
//! directory (authority, wallet, verifier), inspects QR texts, and runs an offline demo.
//!
//! Exit codes: 0 success or a valid pass, 1 a pass that is not valid, 2 bad usage or any error.

mod authority;
mod cli;
mod context;
mod demo;
mod error;
mod http;
mod inspect;
mod output;
mod qr_image;
mod verifier;
mod wallet;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use context::{Context, Outcome};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = Context::new(cli.dir, cli.now, cli.json);
    let result = match cli.command {
        Command::Demo => demo::run(&ctx),
        Command::Authority(command) => authority::run(&ctx, command),
        Command::Wallet(command) => wallet::run(&ctx, command),
        Command::Verifier(command) => verifier::run(&ctx, command),
        Command::Inspect {
            what: Some(inspect::What::Report(report)),
            ..
        } => inspect::report(&ctx, report),
        Command::Inspect { text, .. } => inspect::run(&ctx, text.as_deref().unwrap_or("-")),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::NotValid) => ExitCode::from(1),
        Err(error) => {
            eprintln!("vaxpass: error: {error}");
            ExitCode::from(2)
        }
    }
}
