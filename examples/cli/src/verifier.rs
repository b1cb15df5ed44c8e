//! `vaxpass verifier ...`: the shop's phone. It pins the authority's root key, takes the signed
//! lists while online, and judges QR texts (typed, or read from a PNG) with no network.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use vaxpass::keys::hex;
use vaxpass::{
    Applied, Backoff, Fetched, HttpResponse, ListInfo, ListKind, Verifier, VerifierConfig,
};

use crate::http::{wait, Server, LIST_ATTEMPTS};

use crate::cli::{parse_key, parse_time};
use crate::context::{
    read_file, text_argument, write_file, Context, Outcome, ROOT_KEY_FILE, VERIFIER_DB,
};
use crate::error::{Error, Result};
use crate::output::{time, verdict_json, verdict_lines};
use crate::qr_image::decode_png;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the verifier, pinning the authority's root public key.
    Init {
        /// The root public key, as printed by `authority root-key`.
        #[arg(long, value_name = "HEX", value_parser = parse_key)]
        root_key: [u8; 32],
    },
    /// Take newer signed lists (what a shop does while it is online).
    Update {
        #[arg(long, value_name = "FILE")]
        trust_list: PathBuf,
        #[arg(long, value_name = "FILE")]
        revocation_list: Option<PathBuf>,
        /// The signed rules list: what a pass must show, by date and venue mode.
        #[arg(long, value_name = "FILE")]
        rules_list: Option<PathBuf>,
    },
    /// Show the shop's venue mode and the modes of the rules in force, or pick one (kept across
    /// restarts; it must be a mode of the rules held).
    Mode {
        /// The mode to pick, e.g. restaurant_cafe.
        name: Option<String>,
    },
    /// Take newer signed lists from an issuer service (conditional requests: an unchanged list
    /// costs a 304). A busy server is retried after its Retry-After, with jittered backoff.
    Sync {
        /// The issuer service (or the CDN in front of it), e.g. http://127.0.0.1:8080.
        #[arg(long, value_name = "URL")]
        server: String,
    },
    /// Verify a QR text or a QR code in a PNG, offline. Exit code 1 if not valid.
    Verify(VerifyInput),
    /// Show how current the lists are, the check log's state and today's counters.
    Status,
    /// Export the verdicts given in a time range as a report signed by the shop key.
    Report {
        /// Start of the range (RFC 3339).
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        from: DateTime<Utc>,
        /// End of the range (RFC 3339), included.
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        to: DateTime<Utc>,
        /// Where to write it.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Sign the check log's head and post it to the issuer service (or write it to a file), so
    /// that cutting entries later is detected.
    Anchor {
        /// The issuer service, e.g. http://127.0.0.1:8080.
        #[arg(long, value_name = "URL", required_unless_present = "out")]
        server: Option<String>,
        /// Also write the signed anchor here.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// What to verify: exactly one of a text or an image.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct VerifyInput {
    /// The QR text ("-" reads standard input); quote it, it may contain spaces.
    text: Option<String>,
    /// A PNG holding the QR code, decoded from its pixels.
    #[arg(long, value_name = "PNG")]
    image: Option<PathBuf>,
}

pub fn run(ctx: &Context, command: Command) -> Result<Outcome> {
    let now = ctx.now();
    match command {
        Command::Init { root_key } => {
            let path = ctx.fresh(VERIFIER_DB, "verifier")?;
            write_file(
                &ctx.path(ROOT_KEY_FILE),
                format!("{}\n", hex(&root_key)).as_bytes(),
            )?;
            Verifier::open(path, root_key, VerifierConfig::default())?;
            ctx.out.line(format_args!(
                "created verifier in {} pinning root key {}",
                ctx.dir.display(),
                hex(&root_key)
            ));
            ctx.out.json(json!({ "root_public_key": hex(&root_key) }));
        }
        Command::Update {
            trust_list,
            revocation_list,
            rules_list,
        } => {
            let verifier = ctx.open_verifier()?;
            let trust = verifier.apply_trust_list(&read_file(&trust_list)?, now)?;
            ctx.out
                .line(format_args!("trust list: {}", applied_text(trust)));
            let revocation = match revocation_list {
                Some(path) => Some(verifier.apply_revocation_list(&read_file(&path)?, now)?),
                None => None,
            };
            if let Some(applied) = revocation {
                ctx.out
                    .line(format_args!("revocation list: {}", applied_text(applied)));
            }
            let rules = match rules_list {
                Some(path) => Some(verifier.apply_rules_list(&read_file(&path)?, now)?),
                None => None,
            };
            if let Some(applied) = rules {
                ctx.out
                    .line(format_args!("rules list: {}", applied_text(applied)));
            }
            ctx.out.json(json!({
                "trust_list": applied_json(trust),
                "revocation_list": revocation.map(applied_json),
                "rules_list": rules.map(applied_json),
            }));
        }
        Command::Mode { name } => {
            let verifier = ctx.open_verifier()?;
            if let Some(name) = name {
                verifier.set_venue_mode(&name)?;
            }
            let picked = verifier.venue_mode();
            let modes = verifier.venue_modes(now);
            ctx.out.line(format_args!(
                "venue mode: {}",
                picked
                    .as_deref()
                    .unwrap_or("(not picked: the rule set's first)")
            ));
            ctx.out
                .line(format_args!("modes in force: {}", modes.join(", ")));
            ctx.out
                .json(json!({ "venue_mode": picked, "modes": modes }));
        }
        Command::Sync { server } => {
            let verifier = ctx.open_verifier()?;
            let server = Server::new(&server)?;
            let mut report = serde_json::Map::new();
            for kind in [ListKind::Trust, ListKind::Revocation, ListKind::Rules] {
                let name = match kind {
                    ListKind::Trust => "trust list",
                    ListKind::Revocation => "revocation list",
                    ListKind::Rules => "rules list",
                };
                let mut backoff = Backoff::default();
                let fetched = loop {
                    let etag = verifier.list_etag(kind)?;
                    let answer = server.get(kind.path(), etag.as_deref())?;
                    if kind == ListKind::Rules && answer.status == 404 {
                        break None;
                    }
                    let response = HttpResponse {
                        status: answer.status,
                        etag: answer.etag.as_deref(),
                        retry_after: answer.retry_after.as_deref(),
                        body: &answer.body,
                    };
                    match verifier.apply_fetched(kind, response, &mut backoff, now)? {
                        Fetched::RetryAfter(delay) if backoff.failures() < LIST_ATTEMPTS => {
                            ctx.out.line(format_args!(
                                "{name}: server busy, retrying in {}s",
                                delay.num_seconds()
                            ));
                            wait(delay);
                        }
                        Fetched::RetryAfter(_) => return Err(answer.error(name)),
                        done => break Some(done),
                    }
                };
                let text = match fetched {
                    Some(Fetched::Applied(applied)) => applied_text(applied),
                    Some(_) => "not modified (304)".to_owned(),
                    None => "not served by this server".to_owned(),
                };
                ctx.out.line(format_args!("{name}: {text}"));
                report.insert(name.replace(' ', "_"), json!(text));
            }
            ctx.out.json(serde_json::Value::Object(report));
        }
        Command::Verify(input) => {
            let verifier = ctx.open_verifier()?;
            let text = match (input.text, input.image) {
                (_, Some(image)) => decode_png(&image)?.text,
                (Some(text), None) => text_argument(&text)?,
                // clap's group already requires one of them.
                (None, None) => return Err(Error::new("give a QR text or --image PNG")),
            };
            let verdict = verifier.verify(&text, now)?;
            for line in verdict_lines(&verdict) {
                ctx.out.line(line);
            }
            ctx.out.json(verdict_json(&verdict));
            return Ok(
                if verdict.is_valid() || matches!(verdict, vaxpass::Verdict::Exempt { .. }) {
                    Outcome::Success
                } else {
                    Outcome::NotValid
                },
            );
        }
        Command::Status => {
            let freshness = ctx.open_verifier()?.freshness(now);
            let state = freshness.state.code();
            ctx.out.line(format_args!("lists: {state}"));
            for (name, info) in [
                ("trust list", freshness.trust_list),
                ("revocation list", freshness.revocation_list),
                ("rules list", freshness.rules_list),
            ] {
                ctx.out.line(match info {
                    Some(i) => format!(
                        "{name}: #{}, issued {}, next update {}",
                        i.sequence,
                        time(i.issued_at),
                        time(i.next_update)
                    ),
                    None => format!("{name}: none"),
                });
            }
            let verifier = ctx.open_verifier()?;
            let log = verifier.check_log_status()?;
            let head = verifier.check_log_head()?;
            let today = verifier.check_counters(now)?.today;
            let shop_key = hex(&verifier.shop_public_key()?);
            ctx.out.line(format_args!(
                "check log: {} ({} entries), shop key {shop_key}",
                log.code(),
                head.count
            ));
            ctx.out.line(format_args!(
                "today: {} scans, {} valid, {} refused",
                today.scans, today.valid, today.refused
            ));
            ctx.out.json(json!({
                "state": state,
                "trust_list": freshness.trust_list.map(list_json),
                "revocation_list": freshness.revocation_list.map(list_json),
                "rules_list": freshness.rules_list.map(list_json),
                "check_log": { "state": log.code(), "count": head.count, "shop_key": shop_key },
                "today": { "scans": today.scans, "valid": today.valid, "refused": today.refused },
            }));
        }
        Command::Report { from, to, out } => {
            let report = ctx.open_verifier()?.export_report(from, to, now)?;
            write_file(&out, &report)?;
            ctx.out.line(format_args!(
                "wrote {} ({} bytes)",
                out.display(),
                report.len()
            ));
            ctx.out
                .json(json!({ "file": out.display().to_string(), "bytes": report.len() }));
        }
        Command::Anchor { server, out } => {
            let verifier = ctx.open_verifier()?;
            let anchor = verifier.anchor(now)?;
            let count = verifier.check_log_head()?.count;
            if let Some(out) = &out {
                write_file(out, &anchor)?;
            }
            if let Some(server) = server {
                let answer =
                    Server::new(&server)?.post("/v1/anchors", "application/cbor", &anchor)?;
                if answer.status != 200 {
                    return Err(answer.error("anchor"));
                }
            }
            ctx.out.line(format_args!("anchored {count} entries"));
            ctx.out.json(json!({ "count": count }));
        }
    }
    Ok(Outcome::Success)
}

fn applied_text(applied: Applied) -> String {
    match applied {
        Applied::Updated { sequence } => format!("updated to #{sequence}"),
        Applied::Unchanged => "unchanged (already held)".to_owned(),
    }
}

fn applied_json(applied: Applied) -> Value {
    match applied {
        Applied::Updated { sequence } => json!({ "updated": true, "sequence": sequence }),
        Applied::Unchanged => json!({ "updated": false }),
    }
}

fn list_json(info: ListInfo) -> Value {
    json!({
        "sequence": info.sequence,
        "issued_at": time(info.issued_at),
        "next_update": time(info.next_update),
    })
}
