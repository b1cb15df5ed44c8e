//! `vaxpass wallet ...`: the citizen's phone. It holds the device key, makes the enrolment request,
//! imports issued credentials and shows a pass as a rotating QR code (or a paper one).

use std::path::PathBuf;

use crate::http::Server;
use clap::Subcommand;
use serde_json::json;
use vaxpass::enrolment::{oidc_identity_proof, oidc_nonce};
use vaxpass::enrolment_code::{identity_proof, EnrolmentCode};
use vaxpass::keys::hex;
use vaxpass::ListKind;
use vaxpass::{CredentialId, DeviceKeySource, PassSummary, TrustList, Wallet};

use crate::cli::{parse_hex, parse_id, parse_key, HexBytes};
use crate::context::{
    read_file, write_file, Context, Outcome, OIDC_NONCE_FILE, REQUEST_FILE, WALLET_DB,
};
use crate::error::{Error, Result};
use crate::output::time;
use crate::qr_image::MODULE_PIXELS;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the wallet and its device key.
    Init,
    /// Build an enrolment request over the authority's nonce, signed by the device key.
    EnrolRequest {
        /// The nonce the authority handed out, as hex (16 to 64 bytes).
        #[arg(long, value_name = "HEX", value_parser = parse_hex)]
        nonce: HexBytes,
        /// The identity service's proof (opaque to vaxpass).
        #[arg(long, value_name = "TEXT")]
        identity_proof: String,
        /// Where to write the request [default: DIR/enrolment-request.cbor].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Start an enrolment with OpenID Connect: fetch a nonce from the issuer service, keep it in
    /// DIR, and print the `nonce` to put in the authorization request (bound to this enrolment
    /// nonce and this wallet's device key). Then log in and `enrol --oidc-token-file`.
    OidcNonce {
        /// The issuer service, e.g. http://127.0.0.1:8080.
        #[arg(long, value_name = "URL")]
        server: String,
    },
    /// Enrol online with an issuer service: nonce, signed request, import of the issued passes
    /// after checking them against the service's trust list.
    Enrol {
        /// The issuer service, e.g. http://127.0.0.1:8080.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The enrolment code the authority gave you, e.g. 7K3M-Q9X2-ABCD-EFG0 (checked for
        /// typos before anything is sent).
        #[arg(
            long,
            value_name = "CODE",
            required_unless_present = "oidc_token_file",
            requires = "birth_date"
        )]
        code: Option<String>,
        /// Your date of birth, YYYY-MM-DD: the code is accepted only together with it.
        #[arg(long, value_name = "DATE", requires = "code")]
        birth_date: Option<String>,
        /// Instead of a code: a file with the ID token the identity provider issued for the
        /// nonce `oidc-nonce` printed (the enrolment nonce it kept is used, once).
        #[arg(long, value_name = "FILE", conflicts_with = "code")]
        oidc_token_file: Option<PathBuf>,
        /// The authority's root public key (hex) [default: DIR/root-key.hex].
        #[arg(long, value_name = "HEX", value_parser = parse_key)]
        root_key: Option<[u8; 32]>,
    },
    /// Import the credentials the authority issued.
    Import {
        /// The issued bundle written by `authority issue`.
        file: PathBuf,
        /// Also check each credential against this signed trust list, as a verifier would.
        #[arg(long, value_name = "FILE", requires = "root_key")]
        trust_list: Option<PathBuf>,
        /// The authority's root public key (hex) that the trust list must verify against.
        #[arg(long, value_name = "HEX", value_parser = parse_key, requires = "trust_list")]
        root_key: Option<[u8; 32]>,
    },
    /// List the passes in the wallet.
    List,
    /// Show a pass as a rotating QR code signed now (in the terminal unless --text).
    Show {
        /// The pass id [default: the first pass].
        #[arg(value_parser = parse_id)]
        id: Option<CredentialId>,
        /// Also write the QR code as a PNG.
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
        /// Also write the QR code as an SVG.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Print only the QR text.
        #[arg(long)]
        text: bool,
        /// Show the bare credential for printing (no device signature: the shop checks an ID).
        #[arg(long)]
        paper: bool,
    },
    /// Remove a pass.
    Remove {
        #[arg(value_parser = parse_id)]
        id: CredentialId,
    },
}

