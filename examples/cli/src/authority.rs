//! `vaxpass authority ...`: the health authority's side. It creates the root and issuer keys,
//! verifies enrolment requests and issues credentials, revokes, rotates, and signs the lists, on
//! the issuer service's own store of record (DIR/issuer.sqlite, keys in DIR/authority.keys), so
//! what it does and what a service on the same files does are one history.

use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::{Args, Subcommand};
use serde_json::json;
use vaxpass::enrolment::encode_issued;
use vaxpass::keys::hex;
use vaxpass::{
    CredentialId, EnrolmentRequest, Event, IssuerKey, PassData, Person, Recovery, RevocationList,
    TestOutcome, TestResult, TestType, TrustList, Vaccination,
};
use vaxpass_issuer::store::{ListKind, Revoked};

use crate::cli::{parse_date, parse_hex, parse_id, parse_time, HexBytes};
use crate::context::{
    read_file, write_file, Authority, Context, Outcome, AUTHORITY_STORE, ISSUED_FILE,
    REVOCATION_LIST_FILE, RULES_LIST_FILE, TRUST_LIST_FILE,
};
use crate::error::{Error, Result};
use crate::output::{describe_event, event_json, time};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the authority: a fresh root key and a first issuer key, valid from now.
    Init {
        /// The authority's name, carried in every credential as `iss`.
        #[arg(long, default_value = "KR")]
        issuer: String,
    },
    /// Verify a wallet's enrolment request and issue a credential bound to its device key.
    Issue(IssueArgs),
    /// Sign a new trust list (the issuer keys) for verifiers and wallets.
    TrustList(ListArgs),
    /// Sign a new revocation list.
    RevocationList(ListArgs),
    /// Sign a new rules list [default out: DIR/rules-list.cbor]: the Korean rules of early 2022
    /// in force on any date, numbered by the second it is signed in.
    RulesList(ListArgs),
    /// Revoke a credential; it appears on the next revocation list.
    Revoke {
        /// The credential id, 12 hex digits.
        #[arg(value_parser = parse_id)]
        id: CredentialId,
    },
    /// Retire the active issuer key and make a new one (publish a new trust list afterwards).
    RotateKey,
    /// Print the root public key that verifiers pin, as hex.
    RootKey,
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The holder's name, as written in their script (e.g. 김민준).
    #[arg(long)]
    name: String,
    /// The holder's date of birth, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    birth: NaiveDate,
    /// A vaccine dose, e.g. Comirnaty:3/2:2021-12-01 (dose 3 of a 2-dose series: a booster).
    #[arg(long = "dose", value_name = "PRODUCT:N/M:YYYY-MM-DD", value_parser = parse_dose)]
    doses: Vec<Vaccination>,
    /// A negative PCR test, by the time the sample was taken.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pcr: Option<DateTime<Utc>>,
    /// A recovery, by the date of the first positive test.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    recovery: Option<NaiveDate>,
    /// The enrolment request file the wallet wrote.
    #[arg(long, value_name = "FILE")]
    request: PathBuf,
    /// The nonce this authority handed to the wallet, as hex.
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    nonce: HexBytes,
    /// Days the credential is valid from now.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=730))]
    valid_days: u32,
    /// Where to write the issued bundle for `wallet import` [default: DIR/issued.cbor].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Where to write the signed list [default: DIR/trust-list.cbor or DIR/revocation-list.cbor].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Hours until the list's next update.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=8784))]
    valid_hours: u32,
}

