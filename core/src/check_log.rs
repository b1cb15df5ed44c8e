//! The shop's check log: every verdict the verifier gives, appended in its own store to a
//! hash-chained log that holds no personal data, with running totals for the status screen, a
//! retention that prunes behind a signed checkpoint, and the damage check (docs/format.md,
//! "Check log"; docs/architecture.md, "The check log").

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use ciborium::value::Value;
use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};

use crate::cbor::{self, IntMap};
use crate::credential::CredentialId;
use crate::error::{Error, Result};
use crate::keys::{DevicePublicKey, DeviceSigner};

/// Domain of the chain hash: `SHA-256(domain || previous hash || SHA-256(entry))`.
pub const CHAIN_DOMAIN: &[u8] = b"vaxpass check log v1\0";
/// Domain of the shop key's signature over a checkpoint.
pub const CHECKPOINT_DOMAIN: &[u8] = b"vaxpass check log checkpoint v1\0";
/// The chain hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];
/// Largest entry accepted; a real one is about 60 bytes.
pub const MAX_ENTRY_BYTES: usize = 256;
/// The longest verdict, warning, freshness or mode code an entry may carry.
const MAX_CODE_CHARS: usize = 64;
const MAX_WARNINGS: usize = 8;
const WHAT: &str = "check log entry";

/// One verdict as the log keeps it. Nothing in it names the holder: the credential appears only
/// as a tag keyed by the day's key, which is deleted once the day is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Position in the log, from 1, with no gap.
    pub seq: u64,
    /// When the verdict was given, by this device's clock (whole seconds).
    pub at: DateTime<Utc>,
    /// `valid`, `exempt` (the venue mode needs no pass), or the reason code of a refusal
    /// (`Reason::code`).
    pub verdict: String,
    /// A valid paper pass: the staff had to check an ID document.
    pub id_check_required: bool,
    /// The warning codes given with the verdict.
    pub warnings: Vec<String>,
    /// The trust list sequence held, if any.
    pub trust_sequence: Option<u64>,
    /// The revocation list sequence held, if any.
    pub revocation_sequence: Option<u64>,
    /// The lists' freshness state (`FreshnessState::code`).
    pub freshness: String,
    /// The sequence of the signed rules list in force, once the verifier follows one.
    pub rules_sequence: Option<u64>,
    /// The venue mode in force, once the verifier follows a rules list.
    pub mode: Option<String>,
    /// The first 8 bytes of SHA-256 of the policy a pass had to meet, in its canonical form;
    /// zeros when none was (no rules in force, or an exempt mode).
    pub policy: [u8; 8],
    /// The credential, as `HMAC-SHA-256(day key, credential id)` cut to 16 bytes; absent when
    /// nothing was parsed.
    pub credential_tag: Option<[u8; 16]>,
}

