//! What every command gets: the working directory and its well-known files, the clock, the output
//! mode, and helpers to open each role's store and to read and write files with clear errors.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

use vaxpass::{
    DeviceKeySource, EnrolmentRequest, Issued, PassData, Verifier, VerifierConfig, Wallet,
};
use vaxpass_issuer::authority::{open_vault, ServiceAuthority};
use vaxpass_issuer::config::StoreUrl;
use vaxpass_issuer::ops;
use vaxpass_issuer::store::{self, ListKind, Store};

use crate::cli::parse_key;
use crate::error::{Error, Result};
use crate::output::Output;

/// The authority's store of record: the issuer service's SQLite store.
pub const AUTHORITY_STORE: &str = "issuer.sqlite";
/// The vault of the authority's private keys.
pub const AUTHORITY_KEY_FILE: &str = "authority.keys";
pub const WALLET_DB: &str = "wallet.sqlite";
pub const VERIFIER_DB: &str = "verifier.sqlite";
/// The verifier's pinned root public key, as hex: `Verifier::open` needs it every time.
pub const ROOT_KEY_FILE: &str = "root-key.hex";
pub const TRUST_LIST_FILE: &str = "trust-list.cbor";
pub const REVOCATION_LIST_FILE: &str = "revocation-list.cbor";
/// Where `authority rules-list` writes by default.
pub const RULES_LIST_FILE: &str = "rules-list.cbor";
pub const REQUEST_FILE: &str = "enrolment-request.cbor";
/// The enrolment nonce `wallet oidc-nonce` fetched, until `wallet enrol` uses it.
pub const OIDC_NONCE_FILE: &str = "enrolment-nonce.hex";
pub const ISSUED_FILE: &str = "issued.cbor";

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit code 0.
    Success,
    /// Exit code 1: a pass was judged not valid.
    NotValid,
}

/// The global options, resolved.
#[derive(Debug)]
pub struct Context {
    pub dir: PathBuf,
    /// The `--now` override, if any.
    pub fixed_now: Option<DateTime<Utc>>,
    pub out: Output,
}

impl Context {
    pub fn new(dir: PathBuf, fixed_now: Option<DateTime<Utc>>, json: bool) -> Self {
        Self {
            dir,
            fixed_now,
            out: Output::new(json),
        }
    }

    /// `--now` if given, else the wall clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.fixed_now.unwrap_or_else(Utc::now)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The path of a role's store, which must already exist: opening a missing SQLite file would
    /// silently create an empty one.
    fn existing(&self, name: &str, role: &str) -> Result<PathBuf> {
        let path = self.path(name);
        if path.exists() {
            Ok(path)
        } else {
            Err(Error::new(format!(
                "no {role} in {} (run `vaxpass {role} init` first)",
                self.dir.display()
            )))
        }
    }

    /// Refuses to `init` over an existing store.
    pub fn fresh(&self, name: &str, role: &str) -> Result<PathBuf> {
        let path = self.path(name);
        if path.exists() {
            Err(Error::new(format!(
                "a {role} already exists in {}",
                self.dir.display()
            )))
        } else {
            Ok(path)
        }
    }

    /// The authority's store of record (the issuer service's store, in DIR) and the authority
    /// it holds, signing through the key file beside it. A service started with `--store
    /// sqlite:DIR/issuer.sqlite --key-file DIR/authority.keys` shares both.
    pub fn open_authority(&self) -> Result<Authority> {
        self.existing(AUTHORITY_STORE, "authority")?;
        Authority::open(&self.dir)
    }

    pub fn open_wallet(&self) -> Result<Wallet> {
        Ok(Wallet::open(
            self.existing(WALLET_DB, "wallet")?,
            DeviceKeySource::default(),
        )?)
    }

    pub fn open_verifier(&self) -> Result<Verifier> {
        let path = self.existing(VERIFIER_DB, "verifier")?;
        Ok(Verifier::open(
            path,
            self.root_key()?,
            VerifierConfig::default(),
        )?)
    }

