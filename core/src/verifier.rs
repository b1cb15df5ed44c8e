//! The shop's verifier: keeps the last accepted trust and revocation lists in SQLite and judges
//! scanned QR texts offline, returning a [`Verdict`].

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::credential::{Credential, CredentialId};
use crate::error::{Error, Result};
use crate::lists::{RevocationList, TrustList};
use crate::policy::Policy;
use crate::presentation::Presentation;
use crate::qr_text::{self, Scanned};
use crate::store::{self, Create};
use crate::sync::{self, Backoff, Fetched, HttpResponse, ListKind};
use crate::verdict::{Holder, Reason, Verdict, Warning};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/verifier/0001_init.sql"),
    include_str!("../migrations/verifier/0002_list_etag.sql"),
];

/// How a verifier judges passes. [`VerifierConfig::default`] uses the Korean 2022 policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    pub policy: Policy,
    /// Clock difference tolerated between the holder's phone and this one.
    pub clock_leeway: Duration,
    /// How long a presentation is accepted after it was made (before the leeway). Wallets rotate
    /// the QR every 30 s, so a live phone is always well inside; a screenshot soon is not.
    pub presentation_window: Duration,
    /// Lists older than this give a warning with each verdict.
    pub warn_after: Duration,
    /// Lists older than this stop all verification: the verifier cannot know about revocations.
    pub fail_after: Duration,
    /// Whether bare (paper) credentials are accepted, with an ID check.
    pub accept_paper: bool,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            policy: Policy::korea_2022(),
            clock_leeway: Duration::seconds(60),
            presentation_window: Duration::seconds(60),
            warn_after: Duration::hours(36),
            fail_after: Duration::days(7),
            accept_paper: true,
        }
    }
}

/// How current the verifier's lists are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreshnessState {
    Fresh,
    /// Still verifying, but the shop should go online soon.
    Warning,
    /// Too old (or never synced): every verdict is not valid until the lists are updated.
    CannotVerify,
}

impl FreshnessState {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            FreshnessState::Fresh => "fresh",
            FreshnessState::Warning => "warning",
            FreshnessState::CannotVerify => "cannot_verify",
        }
    }
}

/// The freshness report for the shop's status screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freshness {
    pub state: FreshnessState,
    pub trust_list: Option<ListInfo>,
    pub revocation_list: Option<ListInfo>,
}

/// What the verifier holds of one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListInfo {
    pub sequence: u64,
    pub issued_at: DateTime<Utc>,
    pub next_update: DateTime<Utc>,
}

/// The result of offering a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The list was newer and is now stored.
    Updated { sequence: u64 },
    /// The same list was already stored.
    Unchanged,
}

#[derive(Debug, Default)]
struct Lists {
    trust: Option<Arc<TrustList>>,
    revocation: Option<ListInfo>,
}

/// The shop's verifier. Safe to share between threads; verification takes no lock while it checks
/// signatures, and only a short one for the revocation lookup.
#[derive(Debug)]
pub struct Verifier {
    root_public_key: [u8; 32],
    config: VerifierConfig,
    conn: Mutex<Connection>,
    lists: RwLock<Lists>,
}

