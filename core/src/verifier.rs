//! The shop's verifier: keeps the last accepted trust, revocation and rules lists and the shop's
//! venue mode in SQLite, and judges scanned QR texts offline by the rules in force, returning a
//! [`Verdict`].

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::check_log::{self, ChainHead, Context, Counters, LogStatus};
use crate::credential::CredentialId;
use crate::error::{Error, Result};
use crate::keys::DeviceSigner;
use crate::lists::{self, claimed_sequence, ListInfo, ListKind, RevocationView, TrustList};
use crate::policy::Policy;
use crate::presentation::Presentation;
use crate::qr_text::{self, FromScanner, Scanned};
use crate::rules::{Requirement, RulesList};
use crate::seen::Seen;
use crate::store::{self, Create};
use crate::sync::{Applied, Backoff, Fetched, HttpResponse};
use crate::verdict::{Holder, Reason, Verdict, Warning};
use crate::wallet::{load_or_create_key, DeviceKeySource};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/verifier/0001_init.sql"),
    include_str!("../migrations/verifier/0002_list_etag.sql"),
    include_str!("../migrations/verifier/0003_rules.sql"),
    include_str!("../migrations/verifier/0004_check_log.sql"),
];

/// How a verifier judges passes. What a pass must show is not here: it comes from the rules list
/// the verifier holds (see [`Verifier::apply_rules_list`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// A signed rules list the app ships, judged by only while the verifier holds no rules list
    /// of its own (a fresh install offline). `None` (the default): no pass is valid until a rules
    /// list is applied. It must verify against the root key when the verifier opens.
    pub offline_rules: Option<Vec<u8>>,
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
    /// A pass found valid again within this long of its last valid verdict gets
    /// [`Warning::SeenRecently`]; zero turns it off. Kept in memory only (docs/architecture.md).
    pub seen_window: Duration,
    /// How long the check log keeps its entries: [`Verifier::prune_check_log`] cuts older ones.
    pub log_retention: Duration,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            offline_rules: None,
            clock_leeway: Duration::seconds(60),
            presentation_window: Duration::seconds(60),
            warn_after: Duration::hours(36),
            fail_after: Duration::days(7),
            accept_paper: true,
            seen_window: Duration::minutes(10),
            log_retention: Duration::days(28),
        }
    }
}

/// How current the verifier's lists are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreshnessState {
    /// The lists are recent enough: no warning.
    Fresh,
    /// Still verifying, but the shop should go online soon.
    Warning,
    /// Too old (or never synced, or no rules to judge by): every verdict is not valid until the
    /// lists are updated.
    CannotVerify,
    /// A list in the verifier's own store failed its check on open (damaged or tampered with):
    /// every verdict is not valid until a good list of that kind is applied.
    Damaged,
    /// A list held was issued after this device's `now` (beyond the leeway): the clock is behind,
    /// and every verdict is not valid until it is set right.
    ClockBehind,
}

impl FreshnessState {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            FreshnessState::Fresh => "fresh",
            FreshnessState::Warning => "warning",
            FreshnessState::CannotVerify => "cannot_verify",
            FreshnessState::Damaged => "damaged",
            FreshnessState::ClockBehind => "clock_behind",
        }
    }
}

/// The freshness report for the shop's status screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freshness {
    /// How current the lists are, judged at the time asked.
    pub state: FreshnessState,
    /// The trust list held, if any.
    pub trust_list: Option<ListInfo>,
    /// The revocation list held, if any.
    pub revocation_list: Option<ListInfo>,
    /// The rules list held, if any (the offline default is not one).
    pub rules_list: Option<ListInfo>,
}

/// What the verifier relies on, all of it read from signed bytes it verified: the parsed trust
/// and rules lists (parsed once, not per scan), the revocation list's numbers (its entries are in
/// the `revoked` table, checked against the signed list on open), which stored lists failed that
/// check, and the venue mode the shop picked.
#[derive(Debug, Default)]
struct Lists {
    trust: Option<Arc<TrustList>>,
    revocation: Option<ListInfo>,
    rules: Option<Arc<RulesList>>,
    trust_damaged: bool,
    revocation_damaged: bool,
    rules_damaged: bool,
    venue_mode: Option<String>,
}

