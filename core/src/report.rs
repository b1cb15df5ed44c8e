//! The inspector's report: a time range of the shop's check log, signed by the shop key, and its
//! offline verification (signature, chain, no gap, no reordering, no edited entry, the summary,
//! and optionally an anchor the authority holds). Also the anchor itself: the chain head the
//! shop's app posts to the authority (docs/format.md, "Check report" and "Anchor").

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use ciborium::value::Value;
use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};

use crate::cbor::{self, IntMap};
use crate::check_log::{self, chain_hash, entry_digest, ChainHead, LogEntry};
use crate::error::{Error, Result};
use crate::keys::{hex, DevicePublicKey, DeviceSigner};

/// Domain of the shop key's signature over a report: `domain || SHA-256(payload)`.
pub const REPORT_DOMAIN: &[u8] = b"vaxpass check report v1\0";
/// Domain of the shop key's signature over an anchor: `domain || payload`.
pub const ANCHOR_DOMAIN: &[u8] = b"vaxpass check anchor v1\0";
/// Largest report accepted, checked before anything is parsed: some 250,000 entries.
pub const MAX_REPORT_BYTES: usize = 16 << 20;
/// Largest anchor accepted.
pub const MAX_ANCHOR_BYTES: usize = 256;
const MAX_ENTRIES: usize = 250_000;
const VERSION: u64 = 1;
const WHAT: &str = "check report";
const ANCHOR: &str = "check anchor";

/// Why a report (or the anchor given with it) proves nothing. The report is refused whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportRefused {
    /// Larger than [`MAX_REPORT_BYTES`] (or an anchor larger than [`MAX_ANCHOR_BYTES`]).
    #[error("the report is too large: {size} bytes, the limit is {limit}")]
    TooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a report in its one encoding (truncated, or not a report at all).
    #[error("the report is malformed: {0}")]
    Malformed(&'static str),
    /// Signed by another key than the shop's.
    #[error("the report is signed by another key than the shop's")]
    WrongKey,
    /// The signature does not verify: the report was changed after it was signed.
    #[error("the report's signature does not verify")]
    BadSignature,
    /// An entry is missing: the one after `after` is not there.
    #[error("an entry is missing after entry {after}")]
    Gap {
        /// The last entry before the gap.
        after: u64,
    },
    /// The entries are not in the order they were appended.
    #[error("entries are out of order at position of entry {expected}")]
    OutOfOrder {
        /// The entry that should be at that place.
        expected: u64,
    },
    /// The entries do not hash to the chain head the report states: an entry was edited, or
    /// entries were inserted or removed.
    #[error("the entries do not hash to the chain head: an entry was edited, added or removed")]
    BrokenChain,
    /// The counts or the freshness summary do not match the entries.
    #[error("the report's summary does not match its entries")]
    SummaryMismatch,
    /// The anchor is not a valid anchor signed by this shop's key.
    #[error("the anchor is not signed by this shop's key")]
    BadAnchor,
    /// The authority holds an anchor further than the report's head: entries were cut.
    #[error("entries were cut: the authority holds an anchor at entry {anchored}, the report ends at {head}")]
    TruncatedTail {
        /// The anchored count.
        anchored: u64,
        /// The report's head count.
        head: u64,
    },
    /// The chain hash at the anchored count differs from the anchor: the log was rewritten.
    #[error("the log was rewritten: the chain at entry {count} differs from the anchor")]
    AnchorMismatch {
        /// The anchored count.
        count: u64,
    },
}

impl ReportRefused {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ReportRefused::TooLarge { .. } => "too_large",
            ReportRefused::Malformed(_) => "malformed",
            ReportRefused::WrongKey => "wrong_key",
            ReportRefused::BadSignature => "bad_signature",
            ReportRefused::Gap { .. } => "gap",
            ReportRefused::OutOfOrder { .. } => "out_of_order",
            ReportRefused::BrokenChain => "broken_chain",
            ReportRefused::SummaryMismatch => "summary_mismatch",
            ReportRefused::BadAnchor => "bad_anchor",
            ReportRefused::TruncatedTail { .. } => "truncated_tail",
            ReportRefused::AnchorMismatch { .. } => "anchor_mismatch",
        }
    }
}