pub fn run(ctx: &Context, command: Command) -> Result<Outcome> {
    let now = ctx.now();
    match command {
        Command::Init => {
            let wallet = Wallet::open(ctx.fresh(WALLET_DB, "wallet")?, DeviceKeySource::default())?;
            let key = wallet.device_key();
            ctx.out.line(format_args!(
                "created wallet in {} with device key {} {}",
                ctx.dir.display(),
                key.algorithm(),
                hex(&key.kid())
            ));
            ctx.out.json(json!({
                "device_key": { "alg": key.algorithm(), "kid": hex(&key.kid()) },
            }));
        }
        Command::EnrolRequest {
            nonce,
            identity_proof,
            out,
        } => {
            let request = ctx
                .open_wallet()?
                .enrolment_request(&nonce.0, identity_proof.as_bytes())?;
            let out = out.unwrap_or_else(|| ctx.path(REQUEST_FILE));
            write_file(&out, &request)?;
            ctx.out.line(format_args!(
                "wrote enrolment request ({} bytes) to {}",
                request.len(),
                out.display()
            ));
            ctx.out
                .json(json!({ "out": out.display().to_string(), "bytes": request.len() }));
        }
        Command::OidcNonce { server } => {
            let wallet = ctx.open_wallet()?;
            let nonce = Server::new(&server)?.post(
                "/v1/enrolment/nonce",
                "application/octet-stream",
                &[],
            )?;
            if nonce.status != 200 {
                return Err(nonce.error("the server refused a nonce"));
            }
            write_file(&ctx.path(OIDC_NONCE_FILE), hex(&nonce.body).as_bytes())?;
            let oidc = oidc_nonce(&nonce.body, wallet.device_key());
            ctx.out.line(format_args!(
                "log in at the identity provider with nonce={oidc}, then run \
                 `vaxpass wallet enrol --oidc-token-file FILE` within 5 minutes"
            ));
            ctx.out.json(json!({ "oidc_nonce": oidc }));
        }
        Command::Enrol {
            server,
            code,
            birth_date,
            oidc_token_file,
            root_key,
        } => {
            let wallet = ctx.open_wallet()?;
            let root = match root_key {
                Some(key) => key,
                None => ctx.root_key()?,
            };
            let server = Server::new(&server)?;
            let (nonce, proof) = match (code, birth_date, oidc_token_file) {
                (_, _, Some(token_file)) => {
                    let token = String::from_utf8(read_file(&token_file)?)
                        .map_err(|_| Error::new("the ID token file is not text"))?;
                    let kept = ctx.path(OIDC_NONCE_FILE);
                    let no_nonce = || {
                        Error::new(
                            "no enrolment nonce kept: run `vaxpass wallet oidc-nonce` and log in \
                             again (a nonce is used once)",
                        )
                    };
                    let text = std::fs::read_to_string(&kept).map_err(|_| no_nonce())?;
                    let nonce = parse_hex(&text).map_err(|_| no_nonce())?;
                    // A nonce is used once, whatever the answer.
                    std::fs::remove_file(&kept)
                        .map_err(|e| Error::new(format!("removing {}: {e}", kept.display())))?;
                    (nonce.0, oidc_identity_proof(&token))
                }
                (Some(code), Some(birth_date), None) => {
                    // Typos are caught here, before any request.
                    let code = EnrolmentCode::parse(&code)?;
                    let born = chrono::NaiveDate::parse_from_str(birth_date.trim(), "%Y-%m-%d")
                        .map_err(|_| Error::new("the date of birth is written YYYY-MM-DD"))?;
                    let nonce =
                        server.post("/v1/enrolment/nonce", "application/octet-stream", &[])?;
                    if nonce.status != 200 {
                        return Err(nonce.error("the server refused a nonce"));
                    }
                    (nonce.body, identity_proof(&code, born))
                }
                _ => {
                    return Err(Error::new(
                        "enrol with --code and --birth-date, or with --oidc-token-file",
                    ))
                }
            };
            let request = wallet.enrolment_request(&nonce, &proof)?;
            let issued = server.post("/v1/enrolment", "application/cbor", &request)?;
            if issued.status != 200 {
                return Err(issued.error("enrolment refused"));
            }
            let trust = server.get(ListKind::Trust.path(), None)?;
            if trust.status != 200 {
                return Err(trust.error("no trust list"));
            }
            let trust = TrustList::verify(&trust.body, &root)?;
            let imported = wallet.import(&issued.body, Some(&trust), now)?;
            for pass in &imported {
                ctx.out.line(format_args!("enrolled: {}", describe(pass)));
            }
            ctx.out
                .json(json!({ "imported": imported.iter().map(pass_json).collect::<Vec<_>>() }));
        }
        Command::Import {
            file,
            trust_list,
            root_key,
        } => {
            let wallet = ctx.open_wallet()?;
            let trust = match (trust_list, root_key) {
                (Some(path), Some(root)) => Some(TrustList::verify(&read_file(&path)?, &root)?),
                _ => None,
            };
            let imported = wallet.import(&read_file(&file)?, trust.as_ref(), now)?;
            for pass in &imported {
                ctx.out.line(format_args!("imported {}", describe(pass)));
            }
            if trust.is_none() {
                ctx.out.line(
                    "note: not checked against a trust list (use --trust-list and --root-key)",
                );
            }
            ctx.out.json(json!({
                "imported": imported.iter().map(pass_json).collect::<Vec<_>>(),
                "checked_against_trust_list": trust.is_some(),
            }));
        }
        Command::List => {
            let passes = ctx.open_wallet()?.passes()?;
            if passes.is_empty() {
                ctx.out.line("no passes");
            }
            for pass in &passes {
                ctx.out.line(describe(pass));
            }
            ctx.out.json(json!({
                "passes": passes.iter().map(pass_json).collect::<Vec<_>>(),
            }));
        }
        Command::Show {
            id,
            png,
            svg,
            text,
            paper,
        } => {
            let wallet = ctx.open_wallet()?;
            let id = match id {
                Some(id) => id,
                None => wallet
                    .passes()?
                    .first()
                    .map(|p| p.id)
                    .ok_or_else(|| Error::new("the wallet has no passes"))?,
            };
            let shown = if paper {
                wallet.paper(&id)?
            } else {
                wallet.presentation(&id, now)?
            };
            if let Some(path) = &png {
                write_file(path, &shown.qr.to_png(MODULE_PIXELS)?)?;
            }
            if let Some(path) = &svg {
                write_file(path, shown.qr.to_svg(MODULE_PIXELS).as_bytes())?;
            }
            let ecc = shown.qr.ec_level().to_string();
            if text {
                ctx.out.line(&shown.text);
            } else {
                ctx.out.line(shown.qr.to_terminal());
                ctx.out.line(format_args!(
                    "QR: {} characters, version {} at ECC {ecc}",
                    shown.text.len(),
                    shown.qr.version()
                ));
                match shown.refresh_at {
                    Some(at) => ctx.out.line(format_args!(
                        "pass {id}, shown at {}; show a fresh code after {}",
                        time(now),
                        time(at)
                    )),
                    None => ctx.out.line(format_args!(
                        "paper pass {id}: the shop must check an ID document"
                    )),
                }
                for path in png.iter().chain(&svg) {
                    ctx.out.line(format_args!("wrote {}", path.display()));
                }
            }
            ctx.out.json(json!({
                "id": id.to_string(),
                "text": shown.text,
                "characters": shown.text.len(),
                "qr_version": shown.qr.version(),
                "ecc": ecc,
                "shown_at": (!paper).then(|| time(now)),
                "refresh_at": shown.refresh_at.map(time),
                "id_check_required": shown.id_check_required,
                "png": png.map(|p| p.display().to_string()),
                "svg": svg.map(|p| p.display().to_string()),
            }));
        }
        Command::Remove { id } => {
            if !ctx.open_wallet()?.remove(&id)? {
                return Err(Error::new(format!("no pass {id} in the wallet")));
            }
            ctx.out.line(format_args!("removed {id}"));
            ctx.out.json(json!({ "removed": id.to_string() }));
        }
    }
    Ok(Outcome::Success)
}

fn describe(pass: &PassSummary) -> String {
    format!(
        "{} {} pass: {}, born {}, valid {} to {}",
        pass.id,
        pass.kind.as_str(),
        pass.holder_name,
        pass.date_of_birth,
        time(pass.valid_from),
        time(pass.valid_until)
    )
}

fn pass_json(pass: &PassSummary) -> serde_json::Value {
    json!({
        "id": pass.id.to_string(),
        "kind": pass.kind.as_str(),
        "name": pass.holder_name,
        "date_of_birth": pass.date_of_birth.to_string(),
        "valid_from": time(pass.valid_from),
        "valid_until": time(pass.valid_until),
    })
}