impl Lists {
    /// The verified list of this kind, if one is held and undamaged.
    fn held(&self, kind: ListKind) -> Option<ListInfo> {
        match kind {
            ListKind::Trust => self.trust.as_deref().map(TrustList::info),
            ListKind::Revocation => self.revocation,
            ListKind::Rules => self.rules.as_deref().map(RulesList::info),
        }
    }

    fn damaged(&self, kind: ListKind) -> bool {
        match kind {
            ListKind::Trust => self.trust_damaged,
            ListKind::Revocation => self.revocation_damaged,
            ListKind::Rules => self.rules_damaged,
        }
    }
}

/// The shop's verifier. Safe to share between threads; verification takes no lock while it checks
/// signatures, and only a short one for the revocation lookup.
#[derive(Debug)]
pub struct Verifier {
    root_public_key: [u8; 32],
    config: VerifierConfig,
    /// [`VerifierConfig::offline_rules`], verified and parsed once.
    offline_rules: Option<Arc<RulesList>>,
    conn: Mutex<Connection>,
    lists: RwLock<Lists>,
    seen: Mutex<Seen>,
    shop_key: Mutex<ShopKey>,
}

/// The key that signs the check log's reports, checkpoints and anchors: loaded (or created) from
/// its source on first use.
enum ShopKey {
    Source(DeviceKeySource),
    Loaded(Arc<dyn DeviceSigner>),
}

impl std::fmt::Debug for ShopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShopKey { .. }")
    }
}

impl Verifier {
    /// Opens or creates the verifier's store. `root_public_key` is the authority's root key,
    /// pinned in the app. A stored list that it does not verify, or revocation entries that do not
    /// match their signed list, leave the verifier [`FreshnessState::Damaged`] until a good list
    /// of that kind is applied. [`VerifierConfig::offline_rules`] that do not verify are an error.
    pub fn open(
        path: impl AsRef<Path>,
        root_public_key: [u8; 32],
        config: VerifierConfig,
    ) -> Result<Self> {
        if config.clock_leeway < Duration::zero()
            || config.presentation_window <= Duration::zero()
            || config.warn_after > config.fail_after
            || config.seen_window < Duration::zero()
            || config.log_retention <= Duration::zero()
        {
            return Err(Error::InvalidArgument(
                "leeway, windows and freshness thresholds are inconsistent".into(),
            ));
        }
        let offline_rules = config
            .offline_rules
            .as_deref()
            .map(|bytes| RulesList::verify(bytes, &root_public_key).map(Arc::new))
            .transpose()?;
        let conn = store::open(path.as_ref(), Create::IfMissing, MIGRATIONS)?;
        let mut lists = Lists::default();
        // A stored list that does not verify, or entries that do not match it, are kept and
        // marked damaged, never dropped: dropping would quietly fall back to "no list".
        if let Some(bytes) = stored(&conn, ListKind::Trust)? {
            match TrustList::verify(&bytes, &root_public_key) {
                Ok(list) => lists.trust = Some(Arc::new(list)),
                Err(_) => lists.trust_damaged = true,
            }
        }
        if let Some(bytes) = stored(&conn, ListKind::Rules)? {
            match RulesList::verify(&bytes, &root_public_key) {
                Ok(list) => lists.rules = Some(Arc::new(list)),
                Err(_) => lists.rules_damaged = true,
            }
        }
        lists.venue_mode = conn
            .query_row("SELECT name FROM venue_mode WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        match stored(&conn, ListKind::Revocation)? {
            Some(bytes) => match RevocationView::verify(&bytes, &root_public_key) {
                Ok(list) if entries_match(&conn, &list)? => lists.revocation = Some(list.info()),
                _ => lists.revocation_damaged = true,
            },
            None => {
                lists.revocation_damaged =
                    conn.query_row("SELECT EXISTS (SELECT 1 FROM revoked)", [], |r| r.get(0))?
            }
        }
        Ok(Self {
            root_public_key,
            seen: Mutex::new(Seen::new(config.seen_window)),
            config,
            offline_rules,
            conn: Mutex::new(conn),
            lists: RwLock::new(lists),
            shop_key: Mutex::new(ShopKey::Source(DeviceKeySource::default())),
        })
    }