impl LogEntry {
    /// The entry's canonical CBOR: the bytes the chain hashes and the report carries.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let text = |s: &str| Value::Text(s.to_owned());
        cbor::encode(&cbor::map([
            (1, Some(self.seq.into())),
            (2, Some(self.at.timestamp().into())),
            (3, Some(text(&self.verdict))),
            (4, self.id_check_required.then_some(Value::Bool(true))),
            (
                5,
                (!self.warnings.is_empty())
                    .then(|| Value::Array(self.warnings.iter().map(|w| text(w)).collect())),
            ),
            (6, self.trust_sequence.map(Value::from)),
            (7, self.revocation_sequence.map(Value::from)),
            (8, Some(text(&self.freshness))),
            (9, self.rules_sequence.map(Value::from)),
            (10, self.mode.as_deref().map(text)),
            (11, Some(Value::Bytes(self.policy.to_vec()))),
            (12, self.credential_tag.map(|t| Value::Bytes(t.to_vec()))),
        ]))
    }

    /// Reads an entry in its one canonical encoding; anything else is [`Error::Malformed`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let value = cbor::decode(bytes, MAX_ENTRY_BYTES, WHAT)?;
        let mut map = IntMap::new(value, WHAT, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])?;
        let code = |v: Value| {
            cbor::text(v, WHAT).and_then(|t| {
                if t.is_empty() || t.len() > MAX_CODE_CHARS || !t.bytes().all(is_code_byte) {
                    Err(Error::malformed(
                        WHAT,
                        "a code is not a short lower-case word",
                    ))
                } else {
                    Ok(t)
                }
            })
        };
        let seq = cbor::uint(&map.required(1)?, WHAT)?;
        let at = i64::try_from(cbor::uint(&map.required(2)?, WHAT)?)
            .ok()
            .and_then(|t| DateTime::from_timestamp(t, 0))
            .ok_or(Error::malformed(WHAT, "time out of range"))?;
        let verdict = code(map.required(3)?)?;
        let id_check_required = match map.optional(4) {
            None => false,
            Some(Value::Bool(true)) => true,
            Some(_) => return Err(Error::malformed(WHAT, "the ID check flag is only `true`")),
        };
        let warnings = match map.optional(5) {
            None => Vec::new(),
            Some(v) => {
                let items = cbor::array(v, WHAT, MAX_WARNINGS)?;
                if items.is_empty() {
                    return Err(Error::malformed(WHAT, "no warnings is no field"));
                }
                items.into_iter().map(code).collect::<Result<_>>()?
            }
        };
        let optional_uint = |v: Option<Value>| v.map(|v| cbor::uint(&v, WHAT)).transpose();
        let trust_sequence = optional_uint(map.optional(6))?;
        let revocation_sequence = optional_uint(map.optional(7))?;
        let freshness = code(map.required(8)?)?;
        let rules_sequence = optional_uint(map.optional(9))?;
        let mode = map.optional(10).map(code).transpose()?;
        let policy = cbor::fixed(map.required(11)?, WHAT)?;
        let credential_tag = map.optional(12).map(|v| cbor::fixed(v, WHAT)).transpose()?;
        Ok(Self {
            seq,
            at,
            verdict,
            id_check_required,
            warnings,
            trust_sequence,
            revocation_sequence,
            freshness,
            rules_sequence,
            mode,
            policy,
            credential_tag,
        })
    }

    /// Whether the verdict was valid.
    pub fn is_valid(&self) -> bool {
        self.verdict == VALID
    }
}

fn is_code_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
}

/// The verdict code of a valid pass.
pub const VALID: &str = "valid";
/// The verdict code when the venue mode needs no pass.
pub const EXEMPT: &str = "exempt";

/// A position in the chain: how many entries it covers and the chain hash after the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The number of entries ever appended up to here (the last entry's `seq`).
    pub count: u64,
    /// The chain hash after that entry ([`GENESIS`] for none).
    pub hash: [u8; 32],
}

/// The chain hash after an entry: `SHA-256(CHAIN_DOMAIN || previous || digest)`, where `digest`
/// is [`entry_digest`] of the entry's canonical bytes.
pub fn chain_hash(previous: &[u8; 32], digest: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(CHAIN_DOMAIN)
        .chain_update(previous)
        .chain_update(digest)
        .finalize()
        .into()
}

/// SHA-256 of an entry's canonical bytes. A report carries these alone for the entries after its
/// range, so an anchor there can be checked without the entries.
pub fn entry_digest(entry: &[u8]) -> [u8; 32] {
    Sha256::digest(entry).into()
}

/// The bytes the shop key signs for a checkpoint: domain, count (8 bytes big-endian), hash.
pub fn checkpoint_message(head: &ChainHead) -> Vec<u8> {
    let mut message = CHECKPOINT_DOMAIN.to_vec();
    message.extend_from_slice(&head.count.to_be_bytes());
    message.extend_from_slice(&head.hash);
    message
}

/// What the verifier knows of the verdict it logs, besides the verdict itself.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub freshness: &'static str,
    pub trust_sequence: Option<u64>,
    pub revocation_sequence: Option<u64>,
    /// The rules list's sequence and the venue mode judged under.
    pub rules: Option<(u64, String)>,
    pub policy: [u8; 8],
    pub credential: Option<CredentialId>,
}

