//! The service's state behind one trait: nonces, the registry, the audit log of issuance, revoked
//! ids and the published lists. Two backends: SQLite (embedded, one process) and PostgreSQL
//! (several stateless replicas). Keys are not here: they stay in the core `Authority`'s file, and
//! the key of the code hashes beside it.

pub mod postgres;
pub mod sqlite;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use vaxpass::keys::Kid;
use vaxpass::{CredentialId, Event, IssueRequest, Issued, PassData, Person, SigningKey};

use crate::config::StoreUrl;

/// A citizen in the registry. Opaque: not a national identity number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId(pub i64);

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Keyed hash of a one-time enrolment code and its citizen's date of birth
/// ([`crate::identity::CodeKey::hash`]); the code itself is never stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeHash(pub [u8; 32]);

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeHash(..)")
    }
}

/// Keyed hash of an OpenID Connect subject ([`crate::identity::CodeKey::hash_subject`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectHash(pub [u8; 32]);

impl fmt::Debug for SubjectHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectHash(..)")
    }
}

/// SHA-256 of a device public key: which phone used a code, without keeping the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceHash(pub [u8; 32]);

impl DeviceHash {
    pub fn of(key: &vaxpass::DevicePublicKey) -> Self {
        Self(Sha256::digest(key.as_bytes()).into())
    }
}

/// A citizen to add to the registry: one event list per pass.
#[derive(Clone)]
pub struct NewCitizen {
    pub person: Person,
    pub code: CodeHash,
    /// Who the citizen is at the identity provider, if they enrol with OpenID Connect.
    pub subject: Option<SubjectHash>,
    pub passes: Vec<Vec<Event>>,
}

impl fmt::Debug for NewCitizen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCitizen")
            .field("passes", &self.passes.len())
            .finish_non_exhaustive()
    }
}

/// What the registry knows about an enrolment code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeStatus {
    pub citizen: CitizenId,
    /// The device that used the code, if it was used.
    pub used_by: Option<DeviceHash>,
}

/// A credential signed for a batch, with the key id that signed it.
#[derive(Debug, Clone)]
pub struct SignedCredential {
    pub issued: Issued,
    pub kid: Kid,
}

/// One enrolment of a batch, signed and waiting to be recorded.
#[derive(Debug)]
pub struct Enrolment {
    pub nonce: Vec<u8>,
    pub citizen: CitizenId,
    /// The one-time code to mark used (registry-backed identity), if any.
    pub code: Option<CodeHash>,
    pub device: DeviceHash,
    pub credentials: Vec<(IssueRequest, SignedCredential)>,
}

/// One group commit: nonces to hand out, nonces used up by refused attempts, and enrolments to
/// record, in one transaction.
#[derive(Debug)]
pub struct Batch {
    pub now: DateTime<Utc>,
    pub new_nonces: Vec<(Vec<u8>, DateTime<Utc>)>,
    pub burned_nonces: Vec<Vec<u8>>,
    pub enrolments: Vec<Enrolment>,
}

/// Why one enrolment of a batch was refused; it changed nothing but use up its nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NonceUnknownOrUsed,
    CodeAlreadyUsed,
}

/// Per enrolment: the recorded credentials (after any re-signing), or why it was refused.
pub type Outcome = Result<Vec<Vec<u8>>, Refusal>;

/// Signs one request again with a fresh id, after an id collision.
pub type Resign = Arc<dyn Fn(&IssueRequest) -> Result<SignedCredential, StoreError> + Send + Sync>;

/// How many times one credential may draw a colliding id before the batch gives up.
pub const MAX_ID_ATTEMPTS: usize = 4;

/// Which signed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    Trust,
    Revocation,
}