    /// Where the shop key comes from, as for the wallet's device key: generated in the store and
    /// stored wrapped by a [`KeyProtector`](crate::KeyProtector) (the default stores it as is), or
    /// a platform signer. Set it before the first report, checkpoint or anchor; the store stays
    /// bound to the key it first used.
    pub fn with_shop_key(self, source: DeviceKeySource) -> Self {
        *self.shop_key.lock().unwrap_or_else(PoisonError::into_inner) = ShopKey::Source(source);
        self
    }

    /// The configuration it was opened with.
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

    /// Offers a signed rules list, under the same rules as the trust list. One in a newer rules
    /// format is [`Error::RulesTooNew`] and changes nothing: the app must be updated to follow it.
    pub fn apply_rules_list(&self, bytes: &[u8], now: DateTime<Utc>) -> Result<Applied> {
        self.apply_list(ListKind::Rules, bytes, None, now)
    }

    /// The rules list held, if any (not the offline default).
    pub fn rules_list(&self) -> Option<Arc<RulesList>> {
        self.read_lists().rules.clone()
    }

    /// Picks the shop's venue mode, kept in the store so it survives a restart. The rules held
    /// (a rule set of the rules list, or of the offline default) must define it; otherwise
    /// [`Error::NotFound`] and nothing changes. Until a mode is picked, the first mode of the rule
    /// set in force applies.
    pub fn set_venue_mode(&self, mode: &str) -> Result<()> {
        let known = {
            let lists = self.read_lists();
            lists
                .rules
                .as_deref()
                .or(self.offline_rules.as_deref())
                .is_some_and(|rules| rules.knows_mode(mode))
        };
        if !known {
            return Err(Error::NotFound("venue mode in the rules held"));
        }
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        conn.execute(
            "INSERT OR REPLACE INTO venue_mode (id, name) VALUES (1, ?1)",
            [mode],
        )?;
        self.lists
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .venue_mode = Some(mode.to_owned());
        Ok(())
    }

    /// The venue mode the shop picked; `None` if it never picked one (the first mode of the rule
    /// set in force applies).
    pub fn venue_mode(&self) -> Option<String> {
        self.read_lists().venue_mode.clone()
    }

    /// The names of the venue modes of the rule set in force at `now`, in the list's order (the
    /// first is the default): what the shop's mode picker offers.
    pub fn venue_modes(&self, now: DateTime<Utc>) -> Vec<String> {
        let lists = self.read_lists();
        let rules = lists.rules.as_deref().or(self.offline_rules.as_deref());
        rules
            .and_then(|r| r.in_force(now))
            .map(|set| set.modes.iter().map(|m| m.name.clone()).collect())
            .unwrap_or_default()
    }