    /// The pinned root public key from DIR/root-key.hex.
    pub fn root_key(&self) -> Result<[u8; 32]> {
        let key_path = self.path(ROOT_KEY_FILE);
        let text = fs::read_to_string(&key_path).map_err(|e| Error::file(&key_path, e))?;
        parse_key(&text).map_err(|e| Error::file(&key_path, e))
    }
}

/// The authority's store and signer, with the runtime their calls need.
pub struct Authority {
    pub runtime: tokio::runtime::Runtime,
    pub store: Arc<dyn Store>,
    pub authority: Arc<ServiceAuthority>,
}

impl Authority {
    /// Creates the authority in `dir` (its store and key file): a fresh root key and a first
    /// issuer key valid from `now`.
    pub fn create(dir: &Path, issuer: &str, now: DateTime<Utc>) -> Result<Self> {
        Self::in_dir(dir, Some((issuer, now)))
    }

    /// The authority in `dir`: its store of record (the issuer service's store) and the key
    /// file beside it. A service started with `--store sqlite:DIR/issuer.sqlite --key-file
    /// DIR/authority.keys` shares both.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::in_dir(dir, None)
    }

    /// Opens the store and the key file in `dir`; with `create`, makes the authority first.
    fn in_dir(dir: &Path, create: Option<(&str, DateTime<Utc>)>) -> Result<Self> {
        let runtime = runtime()?;
        let (store, authority) = runtime.block_on(async {
            let store = store::open(&StoreUrl::Sqlite(dir.join(AUTHORITY_STORE))).await?;
            let vault = open_vault(&dir.join(AUTHORITY_KEY_FILE), None, create.is_some())?;
            let authority = match create {
                Some((issuer, now)) => {
                    ServiceAuthority::init(store.clone(), vault, issuer, now)
                        .await?
                        .0
                }
                None => ServiceAuthority::open(store.clone(), vault).await?,
            };
            Ok::<_, Error>((store, authority))
        })?;
        Ok(Self {
            runtime,
            store,
            authority: Arc::new(authority),
        })
    }

    /// Publishes both lists in the store (as the service's `publish` does: the store allocates
    /// their sequence numbers) and returns them: the trust list, then the revocation list.
    pub fn publish(&self, now: DateTime<Utc>, valid_for: Duration) -> Result<(Vec<u8>, Vec<u8>)> {
        let store = self.store.as_ref();
        let [trust, revocation] = self.runtime.block_on(async {
            ops::publish_at(&self.authority, store, now, valid_for).await?;
            let trust = store.published(ListKind::Trust).await?;
            let revocation = store.published(ListKind::Revocation).await?;
            Ok::<_, Error>([trust, revocation])
        })?;
        let missing = || Error::new("no list was published");
        Ok((
            trust.ok_or_else(missing)?.bytes,
            revocation.ok_or_else(missing)?.bytes,
        ))
    }

    /// Issues `pass` to the device of a checked enrolment request ([`ops::issue_in_person`]),
    /// valid from `now` until `expires`.
    pub fn issue(
        &self,
        request: &EnrolmentRequest,
        pass: &PassData,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<Issued> {
        Ok(self.runtime.block_on(ops::issue_in_person(
            &self.authority,
            self.store.as_ref(),
            request,
            pass,
            now,
            expires,
            now,
        ))?)
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the runtime: {e}")))
}

pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::file(path, format!("cannot read: {e}")))
}

pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).map_err(|e| Error::file(path, format!("cannot write: {e}")))
}

/// A QR text from the command line, or from standard input when it is `-`.
pub fn text_argument(text: &str) -> Result<String> {
    if text != "-" {
        return Ok(text.to_owned());
    }
    let mut input = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut input)
        .map_err(|e| Error::new(format!("cannot read standard input: {e}")))?;
    Ok(input)
}
