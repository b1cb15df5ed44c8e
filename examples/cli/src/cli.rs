//! The command line: global options and the top-level subcommands, plus the value parsers the
//! role modules share.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};

use crate::{authority, verifier, wallet};

/// Offline-first vaccination pass: authority, wallet and verifier roles, and an offline demo.
///
/// Exit codes: 0 success or a valid pass, 1 a pass that is not valid, 2 bad usage or an error.
#[derive(Debug, Parser)]
#[command(name = "vaxpass", version)]
pub struct Cli {
    /// Directory holding authority.sqlite, wallet.sqlite, verifier.sqlite and the list files.
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Use this time instead of the wall clock (RFC 3339, e.g. 2021-12-13T12:10:00+09:00).
    #[arg(long, global = true, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<DateTime<Utc>>,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole story in a new temporary directory (not --dir): enrol, show a QR, lose the
    /// network, verify.
    Demo,
    /// The health authority: issuer keys, credentials and signed lists.
    #[command(subcommand)]
    Authority(authority::Command),
    /// The citizen's wallet: device key, passes and rotating QR codes.
    #[command(subcommand)]
    Wallet(wallet::Command),
    /// The shop's verifier: synced lists and offline verdicts.
    #[command(subcommand)]
    Verifier(verifier::Command),
    /// Decode a QR text into its parts without judging it ("-" reads standard input), or verify
    /// a shop's check report as an inspector does (`inspect report FILE`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Inspect {
        /// The QR text, e.g. "VP1:..."; quote it, it may contain spaces.
        #[arg(required = true)]
        text: Option<String>,
        #[command(subcommand)]
        what: Option<crate::inspect::What>,
    },
}

/// An RFC 3339 time, e.g. `2021-12-13T03:10:00Z`.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("expected an RFC 3339 time like 2021-12-13T12:10:00+09:00 ({e})"))
}

/// A calendar date, `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| format!("expected a date like 1985-03-14 ({e})"))
}

/// Bytes given as hex digits. A newtype, because clap reads a `Vec<u8>` field as many `u8`s.
#[derive(Debug, Clone)]
pub struct HexBytes(pub Vec<u8>);

pub fn parse_hex(text: &str) -> Result<HexBytes, String> {
    hex::decode(text.trim())
        .map(HexBytes)
        .map_err(|e| format!("expected hex digits ({e})"))
}

/// A 32-byte public key written as 64 hex digits.
pub fn parse_key(text: &str) -> Result<[u8; 32], String> {
    parse_hex(text)?
        .0
        .try_into()
        .map_err(|_| "expected a 32-byte key (64 hex digits)".to_string())
}

/// A credential id: 12 hex digits.
pub fn parse_id(text: &str) -> Result<vaxpass::CredentialId, String> {
    vaxpass::CredentialId::parse(text.trim()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