/// Appends one verdict in its own transaction and returns once it is committed (the store runs
/// with `synchronous = FULL`, so a committed entry survives a crash or power loss). A damaged log
/// is appended to as it stands, never repaired: the break stays visible to
/// [`status`] and in every report.
#[allow(clippy::too_many_arguments)]
pub(crate) fn append(
    conn: &mut Connection,
    at: DateTime<Utc>,
    verdict: &str,
    id_check_required: bool,
    warnings: Vec<String>,
    context: &Context,
    utc_offset_minutes: i32,
) -> Result<ChainHead> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let previous = append_point(&tx)?;
    let credential_tag = match &context.credential {
        Some(id) => Some(credential_tag(&tx, local_day(at, utc_offset_minutes), id)?),
        None => None,
    };
    // A clock before 1970 is logged at 1970: an entry's time is unsigned.
    let at = at.max(DateTime::UNIX_EPOCH);
    let entry = LogEntry {
        seq: previous.count + 1,
        at,
        verdict: verdict.to_owned(),
        id_check_required,
        warnings,
        trust_sequence: context.trust_sequence,
        revocation_sequence: context.revocation_sequence,
        freshness: context.freshness.to_owned(),
        rules_sequence: context.rules.as_ref().map(|(sequence, _)| *sequence),
        mode: context.rules.as_ref().map(|(_, mode)| mode.clone()),
        policy: context.policy,
        credential_tag,
    };
    let bytes = entry.to_bytes()?;
    let head = ChainHead {
        count: entry.seq,
        hash: chain_hash(&previous.hash, &entry_digest(&bytes)),
    };
    let seq = sql_int(head.count)?;
    tx.prepare_cached("INSERT INTO check_log (seq, at, entry) VALUES (?1, ?2, ?3)")?
        .execute(params![seq, at.timestamp(), bytes])?;
    tx.prepare_cached(
        "INSERT INTO check_log_head (id, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )?
    .execute(params![seq, &head.hash[..]])?;
    tx.prepare_cached(
        "INSERT INTO check_counts (hour, code, n) VALUES (?1, ?2, 1)
         ON CONFLICT (hour, code) DO UPDATE SET n = n + 1",
    )?
    .execute(params![local_hour(at, utc_offset_minutes), verdict])?;
    tx.commit()?;
    Ok(head)
}

/// Where the next entry links: the stored head, else the checkpoint or the genesis. A damaged
/// head links on as it reads (a hash that is not 32 bytes as the genesis), which [`status`]
/// reports.
fn append_point(conn: &Connection) -> Result<ChainHead> {
    let last: Option<i64> = conn
        .prepare_cached("SELECT MAX(seq) FROM check_log")?
        .query_row([], |r| r.get(0))?;
    let last = u64::try_from(last.unwrap_or(0)).unwrap_or(0);
    let head = match stored_head(conn)? {
        Some(head) => head,
        None => start(conn)?,
    };
    Ok(ChainHead {
        count: head.count.max(last),
        hash: head.hash,
    })
}

pub(crate) fn sql_int(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::Internal("check log sequence out of range"))
}

/// The local calendar day of `at` at the policy's UTC offset.
pub(crate) fn local_day(at: DateTime<Utc>, utc_offset_minutes: i32) -> NaiveDate {
    (at + Duration::minutes(i64::from(utc_offset_minutes))).date_naive()
}

/// The local hour of `at`: hours since the epoch, counted in local time.
pub(crate) fn local_hour(at: DateTime<Utc>, utc_offset_minutes: i32) -> i64 {
    (at.timestamp() + i64::from(utc_offset_minutes) * 60).div_euclid(3600)
}