    fn read_lists(&self) -> std::sync::RwLockReadGuard<'_, Lists> {
        self.lists.read().unwrap_or_else(PoisonError::into_inner)
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
            429 | 500..=599 => Ok(Fetched::RetryAfter(
                backoff.after_refusal(response.retry_after, now),
            )),
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
            ListKind::Rules => self.apply_rules(bytes, etag, now),
        }
    }

    fn apply_rules(&self, bytes: &[u8], etag: Option<&str>, now: DateTime<Utc>) -> Result<Applied> {
        let list = RulesList::verify(bytes, &self.root_public_key)?;
        let info = list.info();
        self.store_list(
            ListKind::Rules,
            bytes,
            etag,
            info,
            now,
            |_| Ok(()),
            move |lists| {
                lists.rules = Some(Arc::new(list));
                lists.rules_damaged = false;
            },
        )
    }

    fn apply_trust(&self, bytes: &[u8], etag: Option<&str>, now: DateTime<Utc>) -> Result<Applied> {
        let list = TrustList::verify(bytes, &self.root_public_key)?;
        let info = list.info();
        self.store_list(
            ListKind::Trust,
            bytes,
            etag,
            info,
            now,
            |_| Ok(()),
            move |lists| {
                lists.trust = Some(Arc::new(list));
                lists.trust_damaged = false;
            },
        )
    }

    fn apply_revocation(
        &self,
        bytes: &[u8],
        etag: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Applied> {
        let list = RevocationView::verify(bytes, &self.root_public_key)?;
        let info = list.info();
        self.store_list(
            ListKind::Revocation,
            bytes,
            etag,
            info,
            now,
            move |tx| {
                tx.execute("DELETE FROM revoked", [])?;
                let mut insert = tx.prepare("INSERT INTO revoked (entry) VALUES (?1)")?;
                for entry in list.entries() {
                    insert.execute([entry])?;
                }
                Ok(())
            },
            move |lists| {
                lists.revocation = Some(info);
                lists.revocation_damaged = false;
            },
        )
    }

    /// Rollback and equivocation checks, then one transaction that writes the list and whatever
    /// `also` writes; nothing is changed unless all of it commits. `install` then updates what is
    /// held in memory, still under the connection's lock, so two updates cannot land in memory in
    /// the other order than in the store. Offering the stored list again (`Unchanged`) installs it
    /// too if memory does not hold it, and rewrites it if it was damaged.
    #[allow(clippy::too_many_arguments)]
    fn store_list(
        &self,
        kind: ListKind,
        bytes: &[u8],
        etag: Option<&str>,
        info: ListInfo,
        now: DateTime<Utc>,
        also: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<()>,
        install: impl FnOnce(&mut Lists),
    ) -> Result<Applied> {
        let key = kind.key();
        if info.issued_at > now + self.config.clock_leeway {
            return Err(Error::FromTheFuture(key));
        }
        let sequence = i64::try_from(info.sequence)
            .map_err(|_| Error::malformed("list", "sequence out of range"))?;
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction()?;
        let (held, damaged) = {
            let lists = self.lists.read().unwrap_or_else(PoisonError::into_inner);
            (lists.held(kind).map(|l| l.sequence), lists.damaged(kind))
        };
        let floor = self.stored_sequence(&tx, kind, held)?;
        let mut applied = Applied::Updated {
            sequence: info.sequence,
        };
        if let Some(stored) = floor {
            // Read only for the same sequence: a revocation list is 16 MB.
            let stored_bytes: Option<Vec<u8>> = if info.sequence == stored {
                tx.query_row("SELECT signed FROM lists WHERE kind = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()?
            } else {
                None
            };
            // A damaged stored list is no evidence of equivocation: the offered one verifies.
            let compared = stored_bytes.as_deref().filter(|_| !damaged);
            if !lists::is_newer(stored, compared, info.sequence, bytes)? {
                applied = Applied::Unchanged;
                if compared.is_some() {
                    if etag.is_some() {
                        tx.execute(
                            "UPDATE lists SET etag = ?2 WHERE kind = ?1",
                            params![key, etag],
                        )?;
                    }
                    tx.commit()?;
                    if held != Some(info.sequence) {
                        install(&mut self.lists.write().unwrap_or_else(PoisonError::into_inner));
                    }
                    return Ok(applied);
                }
            }
        }
        // The entries are written from the bytes offered, not a copy of them: with SQLite's
        // copies of the signed bytes (the binding and the row) that is three 16 MB buffers.
        also(&tx)?;
        tx.execute(
            "INSERT OR REPLACE INTO lists (kind, sequence, issued_at, next_update, signed, etag) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![key, sequence, info.issued_at.timestamp(), info.next_update.timestamp(), bytes, etag],
        )?;
        tx.commit()?;
        install(&mut self.lists.write().unwrap_or_else(PoisonError::into_inner));
        Ok(applied)
    }

    /// The sequence of the list stored for `kind`, as far as the signed bytes tell: `held` (what
    /// this verifier verified), or, when the `sequence` column says another writer (another
    /// verifier on the same file) stored something else, the stored bytes read again (verified,
    /// or, if damaged, the sequence they claim). The column is only that hint: a value outside
    /// the signed bytes decides nothing.
    fn stored_sequence(
        &self,
        tx: &rusqlite::Transaction<'_>,
        kind: ListKind,
        held: Option<u64>,
    ) -> Result<Option<u64>> {
        let column: Option<i64> = tx
            .query_row(
                "SELECT sequence FROM lists WHERE kind = ?1",
                [kind.key()],
                |r| r.get(0),
            )
            .optional()?;
        if column.is_none() || column.and_then(|c| u64::try_from(c).ok()) == held {
            return Ok(held);
        }
        let Some(bytes) = stored(tx, kind)? else {
            return Ok(held);
        };
        let verified = match kind {
            ListKind::Trust => TrustList::verify(&bytes, &self.root_public_key).map(|l| l.sequence),
            ListKind::Revocation => {
                RevocationView::verify(&bytes, &self.root_public_key).map(|l| l.sequence)
            }
            ListKind::Rules => RulesList::verify(&bytes, &self.root_public_key).map(|l| l.sequence),
        };
        Ok(held.max(verified.ok().or_else(|| claimed_sequence(&bytes))))
    }

    /// How current the lists are at `now`.
    pub fn freshness(&self, now: DateTime<Utc>) -> Freshness {
        self.freshness_of(
            &self.lists.read().unwrap_or_else(PoisonError::into_inner),
            now,
        )
    }

    fn freshness_of(&self, lists: &Lists, now: DateTime<Utc>) -> Freshness {
        let trust = lists.held(ListKind::Trust);
        let rules = lists.held(ListKind::Rules);
        let held = || [trust, lists.revocation, rules].into_iter().flatten();
        let config = &self.config;
        let state = if lists.trust_damaged || lists.revocation_damaged || lists.rules_damaged {
            FreshnessState::Damaged
        } else if trust.is_none() || (rules.is_none() && self.offline_rules.is_none()) {
            FreshnessState::CannotVerify
        } else if held().any(|l| l.issued_at > now + config.clock_leeway) {
            FreshnessState::ClockBehind
        } else if held().any(|l| now - l.issued_at > config.fail_after) {
            FreshnessState::CannotVerify
        } else if held().any(|l| now - l.issued_at > config.warn_after || now > l.next_update) {
            FreshnessState::Warning
        } else {
            FreshnessState::Fresh
        };
        Freshness {
            state,
            trust_list: trust,
            revocation_list: lists.revocation,
            rules_list: rules,
        }
    }

    /// Verifies a scanned QR text at `now`, by the rule set in force at `now` under the shop's
    /// venue mode, and appends the verdict to the check log: it returns only once the entry is
    /// committed. Bad input is a verdict (malformed), not an error; an error means the verifier
    /// itself failed (storage) and nothing can be said of the pass.
    pub fn verify(&self, text: &str, now: DateTime<Utc>) -> Result<Verdict> {
        let (verdict, context) = self.judge_text(text, now)?;
        let (code, id_check) = match &verdict {
            Verdict::Valid {
                id_check_required, ..
            } => (check_log::VALID, *id_check_required),
            Verdict::Exempt { .. } => (check_log::EXEMPT, false),
            Verdict::NotValid { reason, .. } => (reason.code(), false),
        };
        let warnings = verdict
            .warnings()
            .iter()
            .map(|w| w.code().to_owned())
            .collect();
        let offset = self.utc_offset(now);
        let mut conn = self.lock();
        check_log::append(&mut conn, now, code, id_check, warnings, &context, offset)?;
        Ok(verdict)
    }

    /// The verdict [`Verifier::verify`] would give, not logged: for the benchmarks that measure
    /// the durable log append beside the checks alone. Only with the feature `testing`.
    #[cfg(any(test, feature = "testing"))]
    pub fn verify_unlogged(&self, text: &str, now: DateTime<Utc>) -> Result<Verdict> {
        Ok(self.judge_text(text, now)?.0)
    }

    /// The shop's UTC offset at `now`, for the log's days and hours: the rule set in force's (of
    /// the rules list held, else of the offline default), UTC without one.
    fn utc_offset(&self, now: DateTime<Utc>) -> i32 {
        let lists = self.read_lists();
        lists
            .rules
            .as_deref()
            .or(self.offline_rules.as_deref())
            .and_then(|rules| rules.in_force(now))
            .map_or(0, |set| set.policy.utc_offset_minutes)
    }

    /// The verdict and what the log records beside it, without logging.
    fn judge_text(&self, text: &str, now: DateTime<Utc>) -> Result<(Verdict, Context)> {
        let (trust, no_revocation_list, freshness, revocation, (rules, requirement)) = {
            let lists = self.read_lists();
            let decided = match (&lists.rules, &self.offline_rules) {
                (Some(held), _) => held.decide(lists.venue_mode.as_deref(), now, false),
                (None, Some(offline)) => offline.decide(lists.venue_mode.as_deref(), now, true),
                (None, None) => (None, Err(Reason::NoRulesList)),
            };
            (
                lists.trust.clone(),
                lists.revocation.is_none() && !lists.revocation_damaged,
                self.freshness_of(&lists, now).state,
                lists.revocation.map(|l| l.sequence),
                decided,
            )
        };
        let mut context = Context {
            freshness: freshness.code(),
            trust_sequence: trust.as_deref().map(|t| t.info().sequence),
            revocation_sequence: revocation,
            rules: None,
            policy: [0; 8],
            credential: None,
        };
        let mut warnings = Vec::new();
        if freshness == FreshnessState::Warning {
            warnings.push(Warning::ListsAging);
        }
        if no_revocation_list {
            warnings.push(Warning::NoRevocationList);
        }
        let refused = match (freshness, &trust, &requirement) {
            (FreshnessState::Damaged, _, _) => Some(Reason::ListsDamaged),
            (_, None, _) => Some(Reason::NoTrustList),
            (_, _, Err(Reason::NoRulesList)) => Some(Reason::NoRulesList),
            (FreshnessState::ClockBehind, _, _) => Some(Reason::ClockBehind),
            (FreshnessState::CannotVerify, _, _) => Some(Reason::TrustListTooStale),
            (_, _, Err(reason)) => Some(*reason),
            _ => None,
        };
        let not_valid = |reason, warnings, rules| Verdict::NotValid {
            reason,
            warnings,
            rules,
        };
        if let Some(reason) = refused {
            return Ok((not_valid(reason, warnings, rules), context));
        }
        // Without a refusal there is a trust list and a requirement, which comes with its rules.
        let (Some(trust), Ok(requirement), Some(rules)) = (trust, requirement, rules) else {
            return Ok((not_valid(Reason::NoRulesList, warnings, None), context));
        };
        context.rules = Some((rules.sequence, rules.mode.clone()));
        let policy = match requirement {
            Requirement::Exempt => return Ok((Verdict::Exempt { warnings, rules }, context)),
            Requirement::Pass(policy) => policy,
        };
        context.policy = check_log::policy_digest(&policy);
        let scanned = match read(text) {
            Ok(scanned) => scanned,
            Err(reason) => return Ok((not_valid(reason, warnings, Some(rules)), context)),
        };
        context.credential = Some(match &scanned {
            Scanned::Paper(credential) => credential.claims.id,
            Scanned::Presentation(p) => p.credential.claims.id,
        });
        if let Err(reason) = self.judge(&scanned, &trust, &policy, now)? {
            return Ok((not_valid(reason, warnings, Some(rules)), context));
        }
        let (credential, paper) = match scanned {
            Scanned::Paper(credential) => (credential, true),
            Scanned::Presentation(p) => (p.credential, false),
        };
        // Only a valid verdict counts as seen: every signature on it verified, so no one can make
        // a stranger's pass "seen" by showing bytes of their own making.
        let seen_recently = self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .saw(&credential.claims.id, now);
        if seen_recently {
            warnings.push(Warning::SeenRecently);
        }
        let person = credential.claims.pass.person;
        let verdict = Verdict::Valid {
            holder: Holder {
                name: person.name,
                date_of_birth: person.date_of_birth,
            },
            id_check_required: paper,
            warnings,
            rules,
        };
        Ok((verdict, context))
    }

    /// Whether the check log in the store is whole: walks every entry from the checkpoint. A
    /// damaged log is reported here and never repaired; verifying goes on regardless.
    pub fn check_log_status(&self) -> Result<LogStatus> {
        check_log::status(&self.lock())
    }

    /// The check log's head as committed: what the app anchors with the authority.
    pub fn check_log_head(&self) -> Result<ChainHead> {
        let conn = self.lock();
        match check_log::stored_head(&conn)? {
            Some(head) => Ok(head),
            None => check_log::start(&conn),
        }
    }

    /// Scans this hour and today (in the time zone of the rules in force), valid and refused by reason, from
    /// the log's running totals: a few rows whatever the log's length.
    pub fn check_counters(&self, now: DateTime<Utc>) -> Result<Counters> {
        let offset = self.utc_offset(now);
        check_log::counters(&self.lock(), now, offset)
    }

    /// Cuts the entries older than the retention ([`VerifierConfig::log_retention`]) before
    /// `now`, leaving a checkpoint signed by the shop key so that the rest still verifies.
    /// Returns how many entries were cut.
    pub fn prune_check_log(&self, now: DateTime<Utc>) -> Result<u64> {
        let signer = self.shop_signer()?;
        let offset = self.utc_offset(now);
        check_log::prune(
            &mut self.lock(),
            signer.as_ref(),
            now - self.config.log_retention,
            offset,
        )
    }

    /// Exports the verdicts given from `from` to `to` (inclusive) as a report signed by the shop
    /// key, for an inspector to check offline with [`crate::verify_report`].
    pub fn export_report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>> {
        let signer = self.shop_signer()?;
        let offset = self.utc_offset(now);
        crate::report::export(&self.lock(), signer.as_ref(), from, to, now, offset)
    }

    /// The check log's head signed by the shop key at `now`: what the app posts to the
    /// authority whenever it syncs, so that cutting entries later is detected.
    pub fn anchor(&self, now: DateTime<Utc>) -> Result<Vec<u8>> {
        let head = self.check_log_head()?;
        let signer = self.shop_signer()?;
        crate::report::sign_anchor(signer.as_ref(), head, now)
    }

    /// The shop key's public key (32 bytes Ed25519, or 33 bytes P-256): what an inspector
    /// expects a report of this shop to be signed by.
    pub fn shop_public_key(&self) -> Result<Vec<u8>> {
        Ok(self.shop_signer()?.public_key()?.as_bytes().to_vec())
    }

    fn shop_signer(&self) -> Result<Arc<dyn DeviceSigner>> {
        let mut key = self.shop_key.lock().unwrap_or_else(PoisonError::into_inner);
        if let ShopKey::Source(source) = &*key {
            let signer = load_or_create_key(&self.lock(), "shop_key", source.clone())?;
            *key = ShopKey::Loaded(signer);
        }
        match &*key {
            ShopKey::Loaded(signer) => Ok(signer.clone()),
            ShopKey::Source(_) => Err(Error::Internal("shop key not loaded")),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every check after parsing, in the order of docs/architecture.md. The outer error is a
    /// storage failure; the inner one is the verdict's reason.
    fn judge(
        &self,
        scanned: &Scanned,
        trust: &TrustList,
        policy: &Policy,
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
            trust.check_credential(credential, now, self.config.clock_leeway)?;
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
        Ok(policy
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

/// Parses scanned text, or says why not: malformed, or typed through a Korean input method. Text
/// recovered from Hangul that does not parse is most likely the input method's doing (a variant
/// that composes differently, a key it swallowed), so that too asks for the input method to be
/// switched to English rather than calling the pass malformed.
fn read(text: &str) -> Result<Scanned, Reason> {
    match qr_text::from_scanner(text) {
        FromScanner::Plain(text) => qr_text::parse_exact(text).map_err(|_| Reason::Malformed),
        FromScanner::Recovered(text) => {
            qr_text::parse_exact(&text).map_err(|_| Reason::KoreanInputMethod)
        }
        FromScanner::KoreanInputMethod => Err(Reason::KoreanInputMethod),
    }
}

/// The signed bytes stored for `kind`.
fn stored(conn: &Connection, kind: ListKind) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT signed FROM lists WHERE kind = ?1",
            [kind.key()],
            |r| r.get(0),
        )
        .optional()?)
}

/// Whether the `revoked` table holds exactly the entries of the signed list: one pass over both in
/// order (the table's primary key keeps it sorted, as the list is).
fn entries_match(conn: &Connection, list: &RevocationView<'_>) -> Result<bool> {
    let mut query = conn.prepare("SELECT entry FROM revoked ORDER BY entry")?;
    let mut rows = query.query([])?;
    let mut expected = list.entries();
    while let Some(row) = rows.next()? {
        let stored = row.get_ref(0)?.as_blob().ok();
        if stored.is_none() || stored != expected.next() {
            return Ok(false);
        }
    }
    Ok(expected.next().is_none())
}