impl From<Error> for ReportRefused {
    fn from(e: Error) -> Self {
        match e {
            Error::TooLarge { size, limit, .. } => ReportRefused::TooLarge { size, limit },
            Error::Malformed { why, .. } => ReportRefused::Malformed(why),
            _ => ReportRefused::Malformed("unreadable"),
        }
    }
}

/// Verdicts of one local hour with one verdict code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HourCount {
    /// The start of the local hour (a UTC instant).
    pub hour: DateTime<Utc>,
    /// `valid` or the reason code.
    pub code: String,
    /// How many.
    pub count: u64,
}

/// A chain head the shop signed for the authority: its count and hash, and when (the device
/// clock). No personal data: 32 bytes, a count and a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The shop key that signed it (32 bytes Ed25519 or 33 bytes P-256).
    pub shop_key: Vec<u8>,
    /// The head anchored.
    pub head: ChainHead,
    /// When the shop signed it, by its clock.
    pub at: DateTime<Utc>,
}

impl Anchor {
    /// Reads and checks a signed anchor: size first, then the signature, then the content.
    pub fn verify(bytes: &[u8]) -> Result<Self, ReportRefused> {
        let (key, payload) = signed(bytes, MAX_ANCHOR_BYTES, ANCHOR, None, |payload| {
            let mut message = ANCHOR_DOMAIN.to_vec();
            message.extend_from_slice(payload);
            message
        })
        .map_err(|e| match e {
            ReportRefused::TooLarge { .. } => e,
            _ => ReportRefused::BadAnchor,
        })?;
        let anchor = (|| -> Result<Self> {
            let value = cbor::decode(&payload, MAX_ANCHOR_BYTES, ANCHOR)?;
            let mut map = IntMap::new(value, ANCHOR, &[1, 2, 3])?;
            let head = ChainHead {
                count: cbor::uint(&map.required(1)?, ANCHOR)?,
                hash: cbor::fixed(map.required(2)?, ANCHOR)?,
            };
            Ok(Self {
                shop_key: key.as_bytes().to_vec(),
                head,
                at: time(&map.required(3)?, ANCHOR)?,
            })
        })()
        .map_err(|_| ReportRefused::BadAnchor)?;
        Ok(anchor)
    }
}

/// Signs an anchor of `head` at `at`.
pub(crate) fn sign_anchor(
    signer: &dyn DeviceSigner,
    head: ChainHead,
    at: DateTime<Utc>,
) -> Result<Vec<u8>> {
    let payload = cbor::encode(&cbor::map([
        (1, Some(head.count.into())),
        (2, Some(Value::Bytes(head.hash.to_vec()))),
        (3, Some(at.timestamp().max(0).into())),
    ]))?;
    let mut message = ANCHOR_DOMAIN.to_vec();
    message.extend_from_slice(&payload);
    envelope(signer, payload, &message)
}

fn envelope(signer: &dyn DeviceSigner, payload: Vec<u8>, message: &[u8]) -> Result<Vec<u8>> {
    let key = signer.public_key()?;
    let signature = signer.sign(message)?;
    if signature.len() != 64 {
        return Err(Error::Signer(
            "a shop key signature must be 64 bytes".into(),
        ));
    }
    cbor::encode(&Value::Array(vec![
        Value::Bytes(key.as_bytes().to_vec()),
        Value::Bytes(payload),
        Value::Bytes(signature),
    ]))
}

/// What an anchor says of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorCheck {
    /// No anchor was given: the newest entries could have been cut unseen.
    NotGiven,
    /// The report's chain passes through the anchored head: nothing up to it was cut or changed.
    Matches {
        /// The anchored count.
        count: u64,
    },
    /// The anchor is older than the report's first entry: only its count could be checked.
    Before {
        /// The anchored count.
        count: u64,
    },
}