impl ListKind {
    pub const ALL: [ListKind; 2] = [ListKind::Trust, ListKind::Revocation];

    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Trust => "trust",
            ListKind::Revocation => "revocation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A signed list as published.
#[derive(Clone, PartialEq, Eq)]
pub struct PublishedList {
    pub kind: ListKind,
    pub sequence: u64,
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes` (the HTTP ETag without its quotes).
    pub etag: String,
    pub published_at: DateTime<Utc>,
}

impl PublishedList {
    pub fn new(kind: ListKind, sequence: u64, bytes: Vec<u8>, now: DateTime<Utc>) -> Self {
        let etag = hex::encode(Sha256::digest(&bytes));
        Self {
            kind,
            sequence,
            bytes,
            etag,
            published_at: now,
        }
    }
}

impl fmt::Debug for PublishedList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishedList")
            .field("kind", &self.kind)
            .field("sequence", &self.sequence)
            .field("bytes", &self.bytes.len())
            .field("etag", &self.etag)
            .finish()
    }
}

/// Signs one publication once the store has allocated its sequence numbers:
/// `(trust sequence, revocation sequence)` to the signed `(trust list, revocation list)`.
pub type SignLists = Box<dyn FnOnce(u64, u64) -> StoreResult<(Vec<u8>, Vec<u8>)> + Send>;

/// The sequence numbers of the next publication, from the current lists' `(kind, sequence)`.
pub(crate) fn next_sequences(current: impl IntoIterator<Item = (ListKind, u64)>) -> (u64, u64) {
    let (mut trust, mut revocation) = (0, 0);
    for (kind, sequence) in current {
        match kind {
            ListKind::Trust => trust = sequence,
            ListKind::Revocation => revocation = sequence,
        }
    }
    (trust + 1, revocation + 1)
}

/// Which list is current, without its bytes (for cheap reload checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListHead {
    pub kind: ListKind,
    pub sequence: u64,
    pub etag: String,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: CredentialId,
    pub kid: Kid,
    pub issued_at: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub citizen: CitizenId,
}

/// The result of a revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Now,
    Already,
    /// Not in the audit log: this service never issued it.
    NotIssued,
}

/// Row counts, for operators and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Counts {
    pub nonces: u64,
    pub citizens: u64,
    pub codes_used: u64,
    pub issued: u64,
    pub revoked: u64,
    pub lists: u64,
}

/// The authority as every replica shares it: its name and the root public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityRecord {
    pub issuer: String,
    pub root_public_key: [u8; 32],
}

/// An issuer key as the store of record holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredIssuerKey {
    pub key: SigningKey,
    pub revoked_after: Option<DateTime<Utc>>,
    /// The one key that signs new credentials.
    pub active: bool,
}

/// Store failures. Messages name tables and constraints, never stored values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("postgres pool: {0}")]
    Pool(String),
    #[error("store schema version {found} is newer than this service supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("{0}")]
    Conflict(&'static str),
    #[error("stored data is invalid: {0}")]
    Corrupt(&'static str),
    #[error("invalid store URL: {0}")]
    Url(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("no free credential id after {MAX_ID_ATTEMPTS} draws")]
    IdSpaceExhausted,
    #[error("the issuer key that signed this batch is no longer the active one")]
    KeyRetired,
    #[error("store task failed")]
    Join,
}

/// A shop's check log anchor to keep: the shop key, the head it signed and the signed bytes.
#[derive(Debug, Clone)]
pub struct NewAnchor {
    pub shop_key: Vec<u8>,
    pub count: u64,
    pub hash: [u8; 32],
    pub signed: Vec<u8>,
    pub received_at: DateTime<Utc>,
}

/// What the store did with an anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorRecorded {
    /// Kept.
    New,
    /// The same count and hash were held already.
    AlreadyHeld,
    /// Another hash is held at this count: the shop's log was rewritten. The first one stays.
    Conflict,
}

impl AnchorRecorded {
    pub(crate) fn of(inserted: bool, held: &[u8], offered: &[u8; 32]) -> Self {
        match (inserted, held == offered) {
            (true, _) => Self::New,
            (false, true) => Self::AlreadyHeld,
            (false, false) => Self::Conflict,
        }
    }
}

/// An anchor as kept: the signed bytes and when they arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnchor {
    pub signed: Vec<u8>,
    pub received_at: DateTime<Utc>,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the service keeps besides its keys.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    /// Records one group commit in one transaction: inserts the new nonces, deletes the burned
    /// ones, then for each enrolment, alone (a savepoint or equivalent): consumes its nonce (which
    /// must exist and be unexpired), marks its code used (unused, or used by the same device),
    /// inserts its audit rows (re-signing on an id collision). A refused enrolment changes nothing
    /// but use up its nonce. The outer error means nothing at all was recorded.
    async fn record_batch(&self, batch: Batch, resign: Resign) -> StoreResult<Vec<Outcome>>;

    /// Whether `nonce` was handed out by this service and is unexpired and unused.
    async fn nonce_usable(&self, nonce: &[u8], now: DateTime<Utc>) -> StoreResult<bool>;

    /// Gives a citizen whose code was taken a new one, in one transaction: revokes every
    /// unexpired credential issued to them (the other device's among them) and replaces the code
    /// hash, unused. Returns the ids revoked now; `None` if there is no such citizen.
    async fn restore_citizen(
        &self,
        citizen: CitizenId,
        new_code: CodeHash,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<CredentialId>>>;

    /// Deletes nonces that expired unused.
    async fn sweep_nonces(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    async fn code_status(&self, code: &CodeHash) -> StoreResult<Option<CodeStatus>>;
    /// The citizen with this OpenID Connect subject.
    async fn citizen_by_subject(&self, subject: &SubjectHash) -> StoreResult<Option<CitizenId>>;

    /// The citizen's passes as the registry holds them; `None` if there is no such citizen.
    async fn passes_of(&self, citizen: CitizenId) -> StoreResult<Option<Vec<PassData>>>;

    /// Adds citizens in one transaction (all or none); a code already registered is a conflict.
    async fn add_citizens(&self, citizens: Vec<NewCitizen>) -> StoreResult<Vec<CitizenId>>;

    async fn revoke(&self, id: CredentialId, now: DateTime<Utc>) -> StoreResult<Revoked>;

    /// Revoked credentials that have not yet expired.
    async fn revoked_ids(&self, now: DateTime<Utc>) -> StoreResult<Vec<CredentialId>>;

    async fn audit_entry(&self, id: CredentialId) -> StoreResult<Option<AuditEntry>>;

    /// Publishes the next trust and revocation lists in one transaction: allocates each list's
    /// sequence number (one above the current list's), has `sign` sign both, records them in
    /// the list history and makes them current. Publishers, in any replica, take turns; the
    /// history's key (kind, sequence) refuses a second list under a sequence already used.
    async fn publish_next(
        &self,
        now: DateTime<Utc>,
        sign: SignLists,
    ) -> StoreResult<[PublishedList; 2]>;

    async fn published_heads(&self) -> StoreResult<Vec<ListHead>>;

    async fn published(&self, kind: ListKind) -> StoreResult<Option<PublishedList>>;

    async fn counts(&self) -> StoreResult<Counts>;

    /// Keeps a shop's check log anchor (already verified): a second one at the same count is
    /// kept only if it is the same, and every anchor stays.
    async fn record_anchor(&self, anchor: NewAnchor) -> StoreResult<AnchorRecorded>;

    /// The anchor with the highest count this shop key posted, if any.
    async fn latest_anchor(&self, shop_key: Vec<u8>) -> StoreResult<Option<StoredAnchor>>;

    /// The authority's name and root public key; `None` before `init`.
    async fn authority(&self) -> StoreResult<Option<AuthorityRecord>>;

    /// Records the authority and its first issuer key (active), once; a second time is a
    /// conflict.
    async fn init_authority(
        &self,
        authority: AuthorityRecord,
        first_key: SigningKey,
    ) -> StoreResult<()>;

    /// Every issuer key, oldest first.
    async fn issuer_keys(&self) -> StoreResult<Vec<StoredIssuerKey>>;

    /// In one transaction: the active key stops signing at `new_key.not_before` (what it signed
    /// stays valid) and `new_key` becomes the active one.
    async fn rotate_issuer_key(&self, new_key: SigningKey) -> StoreResult<()>;

    /// Records that the key `kid` leaked at `revoked_after` (the earlier time, if it was already
    /// marked) and stops it signing. `false` if there is no such key.
    async fn mark_compromised(&self, kid: Kid, revoked_after: DateTime<Utc>) -> StoreResult<bool>;
}

/// The issuer keys of an enrolment batch's credentials, each once: the store checks, in the
/// recording transaction, that each is still the active key (else [`StoreError::KeyRetired`]).
pub(crate) fn batch_kids(batch: &Batch) -> Vec<Kid> {
    let mut kids: Vec<Kid> = batch
        .enrolments
        .iter()
        .flat_map(|e| e.credentials.iter().map(|(_, signed)| signed.kid))
        .collect();
    kids.sort_unstable();
    kids.dedup();
    kids
}

pub(crate) fn stored_key(
    public_key: &[u8],
    not_before: i64,
    not_after: i64,
    revoked_after: Option<i64>,
    active: bool,
) -> StoreResult<StoredIssuerKey> {
    Ok(StoredIssuerKey {
        key: SigningKey {
            public_key: hash32(public_key).map_err(|_| StoreError::Corrupt("issuer key"))?,
            not_before: timestamp(not_before),
            not_after: timestamp(not_after),
        },
        revoked_after: revoked_after.map(timestamp),
        active,
    })
}

/// Opens (creating and migrating as needed) the store at `url`.
pub async fn open(url: &StoreUrl) -> StoreResult<Arc<dyn Store>> {
    Ok(match url {
        StoreUrl::Sqlite(path) => {
            let path = path.clone();
            let store = tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&path))
                .await
                .map_err(|_| StoreError::Join)??;
            Arc::new(store)
        }
        StoreUrl::Postgres(url) => Arc::new(postgres::PostgresStore::open(url).await?),
    })
}

/// Builds the passes of a citizen from stored rows `(pass_no, event text)`, in order.
pub(crate) fn assemble_passes(
    person: Person,
    rows: impl IntoIterator<Item = (i64, String)>,
) -> StoreResult<Vec<PassData>> {
    let mut passes: Vec<(i64, PassData)> = Vec::new();
    for (pass_no, text) in rows {
        let event = crate::registry::parse_event(&text)
            .map_err(|_| StoreError::Corrupt("registry event"))?;
        match passes.last_mut() {
            Some((no, pass)) if *no == pass_no => pass.events.push(event),
            _ => passes.push((
                pass_no,
                PassData {
                    person: person.clone(),
                    events: vec![event],
                },
            )),
        }
    }
    Ok(passes.into_iter().map(|(_, pass)| pass).collect())
}

pub(crate) fn timestamp(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

pub(crate) fn credential_id(bytes: &[u8]) -> StoreResult<CredentialId> {
    Ok(CredentialId(
        bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt("credential id"))?,
    ))
}

pub(crate) fn kid(bytes: &[u8]) -> StoreResult<Kid> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("key id"))
}

pub(crate) fn hash32(bytes: &[u8]) -> StoreResult<[u8; 32]> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("hash"))
}