pub fn run(ctx: &Context, command: Command) -> Result<Outcome> {
    let now = ctx.now();
    match command {
        Command::Init { issuer } => {
            ctx.fresh(AUTHORITY_STORE, "authority")?;
            let created = Authority::create(&ctx.dir, &issuer, now)?;
            let authority = &created.authority;
            let keys = created.runtime.block_on(authority.listed_keys())?;
            let root = hex(&authority.root_public_key());
            ctx.out.line(format_args!(
                "created authority {:?} in {}",
                authority.signer().issuer(),
                ctx.dir.display()
            ));
            ctx.out.line(format_args!("root public key: {root}"));
            for key in &keys {
                ctx.out.line(format_args!(
                    "issuer key {}: signs from {} to {}",
                    hex(&key.kid),
                    time(key.not_before),
                    time(key.not_after)
                ));
            }
            ctx.out.json(json!({
                "issuer": authority.signer().issuer(),
                "root_public_key": root,
                "issuer_keys": keys.iter().map(key_json).collect::<Vec<_>>(),
            }));
        }
        Command::Issue(args) => issue(ctx, args, now)?,
        Command::TrustList(args) => {
            let (bytes, root) = publish(ctx, ListKind::Trust, args.valid_hours)?;
            let out = args.out.unwrap_or_else(|| ctx.path(TRUST_LIST_FILE));
            write_file(&out, &bytes)?;
            let list = TrustList::verify(&bytes, &root)?;
            ctx.out.line(format_args!(
                "wrote trust list #{} (issuer keys: {}, next update {}) to {}",
                list.sequence,
                list.keys.len(),
                time(list.next_update),
                out.display()
            ));
            ctx.out.json(json!({
                "out": out.display().to_string(),
                "sequence": list.sequence,
                "issuer": list.issuer,
                "issued_at": time(list.issued_at),
                "next_update": time(list.next_update),
                "issuer_keys": list.keys.iter().map(key_json).collect::<Vec<_>>(),
            }));
        }
        Command::RevocationList(args) => {
            let (bytes, root) = publish(ctx, ListKind::Revocation, args.valid_hours)?;
            let out = args.out.unwrap_or_else(|| ctx.path(REVOCATION_LIST_FILE));
            write_file(&out, &bytes)?;
            let list = RevocationList::verify(&bytes, &root)?;
            ctx.out.line(format_args!(
                "wrote revocation list #{} (revoked: {}, next update {}) to {}",
                list.sequence,
                list.len(),
                time(list.next_update),
                out.display()
            ));
            ctx.out.json(json!({
                "out": out.display().to_string(),
                "sequence": list.sequence,
                "issued_at": time(list.issued_at),
                "next_update": time(list.next_update),
                "revoked": list.len(),
            }));
        }
        Command::RulesList(args) => {
            let authority = ctx.open_authority()?;
            let bytes = authority.authority.signer().sign_rules_list(
                now.timestamp().unsigned_abs(),
                vec![vaxpass::RuleSet::korea_2022_standing()],
                now,
                Duration::hours(args.valid_hours.into()),
            )?;
            let out = args.out.unwrap_or_else(|| ctx.path(RULES_LIST_FILE));
            write_file(&out, &bytes)?;
            let list = vaxpass::RulesList::verify(&bytes, &authority.authority.root_public_key())?;
            ctx.out.line(format_args!(
                "wrote rules list #{} (rule sets: {}, next update {}) to {}",
                list.sequence,
                list.rule_sets.len(),
                time(list.next_update),
                out.display()
            ));
            ctx.out.json(json!({
                "out": out.display().to_string(),
                "sequence": list.sequence,
                "issued_at": time(list.issued_at),
                "next_update": time(list.next_update),
                "rule_sets": list.rule_sets.len(),
            }));
        }
        Command::Revoke { id } => {
            let authority = ctx.open_authority()?;
            match authority
                .runtime
                .block_on(authority.store.revoke(id, now))?
            {
                Revoked::Now | Revoked::Already => {}
                Revoked::NotIssued => {
                    return Err(Error::new("this authority has not issued that credential"))
                }
            }
            ctx.out.line(format_args!(
                "revoked {id}; it appears on the next revocation list"
            ));
            ctx.out.json(json!({ "revoked": id.to_string() }));
        }
        Command::RotateKey => {
            let authority = ctx.open_authority()?;
            let kid = hex(&authority
                .runtime
                .block_on(authority.authority.rotate(now))?);
            ctx.out.line(format_args!(
                "new issuer key {kid}; publish a new trust list so verifiers accept it"
            ));
            ctx.out.json(json!({ "issuer_kid": kid }));
        }
        Command::RootKey => {
            let root = hex(&ctx.open_authority()?.authority.root_public_key());
            ctx.out.line(&root);
            ctx.out.json(json!({ "root_public_key": root }));
        }
    }
    Ok(Outcome::Success)
}