/// The credential's tag for the day: HMAC-SHA-256 under the day's key, cut to 16 bytes. The day
/// key is random, made on the day's first scan, and every other day's key is deleted then, so no
/// one (not even with the store in hand) can tag a credential for a past day, and tags of two
/// days are unrelated.
fn credential_tag(tx: &Transaction<'_>, day: NaiveDate, id: &CredentialId) -> Result<[u8; 16]> {
    let day = format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day());
    let stored: Option<Vec<u8>> = tx
        .prepare_cached("SELECT key FROM check_log_day_key WHERE day = ?1")?
        .query_row([&day], |r| r.get(0))
        .optional()?;
    let key = match stored {
        Some(key) if key.len() == 32 => key,
        _ => {
            let mut key = vec![0; 32];
            OsRng.fill_bytes(&mut key);
            tx.execute("DELETE FROM check_log_day_key", [])?;
            tx.execute(
                "INSERT INTO check_log_day_key (day, key) VALUES (?1, ?2)",
                params![day, key],
            )?;
            key
        }
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let mut tag = [0; 16];
    tag.copy_from_slice(&ring::hmac::sign(&key, &id.0).as_ref()[..16]);
    Ok(tag)
}

/// Whether the log in the store is whole. A damaged log is reported, never repaired, and the
/// verifier goes on verifying and logging after the break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStatus {
    /// Every entry decodes, the sequence has no gap, the checkpoint's signature verifies, and the
    /// entries hash to the stored head.
    Intact {
        /// The head the entries hash to.
        head: ChainHead,
    },
    /// The log was altered or damaged: the first entry at which it stops verifying (0 for the
    /// checkpoint, the count + 1 for a head that does not match the entries).
    Damaged {
        /// The sequence number where the log stops verifying.
        at: u64,
    },
}

impl LogStatus {
    /// A stable machine-readable code: `intact` or `damaged`.
    pub fn code(&self) -> &'static str {
        match self {
            LogStatus::Intact { .. } => "intact",
            LogStatus::Damaged { .. } => "damaged",
        }
    }
}

/// What pruning left: the chain position the oldest kept entry links to, signed by the shop key.
pub(crate) struct Checkpoint {
    pub head: ChainHead,
    pub public_key: Vec<u8>,
    pub signature: Vec<u8>,
}

