//! `vaxpass inspect TEXT`: the parts of a QR text (header, claims, pass data, signatures) for
//! support staff and developers. Nothing is verified there; that is the verifier's job.
//! `vaxpass inspect report FILE`: what an inspector does with a shop's check report, offline:
//! verifies it (with the shop key and the authority's anchor when given) and says what it proves.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;
use vaxpass::inspect::inspect;
use vaxpass::keys::hex;
use vaxpass::{verify_report, AnchorCheck};

use crate::cli::{parse_hex, HexBytes};
use crate::context::{read_file, text_argument, Context, Outcome};
use crate::error::Result;
use crate::output::{describe_event, event_json, time};

/// What else `inspect` looks at.
#[derive(Debug, Subcommand)]
pub enum What {
    /// Verify a shop's check report offline and say what it proves. Exit code 1 if refused.
    Report(ReportArgs),
}

/// A report and what to check it against.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report, as `vaxpass verifier report` wrote it.
    file: PathBuf,
    /// The shop key it must be signed by (hex, as `vaxpass verifier status` prints it).
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    shop_key: Option<HexBytes>,
    /// The shop's anchor from the authority (`GET /v1/anchors/<shop key>`): with it, cut entries
    /// are detected.
    #[arg(long, value_name = "FILE")]
    anchor: Option<PathBuf>,
}

/// `vaxpass inspect report FILE [--shop-key HEX] [--anchor FILE]`.
pub fn report(ctx: &Context, args: ReportArgs) -> Result<Outcome> {
    let bytes = read_file(&args.file)?;
    let anchor = args.anchor.as_deref().map(read_file).transpose()?;
    let key = args.shop_key.map(|k| k.0);
    let proof = match verify_report(&bytes, key.as_deref(), anchor.as_deref()) {
        Ok(proof) => proof,
        Err(refused) => {
            ctx.out.line(format_args!("REFUSED: {refused}"));
            ctx.out
                .json(json!({ "verified": false, "reason": refused.code(), "message": refused.to_string() }));
            return Ok(Outcome::NotValid);
        }
    };
    ctx.out.line(format_args!("VERIFIED: {}", proof.sentence()));
    for (code, n) in &proof.by_reason {
        ctx.out.line(format_args!("  refused {code}: {n}"));
    }
    for hour in &proof.hours {
        ctx.out.line(format_args!(
            "  {} {}: {}",
            time(hour.hour),
            hour.code,
            hour.count
        ));
    }
    let anchor = match proof.anchor {
        AnchorCheck::NotGiven => json!(null),
        AnchorCheck::Matches { count } => json!({ "matches": count }),
        AnchorCheck::Before { count } => json!({ "before_range": count }),
    };
    ctx.out.json(json!({
        "verified": true,
        "sentence": proof.sentence(),
        "shop_key": hex(&proof.shop_key),
        "from": time(proof.from),
        "to": time(proof.to),
        "checks": proof.checks,
        "valid": proof.valid,
        "refused": proof.refused,
        "id_checks": proof.id_checks,
        "by_reason": proof.by_reason.iter().map(|(c, n)| json!({ "reason": c, "count": n })).collect::<Vec<_>>(),
        "hours": proof.hours.iter().map(|h| json!({ "hour": time(h.hour), "verdict": h.code, "count": h.count })).collect::<Vec<_>>(),
        "freshness": proof.freshness.iter().map(|(c, n)| json!({ "state": c, "count": n })).collect::<Vec<_>>(),
        "lists_fresh": proof.lists_fresh(),
        "head": { "count": proof.head.count, "hash": hex(&proof.head.hash) },
        "anchor": anchor,
    }));
    Ok(Outcome::Success)
}

pub fn run(ctx: &Context, text: &str) -> Result<Outcome> {
    let parts = inspect(&text_argument(text)?)?;
    let claims = &parts.claims;
    let device = &claims.device_key;
    let kind = match parts.presentation {
        Some(_) => "rotating presentation",
        None => "paper credential",
    };
    let out = &ctx.out;
    out.line("not verified: this shows what the code says, not whether it is valid");
    out.line(format_args!("prefix:            {} ({kind})", parts.prefix));
    out.line(format_args!(
        "sizes:             {} characters, {} CBOR bytes, credential {} bytes",
        parts.text_chars, parts.cbor_bytes, parts.credential_bytes
    ));
    out.line(format_args!("algorithm:         {}", parts.algorithm));
    out.line(format_args!(
        "issuer kid:        {}",
        hex(&parts.issuer_kid)
    ));
    out.line("claims:");
    out.line(format_args!("  iss:             {}", claims.issuer));
    out.line(format_args!(
        "  iat:             {}",
        time(claims.issued_at)
    ));
    out.line(format_args!(
        "  nbf:             {}",
        time(claims.not_before)
    ));
    out.line(format_args!("  exp:             {}", time(claims.expires)));
    out.line(format_args!("  cti:             {}", claims.id));
    out.line(format_args!(
        "  cnf device key:  {} {}",
        device.algorithm(),
        hex(&device.kid())
    ));
    out.line("pass data:");
    out.line(format_args!(
        "  name:            {}",
        claims.pass.person.name
    ));
    out.line(format_args!(
        "  date of birth:   {}",
        claims.pass.person.date_of_birth
    ));
    for event in &claims.pass.events {
        out.line(format_args!("  {}", describe_event(event)));
    }
    out.line(format_args!(
        "issuer signature:  {}",
        hex(&parts.issuer_signature)
    ));
    if let Some((shown_at, signature)) = &parts.presentation {
        out.line(format_args!("shown at:          {}", time(*shown_at)));
        out.line(format_args!("device signature:  {}", hex(signature)));
    }
    out.json(json!({
        "prefix": parts.prefix,
        "kind": if parts.presentation.is_some() { "presentation" } else { "paper" },
        "text_chars": parts.text_chars,
        "cbor_bytes": parts.cbor_bytes,
        "credential_bytes": parts.credential_bytes,
        "algorithm": parts.algorithm,
        "issuer_kid": hex(&parts.issuer_kid),
        "claims": {
            "iss": claims.issuer,
            "iat": time(claims.issued_at),
            "nbf": time(claims.not_before),
            "exp": time(claims.expires),
            "cti": claims.id.to_string(),
            "device_key": { "alg": device.algorithm(), "kid": hex(&device.kid()) },
        },
        "pass": {
            "name": claims.pass.person.name,
            "date_of_birth": claims.pass.person.date_of_birth.to_string(),
            "events": claims.pass.events.iter().map(event_json).collect::<Vec<_>>(),
        },
        "issuer_signature": hex(&parts.issuer_signature),
        "presentation": parts.presentation.as_ref().map(|(shown_at, signature)| json!({
            "shown_at": time(*shown_at),
            "device_signature": hex(signature),
        })),
    }));
    Ok(Outcome::Success)
}