/// Publishes both lists and returns the one asked for, with the root key that signed it.
fn publish(ctx: &Context, kind: ListKind, valid_hours: u32) -> Result<(Vec<u8>, [u8; 32])> {
    let authority = ctx.open_authority()?;
    let (trust, revocation) = authority.publish(ctx.now(), Duration::hours(valid_hours.into()))?;
    let bytes = match kind {
        ListKind::Trust => trust,
        ListKind::Revocation => revocation,
    };
    Ok((bytes, authority.authority.root_public_key()))
}

fn issue(ctx: &Context, args: IssueArgs, now: DateTime<Utc>) -> Result<()> {
    let authority = ctx.open_authority()?;
    let request = EnrolmentRequest::verify_possession(&read_file(&args.request)?)?;
    request.answers(&args.nonce.0)?;
    let mut events: Vec<Event> = args.doses.into_iter().map(Event::Vaccination).collect();
    if let Some(sampled_at) = args.pcr {
        events.push(Event::Test(TestResult {
            test_type: TestType::Pcr,
            outcome: TestOutcome::Negative,
            sampled_at,
        }));
    }
    if let Some(first_positive) = args.recovery {
        events.push(Event::Recovery(Recovery { first_positive }));
    }
    let pass = PassData {
        person: Person {
            name: args.name,
            date_of_birth: args.birth,
        },
        events,
    };
    pass.validate()?;
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let expires = now + Duration::days(args.valid_days.into());
    let issued = authority.issue(&request, &pass, now, expires)?;
    let out = args.out.unwrap_or_else(|| ctx.path(ISSUED_FILE));
    write_file(&out, &encode_issued(&[issued.bytes])?)?;

    let device = &request.device_key;
    ctx.out.line(format_args!(
        "enrolment request verified: device key {} {}",
        device.algorithm(),
        hex(&device.kid())
    ));
    ctx.out.line(format_args!(
        "issued credential {} to {} (born {}), valid {} to {}",
        issued.id,
        pass.person.name,
        pass.person.date_of_birth,
        time(now),
        time(expires)
    ));
    for event in &pass.events {
        ctx.out.line(format_args!("  {}", describe_event(event)));
    }
    ctx.out.line(format_args!("wrote {}", out.display()));
    ctx.out.json(json!({
        "id": issued.id.to_string(),
        "device_key": { "alg": device.algorithm(), "kid": hex(&device.kid()) },
        "not_before": time(now),
        "expires": time(expires),
        "events": pass.events.iter().map(event_json).collect::<Vec<_>>(),
        "out": out.display().to_string(),
    }));
    Ok(())
}

fn key_json(key: &IssuerKey) -> serde_json::Value {
    json!({
        "kid": hex(&key.kid),
        "not_before": time(key.not_before),
        "not_after": time(key.not_after),
        "revoked_after": key.revoked_after.map(time),
        "expires_by": time(key.expires_by),
    })
}

/// Parses `PRODUCT:N/M:YYYY-MM-DD` with the core's one parser of event texts.
fn parse_dose(text: &str) -> Result<Vaccination, String> {
    match vaxpass::model::parse_event(text) {
        Ok(Event::Vaccination(dose)) => Ok(dose),
        Ok(_) => Err("expected PRODUCT:N/M:YYYY-MM-DD, e.g. Comirnaty:1/2:2021-06-20".into()),
        Err(why) => Err(why.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vaxpass::Product;

    #[test]
    fn doses_parse_case_insensitively_and_refuse_garbage() {
        let dose = parse_dose("comirnaty:3/2:2021-12-01");
        assert!(matches!(
            dose,
            Ok(Vaccination {
                product: Product::Comirnaty,
                dose: 3,
                of: 2,
                ..
            })
        ));
        assert!(parse_dose("SKYCOVIONE:1/2:2022-09-01").is_ok());
        for bad in [
            "",
            "Comirnaty",
            "Comirnaty:1/2",
            "Foo:1/2:2021-01-01",
            "Comirnaty:0/2:2021-01-01",
            "Comirnaty:1-2:2021-01-01",
            "Comirnaty:1/2:2021-13-01",
            "Comirnaty:1/999:2021-01-01",
        ] {
            assert!(parse_dose(bad).is_err(), "{bad}");
        }
    }
}