impl Verifier {
    /// Opens or creates the verifier's store. `root_public_key` is the authority's root key,
    /// pinned in the app; stored lists that it does not verify are discarded.
    pub fn open(
        path: impl AsRef<Path>,
        root_public_key: [u8; 32],
        config: VerifierConfig,
    ) -> Result<Self> {
        if config.clock_leeway < Duration::zero()
            || config.presentation_window <= Duration::zero()
            || config.warn_after > config.fail_after
        {
            return Err(Error::InvalidArgument(
                "leeway, window and freshness thresholds are inconsistent".into(),
            ));
        }
        let conn = store::open(path.as_ref(), Create::IfMissing, MIGRATIONS)?;
        let mut lists = Lists::default();
        let stored = |kind: &str| -> Result<Option<Vec<u8>>> {
            Ok(conn
                .query_row("SELECT signed FROM lists WHERE kind = ?1", [kind], |r| {
                    r.get(0)
                })
                .optional()?)
        };
        if let Some(bytes) = stored("trust")? {
            match TrustList::verify(&bytes, &root_public_key) {
                Ok(list) => lists.trust = Some(Arc::new(list)),
                Err(_) => forget(&conn, "trust")?,
            }
        }
        if let Some(bytes) = stored("revocation")? {
            match RevocationList::verify(&bytes, &root_public_key) {
                Ok(list) => {
                    lists.revocation = Some(ListInfo {
                        sequence: list.sequence,
                        issued_at: list.issued_at,
                        next_update: list.next_update,
                    })
                }
                Err(_) => forget(&conn, "revocation")?,
            }
        }
        Ok(Self {
            root_public_key,
            config,
            conn: Mutex::new(conn),
            lists: RwLock::new(lists),
        })
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Offers a signed trust list. It is stored only if it verifies against the pinned root key and
    /// is newer than the stored one; the same sequence with other content is refused.
    pub fn apply_trust_list(&self, bytes: &[u8], now: DateTime<Utc>) -> Result<Applied> {
        self.apply_list(ListKind::Trust, bytes, None, now)
    }

    /// Offers a signed revocation list, under the same rules as the trust list.
    pub fn apply_revocation_list(&self, bytes: &[u8], now: DateTime<Utc>) -> Result<Applied> {
        self.apply_list(ListKind::Revocation, bytes, None, now)
    }

    /// The ETag of the list held, to send as `If-None-Match` with the next request for it.
    pub fn list_etag(&self, kind: ListKind) -> Result<Option<String>> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let etag = conn
            .query_row(
                "SELECT etag FROM lists WHERE kind = ?1",
                [kind.key()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(etag.flatten())
    }

    /// Reads the app's HTTP answer to a list request (sent to [`ListKind::path`] with
    /// [`Verifier::list_etag`] as `If-None-Match`): a 200 is applied and its ETag kept, a 304
    /// keeps what is held, and 429, 503 or another 5xx gives the delay before trying again,
    /// from the server's Retry-After and the caller's backoff.
    pub fn apply_fetched(
        &self,
        kind: ListKind,
        response: HttpResponse<'_>,
        backoff: &mut Backoff,
        now: DateTime<Utc>,
    ) -> Result<Fetched> {
        match response.status {
            200 => {
                let applied = self.apply_list(kind, response.body, response.etag, now)?;
                backoff.reset();
                Ok(Fetched::Applied(applied))
            }
            304 => {
                backoff.reset();
                Ok(Fetched::NotModified)
            }
            429 | 500..=599 => {
                let asked = response
                    .retry_after
                    .and_then(|v| sync::parse_retry_after(v, now));
                Ok(Fetched::RetryAfter(
                    backoff.next_delay(asked, sync::jitter()),
                ))
            }
            status => Err(Error::UnexpectedStatus(status)),
        }
    }

    fn apply_list(
        &self,
        kind: ListKind,
        bytes: &[u8],
        etag: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Applied> {
        match kind {
            ListKind::Trust => self.apply_trust(bytes, etag, now),
            ListKind::Revocation => self.apply_revocation(bytes, etag, now),
        }
    }

    fn apply_trust(&self, bytes: &[u8], etag: Option<&str>, now: DateTime<Utc>) -> Result<Applied> {
        let list = TrustList::verify(bytes, &self.root_public_key)?;
        let info = ListInfo {
            sequence: list.sequence,
            issued_at: list.issued_at,
            next_update: list.next_update,
        };
        let applied = self.store_list("trust", bytes, etag, info, now, |_| Ok(()))?;
        if applied != Applied::Unchanged {
            self.lists
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .trust = Some(Arc::new(list));
        }
        Ok(applied)
    }

    fn apply_revocation(
        &self,
        bytes: &[u8],
        etag: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Applied> {
        let list = RevocationList::verify(bytes, &self.root_public_key)?;
        let info = ListInfo {
            sequence: list.sequence,
            issued_at: list.issued_at,
            next_update: list.next_update,
        };
        let applied = self.store_list("revocation", bytes, etag, info, now, move |tx| {
            tx.execute("DELETE FROM revoked", [])?;
            let mut insert = tx.prepare("INSERT INTO revoked (entry) VALUES (?1)")?;
            for entry in list.entries() {
                insert.execute([entry])?;
            }
            Ok(())
        })?;
        if applied != Applied::Unchanged {
            self.lists
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .revocation = Some(info);
        }
        Ok(applied)
    }

    /// Rollback and equivocation checks, then one transaction that writes the list and whatever
    /// `also` writes. Nothing is changed unless all of it commits.
    fn store_list(
        &self,
        kind: &'static str,
        bytes: &[u8],
        etag: Option<&str>,
        info: ListInfo,
        now: DateTime<Utc>,
        also: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<()>,
    ) -> Result<Applied> {
        if info.issued_at > now + self.config.clock_leeway {
            return Err(Error::FromTheFuture(kind));
        }
        let sequence = i64::try_from(info.sequence)
            .map_err(|_| Error::malformed("list", "sequence out of range"))?;
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction()?;
        let stored: Option<i64> = tx
            .query_row("SELECT sequence FROM lists WHERE kind = ?1", [kind], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(stored_sequence) = stored {
            if sequence < stored_sequence {
                return Err(Error::Rollback {
                    stored: stored_sequence as u64,
                    offered: info.sequence,
                });
            }
            if sequence == stored_sequence {
                // Read only now: a revocation list is 16 MB.
                let stored_bytes: Vec<u8> =
                    tx.query_row("SELECT signed FROM lists WHERE kind = ?1", [kind], |r| {
                        r.get(0)
                    })?;
                if stored_bytes != bytes {
                    return Err(Error::Equivocation(info.sequence));
                }
                if etag.is_some() {
                    tx.execute(
                        "UPDATE lists SET etag = ?2 WHERE kind = ?1",
                        params![kind, etag],
                    )?;
                    tx.commit()?;
                }
                return Ok(Applied::Unchanged);
            }
        }
        // `also` first: it owns the parsed list, which is dropped before SQLite copies the signed
        // bytes (twice: the binding and the row), so two 16 MB lists are never held at once.
        also(&tx)?;
        tx.execute(
            "INSERT OR REPLACE INTO lists (kind, sequence, issued_at, next_update, signed, etag) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![kind, sequence, info.issued_at.timestamp(), info.next_update.timestamp(), bytes, etag],
        )?;
        tx.commit()?;
        Ok(Applied::Updated {
            sequence: info.sequence,
        })
    }

    /// How current the lists are at `now`.
    pub fn freshness(&self, now: DateTime<Utc>) -> Freshness {
        self.freshness_of(
            &self.lists.read().unwrap_or_else(PoisonError::into_inner),
            now,
        )
    }

    fn freshness_of(&self, lists: &Lists, now: DateTime<Utc>) -> Freshness {
        let trust = lists.trust.as_ref().map(|t| ListInfo {
            sequence: t.sequence,
            issued_at: t.issued_at,
            next_update: t.next_update,
        });
        let held = || [trust, lists.revocation].into_iter().flatten();
        let state = if trust.is_none() || held().any(|l| now - l.issued_at > self.config.fail_after)
        {
            FreshnessState::CannotVerify
        } else if held().any(|l| now - l.issued_at > self.config.warn_after || now > l.next_update)
        {
            FreshnessState::Warning
        } else {
            FreshnessState::Fresh
        };
        Freshness {
            state,
            trust_list: trust,
            revocation_list: lists.revocation,
        }
    }

    /// Verifies a scanned QR text at `now`. Bad input is a verdict (malformed), not an error;
    /// an error means the verifier itself failed (storage) and nothing can be said of the pass.
    pub fn verify(&self, text: &str, now: DateTime<Utc>) -> Result<Verdict> {
        let (trust, has_revocation, freshness) = {
            let lists = self.lists.read().unwrap_or_else(PoisonError::into_inner);
            (
                lists.trust.clone(),
                lists.revocation.is_some(),
                self.freshness_of(&lists, now).state,
            )
        };
        let mut warnings = Vec::new();
        if freshness == FreshnessState::Warning {
            warnings.push(Warning::ListsAging);
        }
        if !has_revocation {
            warnings.push(Warning::NoRevocationList);
        }
        let Some(trust) = trust else {
            return Ok(Verdict::not_valid(Reason::NoTrustList, warnings));
        };
        if freshness == FreshnessState::CannotVerify {
            return Ok(Verdict::not_valid(Reason::TrustListTooStale, warnings));
        }
        let Ok(scanned) = qr_text::parse(text) else {
            return Ok(Verdict::not_valid(Reason::Malformed, warnings));
        };
        if let Err(reason) = self.judge(&scanned, &trust, now)? {
            return Ok(Verdict::not_valid(reason, warnings));
        }
        let (credential, paper) = match scanned {
            Scanned::Paper(credential) => (credential, true),
            Scanned::Presentation(p) => (p.credential, false),
        };
        let person = credential.claims.pass.person;
        Ok(Verdict {
            reason: None,
            holder: Some(Holder {
                name: person.name,
                date_of_birth: person.date_of_birth,
            }),
            id_check_required: paper,
            warnings,
        })
    }

    /// Every check after parsing, in the order of docs/architecture.md. The outer error is a
    /// storage failure; the inner one is the verdict's reason.
    fn judge(
        &self,
        scanned: &Scanned,
        trust: &TrustList,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Reason>> {
        let credential = match scanned {
            Scanned::Paper(_) if !self.config.accept_paper => {
                return Ok(Err(Reason::PaperNotAccepted))
            }
            Scanned::Paper(credential) => credential,
            Scanned::Presentation(p) => &p.credential,
        };
        let signatures_and_times = || -> Result<(), Reason> {
            check_credential(credential, trust, now, self.config.clock_leeway)?;
            match scanned {
                Scanned::Presentation(p) => self.check_presentation(p, now),
                Scanned::Paper(_) => Ok(()),
            }
        };
        if let Err(reason) = signatures_and_times() {
            return Ok(Err(reason));
        }
        if self.is_revoked(&credential.claims.id)? {
            return Ok(Err(Reason::Revoked));
        }
        Ok(self
            .config
            .policy
            .evaluate(&credential.claims.pass.events, now)
            .map_err(Reason::PolicyNotMet))
    }

    fn check_presentation(&self, p: &Presentation, now: DateTime<Utc>) -> Result<(), Reason> {
        p.verify_device_signature()
            .map_err(|_| Reason::WrongDevice)?;
        let leeway = self.config.clock_leeway;
        if p.shown_at > now + leeway {
            return Err(Reason::PresentationFromFuture);
        }
        if now - p.shown_at > self.config.presentation_window + leeway {
            return Err(Reason::PresentationTooOld);
        }
        Ok(())
    }

    /// Whether the revocation list held names this credential id.
    pub fn is_revoked(&self, id: &CredentialId) -> Result<bool> {
        let entry = id.revocation_entry();
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let mut lookup = conn.prepare_cached("SELECT 1 FROM revoked WHERE entry = ?1")?;
        Ok(lookup.exists([&entry[..]])?)
    }
}

fn forget(conn: &Connection, kind: &str) -> Result<()> {
    conn.execute("DELETE FROM lists WHERE kind = ?1", [kind])?;
    if kind == "revocation" {
        conn.execute("DELETE FROM revoked", [])?;
    }
    Ok(())
}

/// The checks a credential must pass against a trust list, in order: known issuer key, key valid
/// when the credential was issued and not compromised by then, issuer signature, validity window.
/// The wallet runs the same checks on import.
pub(crate) fn check_credential(
    credential: &Credential,
    trust: &TrustList,
    now: DateTime<Utc>,
    leeway: Duration,
) -> Result<(), Reason> {
    let key = trust.key(&credential.kid).ok_or(Reason::UnknownIssuer)?;
    let claims = &credential.claims;
    if claims.issuer != trust.issuer {
        return Err(Reason::UnknownIssuer);
    }
    if claims.issued_at < key.not_before || claims.issued_at > key.not_after {
        return Err(Reason::IssuerKeyNotValidAtIssuance);
    }
    if key
        .revoked_after
        .is_some_and(|leak| claims.issued_at >= leak)
    {
        return Err(Reason::IssuerKeyRevoked);
    }
    credential
        .verify_signature(key.verifying_key())
        .map_err(|_| Reason::BadSignature)?;
    if now + leeway < claims.not_before {
        return Err(Reason::NotYetValid);
    }
    if now - leeway >= claims.expires {
        return Err(Reason::Expired);
    }
    Ok(())
}
