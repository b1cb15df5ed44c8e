//! `vaxpass inspect TEXT`: the parts of a QR text (header, claims, pass data, signatures) for
//! support staff and developers. Nothing is verified here; that is the verifier's job.

use serde_json::json;
use vaxpass::inspect::inspect;
use vaxpass::keys::hex;

use crate::context::{text_argument, Context, Outcome};
use crate::error::Result;
use crate::output::{describe_event, event_json, time};

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