/// What a verified report proves, as data; [`ReportProof::sentence`] says it in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportProof {
    /// The shop key that signed it.
    pub shop_key: Vec<u8>,
    /// The first 8 bytes of SHA-256 of the shop key, in hex: how staff and inspectors name it.
    pub shop_kid: String,
    /// The range asked for.
    pub from: DateTime<Utc>,
    /// The end of the range asked for.
    pub to: DateTime<Utc>,
    /// The shop's UTC offset, for showing times.
    pub utc_offset_minutes: i32,
    /// When the report was made (the device clock).
    pub exported_at: DateTime<Utc>,
    /// The chain head at export.
    pub head: ChainHead,
    /// Verdicts in the report.
    pub checks: u64,
    /// Valid verdicts.
    pub valid: u64,
    /// Refusals (an exempt venue mode's verdicts are neither valid nor refused).
    pub refused: u64,
    /// Valid paper passes, which needed an ID check.
    pub id_checks: u64,
    /// Refusals by reason code.
    pub by_reason: Vec<(String, u64)>,
    /// Verdicts per local hour and verdict code.
    pub hours: Vec<HourCount>,
    /// Verdicts by the lists' freshness state at the time.
    pub freshness: Vec<(String, u64)>,
    /// What the anchor given says.
    pub anchor: AnchorCheck,
    /// The entries, in order.
    pub entries: Vec<LogEntry>,
}

impl ReportProof {
    /// Whether every verdict in the range was given with fresh lists.
    pub fn lists_fresh(&self) -> bool {
        self.freshness.iter().all(|(code, _)| code == "fresh")
    }

    /// What the report proves in one sentence, e.g. "this device checked 143 passes between
    /// 11:40 and 12:40 KST, 3 refused, lists fresh".
    pub fn sentence(&self) -> String {
        let offset = Duration::minutes(i64::from(self.utc_offset_minutes));
        let local = |t: DateTime<Utc>| (t + offset).naive_utc();
        let (from, to) = (local(self.from), local(self.to));
        let zone = match self.utc_offset_minutes {
            540 => "KST".to_owned(),
            0 => "UTC".to_owned(),
            m => format!(
                "UTC{}{:02}:{:02}",
                if m < 0 { '-' } else { '+' },
                m.unsigned_abs() / 60,
                m.unsigned_abs() % 60
            ),
        };
        let end = if from.date() == to.date() {
            to.format("%H:%M").to_string()
        } else {
            to.format("%Y-%m-%d %H:%M").to_string()
        };
        let lists = if self.lists_fresh() {
            "lists fresh".to_owned()
        } else {
            let stale: u64 = self
                .freshness
                .iter()
                .filter(|(c, _)| c != "fresh")
                .map(|(_, n)| n)
                .sum();
            format!("lists not fresh for {stale} of them")
        };
        let anchor = match self.anchor {
            AnchorCheck::NotGiven => {
                "; not anchored, so entries after the last one shown could have been cut"
                    .to_owned()
            }
            AnchorCheck::Matches { count } => {
                format!("; anchored: none of the first {count} entries was cut or changed")
            }
            AnchorCheck::Before { count } => format!(
                "; the anchor (entry {count}) is older than this range: the newest entries could have been cut"
            ),
        };
        format!(
            "this device ({}) checked {} passes between {} {} and {} {}, {} refused, {}{}",
            self.shop_kid,
            self.checks,
            from.format("%Y-%m-%d"),
            from.format("%H:%M"),
            end,
            zone,
            self.refused,
            lists,
            anchor
        )
    }
}