/// The checkpoint pruning left, if any.
pub(crate) fn checkpoint(conn: &Connection) -> Result<Option<Checkpoint>> {
    Ok(conn
        .query_row(
            "SELECT seq, hash, public_key, signature FROM check_log_checkpoint WHERE id = 1",
            [],
            |r| {
                Ok(Checkpoint {
                    head: head_from(r.get(0)?, r.get(1)?),
                    public_key: r.get(2)?,
                    signature: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// The head as the verifier last committed it, if it committed one.
pub(crate) fn stored_head(conn: &Connection) -> Result<Option<ChainHead>> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM check_log_head WHERE id = 1")?
        .query_row([], |r| Ok(head_from(r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Where the log starts: the checkpoint, or the genesis.
pub(crate) fn start(conn: &Connection) -> Result<ChainHead> {
    Ok(checkpoint(conn)?.map_or(
        ChainHead {
            count: 0,
            hash: GENESIS,
        },
        |c| c.head,
    ))
}

/// A head from its stored columns; a damaged row reads as one that will not match.
fn head_from(seq: i64, hash: Vec<u8>) -> ChainHead {
    ChainHead {
        count: u64::try_from(seq).unwrap_or(0),
        hash: hash.try_into().unwrap_or(GENESIS),
    }
}

/// Walks the whole log from the checkpoint (or the genesis) and compares it with the stored head.
pub(crate) fn status(conn: &Connection) -> Result<LogStatus> {
    let mut first = ChainHead {
        count: 0,
        hash: GENESIS,
    };
    if let Some(Checkpoint {
        head: point,
        public_key: key,
        signature,
    }) = checkpoint(conn)?
    {
        let signed = DevicePublicKey::from_bytes(&key)
            .ok()
            .is_some_and(|k| k.verify(&checkpoint_message(&point), &signature).is_ok());
        let ours: Option<Vec<u8>> = conn
            .query_row("SELECT public_key FROM shop_key WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        if !signed || ours.as_deref() != Some(&key[..]) {
            return Ok(LogStatus::Damaged { at: 0 });
        }
        first = point;
    }
    let mut position = first;
    let mut rows = conn.prepare("SELECT seq, entry FROM check_log ORDER BY seq")?;
    let mut rows = rows.query([])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let expected = position.count + 1;
        let bytes = row.get_ref(1)?.as_blob().unwrap_or_default();
        let whole = u64::try_from(seq) == Ok(expected)
            && LogEntry::from_bytes(bytes).is_ok_and(|e| e.seq == expected);
        if !whole {
            return Ok(LogStatus::Damaged { at: expected });
        }
        position = ChainHead {
            count: expected,
            hash: chain_hash(&position.hash, &entry_digest(bytes)),
        };
    }
    let matches = match stored_head(conn)? {
        Some(head) => head == position,
        None => position.count == first.count,
    };
    Ok(if matches {
        LogStatus::Intact { head: position }
    } else {
        LogStatus::Damaged {
            at: position.count + 1,
        }
    })
}

/// The shop's status screen: scans this hour and today (local time), by verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Scans in the current local hour.
    pub this_hour: Tally,
    /// Scans since local midnight.
    pub today: Tally,
}

/// Scans in a period: how many, how many valid, how many refused and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Every verdict given.
    pub scans: u64,
    /// Valid verdicts.
    pub valid: u64,
    /// Refusals (an exempt venue mode's verdicts are neither valid nor refused).
    pub refused: u64,
    /// Refusals by reason code, in code order.
    pub by_reason: Vec<(String, u64)>,
}

impl Tally {
    fn add(&mut self, code: String, n: u64) {
        self.scans += n;
        if code == VALID {
            self.valid += n;
            return;
        }
        if code == EXEMPT {
            return;
        }
        self.refused += n;
        match self.by_reason.iter_mut().find(|(c, _)| *c == code) {
            Some((_, count)) => *count += n,
            None => {
                self.by_reason.push((code, n));
                self.by_reason.sort();
            }
        }
    }
}

/// Reads the running totals: at most 24 hours × the codes seen, whatever the log's length.
pub(crate) fn counters(
    conn: &Connection,
    now: DateTime<Utc>,
    utc_offset_minutes: i32,
) -> Result<Counters> {
    let hour = local_hour(now, utc_offset_minutes);
    let midnight = hour - hour.rem_euclid(24);
    let mut counters = Counters::default();
    let mut query = conn
        .prepare_cached("SELECT hour, code, n FROM check_counts WHERE hour >= ?1 AND hour <= ?2")?;
    let mut rows = query.query(params![midnight, hour])?;
    while let Some(row) = rows.next()? {
        let (at, code, n): (i64, String, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let n = u64::try_from(n).unwrap_or(0);
        if at == hour {
            counters.this_hour.add(code.clone(), n);
        }
        counters.today.add(code, n);
    }
    Ok(counters)
}

/// Deletes the entries older than `before` (and their running totals) and leaves a checkpoint
/// signed by the shop key at the chain position of the last one cut, so that the entries kept
/// still verify from it. Returns how many entries were cut.
pub(crate) fn prune(
    conn: &mut Connection,
    signer: &dyn DeviceSigner,
    before: DateTime<Utc>,
    utc_offset_minutes: i32,
) -> Result<u64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Only a prefix can be cut, or the rest would not link: it ends before the first entry that
    // is not older than `before` (an older entry after it, from a clock set back, is kept).
    let first_kept: Option<i64> = tx.query_row(
        "SELECT MIN(seq) FROM check_log WHERE at >= ?1",
        [before.timestamp()],
        |r| r.get(0),
    )?;
    let last_cut: Option<i64> = match first_kept {
        Some(first) => tx.query_row(
            "SELECT MAX(seq) FROM check_log WHERE seq < ?1",
            [first],
            |r| r.get(0),
        )?,
        None => tx.query_row("SELECT MAX(seq) FROM check_log", [], |r| r.get(0))?,
    };
    let Some(last_cut) = last_cut else {
        return Ok(0);
    };
    let mut position = start(&tx)?;
    {
        let mut rows = tx.prepare("SELECT entry FROM check_log WHERE seq <= ?1 ORDER BY seq")?;
        let mut rows = rows.query([last_cut])?;
        while let Some(row) = rows.next()? {
            let bytes = row.get_ref(0)?.as_blob().unwrap_or_default();
            position = ChainHead {
                count: position.count + 1,
                hash: chain_hash(&position.hash, &entry_digest(bytes)),
            };
        }
    }
    let key = signer.public_key()?;
    let signature = signer.sign(&checkpoint_message(&position))?;
    let cut = tx.execute("DELETE FROM check_log WHERE seq <= ?1", [last_cut])?;
    tx.execute(
        "INSERT OR REPLACE INTO check_log_checkpoint (id, seq, hash, public_key, signature) VALUES (1, ?1, ?2, ?3, ?4)",
        params![sql_int(position.count)?, &position.hash[..], key.as_bytes(), signature],
    )?;
    tx.execute(
        "DELETE FROM check_counts WHERE hour < ?1",
        [local_hour(before, utc_offset_minutes)],
    )?;
    tx.commit()?;
    Ok(cut as u64)
}

/// The digest of a policy, for the log: the first 8 bytes of SHA-256 over its canonical text,
/// every field in a fixed order (destructured, so a new field cannot be left out of it).
pub(crate) fn policy_digest(policy: &crate::policy::Policy) -> [u8; 8] {
    let crate::policy::Policy {
        vaccination,
        pcr_valid_for,
        rapid_antigen_valid_for,
        recovery_valid_days,
        utc_offset_minutes,
    } = policy;
    let number = |n: Option<i64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
    let vaccination = vaccination.as_ref().map_or_else(
        || "-".to_owned(),
        |crate::policy::VaccinationRule {
             days_after_primary,
             primary_valid_days,
             booster_valid_days,
         }| {
            format!(
                "{days_after_primary}/{}/{}",
                number(*primary_valid_days),
                number(*booster_valid_days)
            )
        },
    );
    let text = format!(
        "vaccination={vaccination};pcr={};rat={};recovery={};offset={utc_offset_minutes}",
        number(pcr_valid_for.map(|d| d.num_seconds())),
        number(rapid_antigen_valid_for.map(|d| d.num_seconds())),
        number(*recovery_valid_days),
    );
    let digest = Sha256::digest(text.as_bytes());
    let mut out = [0; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> LogEntry {
        LogEntry {
            seq: 7,
            at: DateTime::from_timestamp(1_639_368_000, 0).unwrap(),
            verdict: "revoked".into(),
            id_check_required: false,
            warnings: vec!["lists_aging".into()],
            trust_sequence: Some(3),
            revocation_sequence: None,
            freshness: "warning".into(),
            rules_sequence: None,
            mode: None,
            policy: [1; 8],
            credential_tag: Some([9; 16]),
        }
    }

    #[test]
    fn entries_round_trip_in_one_encoding_of_about_sixty_bytes() {
        let bytes = entry().to_bytes().unwrap();
        assert!(bytes.len() < 80, "{} bytes", bytes.len());
        assert_eq!(LogEntry::from_bytes(&bytes).unwrap(), entry());
        // A `false` ID check flag is a second encoding of "no flag": refused.
        let mut map = match cbor::decode(&bytes, 256, "t").unwrap() {
            Value::Map(m) => m,
            _ => unreachable!(),
        };
        map.insert(3, (Value::Integer(4.into()), Value::Bool(false)));
        let other = cbor::encode(&Value::Map(map)).unwrap();
        assert!(LogEntry::from_bytes(&other).is_err());
    }

    #[test]
    fn codes_that_could_carry_text_are_refused() {
        let mut e = entry();
        e.verdict = "Kim Minjun".into();
        assert!(LogEntry::from_bytes(&e.to_bytes().unwrap()).is_err());
    }
}