/// Reads `[key, payload, signature]` after checking its size, checks the key against the one
/// expected and the signature over `message(payload)`, and only then hands back the payload.
fn signed(
    bytes: &[u8],
    limit: usize,
    what: &'static str,
    expected_key: Option<&[u8]>,
    message: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Result<(DevicePublicKey, Vec<u8>), ReportRefused> {
    if bytes.len() > limit {
        return Err(ReportRefused::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let value = cbor::decode(bytes, limit, what)?;
    let [key, payload, signature]: [Value; 3] = cbor::array(value, what, 3)?
        .try_into()
        .map_err(|_| ReportRefused::Malformed("expected key, payload and signature"))?;
    let key = cbor::bytes(key, what)?;
    if expected_key.is_some_and(|expected| expected != key) {
        return Err(ReportRefused::WrongKey);
    }
    let key = DevicePublicKey::from_bytes(&key)?;
    let payload = cbor::bytes(payload, what)?;
    let signature = cbor::bytes(signature, what)?;
    key.verify(&message(&payload), &signature)
        .map_err(|_| ReportRefused::BadSignature)?;
    Ok((key, payload))
}

/// The bytes the shop key signs for a report whose payload is `payload`: the domain, then
/// SHA-256 of the payload (docs/format.md, "Check report").
pub fn report_message(payload: &[u8]) -> Vec<u8> {
    let mut message = REPORT_DOMAIN.to_vec();
    message.extend_from_slice(&Sha256::digest(payload));
    message
}

fn time(value: &Value, what: &'static str) -> Result<DateTime<Utc>> {
    i64::try_from(cbor::uint(value, what)?)
        .ok()
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .ok_or(Error::malformed(what, "time out of range"))
}

fn head_value(head: &ChainHead) -> Value {
    Value::Array(vec![head.count.into(), Value::Bytes(head.hash.to_vec())])
}

fn head_of(value: Value) -> Result<ChainHead> {
    let [count, hash]: [Value; 2] = cbor::array(value, WHAT, 2)?
        .try_into()
        .map_err(|_| Error::malformed(WHAT, "a chain position is a count and a hash"))?;
    Ok(ChainHead {
        count: cbor::uint(&count, WHAT)?,
        hash: cbor::fixed(hash, WHAT)?,
    })
}

/// The summary a report carries, computed from its entries (by the shop when exporting, by the
/// inspector when checking).
fn summary(entries: &[LogEntry], utc_offset_minutes: i32) -> (Vec<HourCount>, Vec<(String, u64)>) {
    let mut hours: Vec<HourCount> = Vec::new();
    let mut freshness: Vec<(String, u64)> = Vec::new();
    for e in entries {
        let hour = check_log::local_hour(e.at, utc_offset_minutes) * 3600
            - i64::from(utc_offset_minutes) * 60;
        let hour = DateTime::from_timestamp(hour, 0).unwrap_or_default();
        match hours
            .iter_mut()
            .find(|h| h.hour == hour && h.code == e.verdict)
        {
            Some(h) => h.count += 1,
            None => hours.push(HourCount {
                hour,
                code: e.verdict.clone(),
                count: 1,
            }),
        }
        match freshness.iter_mut().find(|(c, _)| *c == e.freshness) {
            Some((_, n)) => *n += 1,
            None => freshness.push((e.freshness.clone(), 1)),
        }
    }
    hours.sort();
    freshness.sort();
    (hours, freshness)
}

fn hours_value(hours: &[HourCount]) -> Value {
    Value::Array(
        hours
            .iter()
            .map(|h| {
                Value::Array(vec![
                    h.hour.timestamp().into(),
                    Value::Text(h.code.clone()),
                    h.count.into(),
                ])
            })
            .collect(),
    )
}

fn counts_value(counts: &[(String, u64)]) -> Value {
    Value::Array(
        counts
            .iter()
            .map(|(code, n)| Value::Array(vec![Value::Text(code.clone()), (*n).into()]))
            .collect(),
    )
}

/// Exports the entries given between `from` and `to` (inclusive) as a report signed by `signer`.
/// The range runs from the first entry given in it to the last, with every entry in between
/// (an entry the device clock put outside it stays in its place in the chain).
pub(crate) fn export(
    conn: &Connection,
    signer: &dyn DeviceSigner,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    utc_offset_minutes: i32,
) -> Result<Vec<u8>> {
    if to < from || from.timestamp() < 0 {
        return Err(Error::InvalidArgument(
            "a report's range ends after it starts, after 1970".into(),
        ));
    }
    let (first, last): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT MIN(seq), MAX(seq) FROM check_log WHERE at >= ?1 AND at <= ?2",
        params![from.timestamp(), to.timestamp()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut position = check_log::start(conn)?;
    let mut before = None;
    let mut entries = Vec::new();
    let mut parsed = Vec::new();
    let mut after = Vec::new();
    let mut rows = conn.prepare("SELECT seq, entry FROM check_log ORDER BY seq")?;
    let mut rows = rows.query([])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let bytes = row.get_ref(1)?.as_blob().unwrap_or_default();
        let digest = entry_digest(bytes);
        let in_range = matches!((first, last), (Some(f), Some(l)) if f <= seq && seq <= l);
        if in_range {
            before.get_or_insert(position);
            entries.push(Value::Bytes(bytes.to_vec()));
            // An entry the store damaged goes in as it is: the inspector sees the break.
            if let Ok(entry) = LogEntry::from_bytes(bytes) {
                parsed.push(entry);
            }
        } else if before.is_some() || first.is_none() {
            after.push(Value::Bytes(digest.to_vec()));
        }
        position = ChainHead {
            count: position.count + 1,
            hash: chain_hash(&position.hash, &digest),
        };
        if first.is_none() {
            // No entry in range: the report is empty and starts at the head.
            after.clear();
        }
    }
    let before = before.unwrap_or(position);
    // The head as the store committed it, not as recomputed: a store edited behind the
    // verifier's back gives a report whose entries do not hash to it.
    let head = check_log::stored_head(conn)?.unwrap_or(position);
    let (hours, freshness) = summary(&parsed, utc_offset_minutes);
    let payload = cbor::encode(&cbor::map([
        (1, Some(VERSION.into())),
        (2, Some(from.timestamp().into())),
        (3, Some(to.timestamp().into())),
        (4, Some(utc_offset_minutes.into())),
        (5, Some(head_value(&before))),
        (6, Some(Value::Array(entries))),
        (7, Some(Value::Array(after))),
        (8, Some(head_value(&head))),
        (9, Some(hours_value(&hours))),
        (10, Some(counts_value(&freshness))),
        (11, Some(now.timestamp().max(0).into())),
    ]))?;
    let message = report_message(&payload);
    envelope(signer, payload, &message)
}

/// Verifies a report offline: its size before anything else, the shop key (when the inspector
/// knows it), the signature, then every entry in order against the chain, the summary against
/// the entries, and the anchor (signed by the same shop key) against the chain. Returns what it
/// proves, or why it proves nothing.
pub fn verify_report(
    bytes: &[u8],
    shop_key: Option<&[u8]>,
    anchor: Option<&[u8]>,
) -> Result<ReportProof, ReportRefused> {
    let (key, payload) = signed(bytes, MAX_REPORT_BYTES, WHAT, shop_key, report_message)?;
    let anchor = anchor.map(Anchor::verify).transpose()?;
    if anchor
        .as_ref()
        .is_some_and(|a| a.shop_key != key.as_bytes())
    {
        return Err(ReportRefused::BadAnchor);
    }
    let value = cbor::decode(&payload, MAX_REPORT_BYTES, WHAT)?;
    let mut map = IntMap::new(value, WHAT, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])?;
    if cbor::uint(&map.required(1)?, WHAT)? != VERSION {
        return Err(ReportRefused::Malformed("unknown report version"));
    }
    let from = time(&map.required(2)?, WHAT)?;
    let to = time(&map.required(3)?, WHAT)?;
    let utc_offset_minutes = i32::try_from(cbor::int(&map.required(4)?, WHAT)?)
        .ok()
        .filter(|m| m.unsigned_abs() < 24 * 60)
        .ok_or(ReportRefused::Malformed("UTC offset out of range"))?;
    let before = head_of(map.required(5)?)?;
    let raw_entries = cbor::array(map.required(6)?, WHAT, MAX_ENTRIES)?;
    let after = cbor::array(map.required(7)?, WHAT, MAX_ENTRIES)?;
    let head = head_of(map.required(8)?)?;
    let hours_given = map.required(9)?;
    let freshness_given = map.required(10)?;
    let exported_at = time(&map.required(11)?, WHAT)?;

    let mut entries = Vec::with_capacity(raw_entries.len());
    let mut position = before;
    let mut anchored_hash = None;
    let mut check_anchor = |position: &ChainHead| {
        if anchor
            .as_ref()
            .is_some_and(|a| a.head.count == position.count)
        {
            anchored_hash = Some(position.hash);
        }
    };
    check_anchor(&position);
    let raw: Vec<Vec<u8>> = raw_entries
        .into_iter()
        .map(|v| cbor::bytes(v, WHAT))
        .collect::<Result<_>>()?;
    let parsed: Vec<LogEntry> = raw
        .iter()
        .map(|b| LogEntry::from_bytes(b))
        .collect::<Result<_>>()?;
    for (i, (bytes, entry)) in raw.iter().zip(&parsed).enumerate() {
        let expected = position.count + 1;
        if entry.seq != expected {
            // A later entry in its place is a reordering if the expected one comes later on,
            // else the expected one is gone.
            return Err(if parsed[i..].iter().any(|e| e.seq == expected) {
                ReportRefused::OutOfOrder { expected }
            } else {
                ReportRefused::Gap {
                    after: position.count,
                }
            });
        }
        position = ChainHead {
            count: expected,
            hash: chain_hash(&position.hash, &entry_digest(bytes)),
        };
        check_anchor(&position);
    }
    entries.extend(parsed);
    for digest in after {
        let digest: [u8; 32] = cbor::fixed(digest, WHAT)?;
        position = ChainHead {
            count: position.count + 1,
            hash: chain_hash(&position.hash, &digest),
        };
        check_anchor(&position);
    }
    if position != head {
        return Err(ReportRefused::BrokenChain);
    }
    let (hours, freshness) = summary(&entries, utc_offset_minutes);
    if hours_value(&hours) != hours_given || counts_value(&freshness) != freshness_given {
        return Err(ReportRefused::SummaryMismatch);
    }
    let anchor = match anchor {
        None => AnchorCheck::NotGiven,
        Some(a) if a.head.count > head.count => {
            return Err(ReportRefused::TruncatedTail {
                anchored: a.head.count,
                head: head.count,
            })
        }
        Some(a) => match anchored_hash {
            Some(hash) if hash == a.head.hash => AnchorCheck::Matches {
                count: a.head.count,
            },
            Some(_) => {
                return Err(ReportRefused::AnchorMismatch {
                    count: a.head.count,
                })
            }
            None => AnchorCheck::Before {
                count: a.head.count,
            },
        },
    };
    let mut proof = ReportProof {
        shop_kid: hex(&key.kid()),
        shop_key: key.as_bytes().to_vec(),
        from,
        to,
        utc_offset_minutes,
        exported_at,
        head,
        checks: entries.len() as u64,
        valid: 0,
        refused: 0,
        id_checks: 0,
        by_reason: Vec::new(),
        hours,
        freshness,
        anchor,
        entries: Vec::new(),
    };
    for e in &entries {
        if e.is_valid() {
            proof.valid += 1;
            proof.id_checks += u64::from(e.id_check_required);
        } else if e.verdict != check_log::EXEMPT {
            proof.refused += 1;
            match proof.by_reason.iter_mut().find(|(c, _)| *c == e.verdict) {
                Some((_, n)) => *n += 1,
                None => proof.by_reason.push((e.verdict.clone(), 1)),
            }
        }
    }
    proof.by_reason.sort();
    proof.entries = entries;
    Ok(proof)
}

impl fmt::Display for ReportProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sentence())
    }
}
