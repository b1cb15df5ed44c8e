//! The shop's check log as the app sees it: its head and status, the counters for the status
//! screen, and the inspector's side, a report's verification (what it proves, as data and in a
//! sentence). Converted here, decided in the core (`vaxpass::check_log`, `vaxpass::report`).

use std::time::SystemTime;

use crate::convert::system_time;

/// A count (entries, scans) as a foreign `Long`. No log reaches 2^63 entries, so the clamp is
/// never reached.
fn long(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A position in the check log's hash chain: how many entries, and the hash after the last.
/// 32 bytes and a count: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChainHead {
    /// The number of entries ever appended up to here.
    pub count: i64,
    /// The chain hash after that entry, 32 bytes (all zero for none).
    pub hash: Vec<u8>,
}

impl From<vaxpass::ChainHead> for ChainHead {
    fn from(h: vaxpass::ChainHead) -> Self {
        Self {
            count: long(h.count),
            hash: h.hash.to_vec(),
        }
    }
}

/// Whether the check log in the store is whole. A damaged log is reported, never repaired, and
/// verifying goes on regardless.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LogStatus {
    /// Every entry decodes, the sequence has no gap, the checkpoint verifies, and the entries
    /// hash to the stored head.
    Intact {
        /// The head the entries hash to.
        head: ChainHead,
    },
    /// The log was altered or damaged.
    Damaged {
        /// The entry where it stops verifying (0: the checkpoint).
        at: i64,
    },
}

impl From<vaxpass::LogStatus> for LogStatus {
    fn from(s: vaxpass::LogStatus) -> Self {
        match s {
            vaxpass::LogStatus::Intact { head } => Self::Intact { head: head.into() },
            vaxpass::LogStatus::Damaged { at } => Self::Damaged { at: long(at) },
        }
    }
}

/// How many times one code occurs: a reason code with its refusals, or a freshness state with
/// its verdicts.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeCount {
    /// The stable code, e.g. `expired` or `fresh`.
    pub code: String,
    /// How many.
    pub count: i64,
}

fn code_counts(counts: Vec<(String, u64)>) -> Vec<CodeCount> {
    counts
        .into_iter()
        .map(|(code, count)| CodeCount {
            code,
            count: long(count),
        })
        .collect()
}

/// Scans in a period: how many, how many valid, how many refused and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Tally {
    /// Every verdict given.
    pub scans: i64,
    /// Valid verdicts.
    pub valid: i64,
    /// Refusals.
    pub refused: i64,
    /// Refusals by reason code, in code order.
    pub by_reason: Vec<CodeCount>,
}

impl From<vaxpass::Tally> for Tally {
    fn from(t: vaxpass::Tally) -> Self {
        Self {
            scans: long(t.scans),
            valid: long(t.valid),
            refused: long(t.refused),
            by_reason: code_counts(t.by_reason),
        }
    }
}

/// The counters for the shop's status screen, straight from the check log.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Counters {
    /// Scans in the current hour, in the policy's time zone.
    pub this_hour: Tally,
    /// Scans since midnight, in the policy's time zone.
    pub today: Tally,
}

impl From<vaxpass::Counters> for Counters {
    fn from(c: vaxpass::Counters) -> Self {
        Self {
            this_hour: c.this_hour.into(),
            today: c.today.into(),
        }
    }
}

/// Verdicts of one local hour with one verdict code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HourCount {
    /// The start of the hour.
    pub hour: SystemTime,
    /// `valid` or the reason code.
    pub code: String,
    /// How many.
    pub count: i64,
}

/// What the anchor given with a report says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AnchorCheck {
    /// No anchor was given: the newest entries could have been cut unseen.
    NotGiven,
    /// The report's chain passes through the anchored head: nothing up to it was cut or changed.
    Matches {
        /// The anchored count.
        count: i64,
    },
    /// The anchor is older than the report's first entry: only its count could be checked.
    Before {
        /// The anchored count.
        count: i64,
    },
}

impl From<vaxpass::AnchorCheck> for AnchorCheck {
    fn from(a: vaxpass::AnchorCheck) -> Self {
        match a {
            vaxpass::AnchorCheck::NotGiven => Self::NotGiven,
            vaxpass::AnchorCheck::Matches { count } => Self::Matches { count: long(count) },
            vaxpass::AnchorCheck::Before { count } => Self::Before { count: long(count) },
        }
    }
}

/// What a verified report proves, as data, and `sentence`, the same in words.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReportProof {
    /// What it proves in one sentence, e.g. "this device (…) checked 143 passes between
    /// 2021-12-13 11:40 and 12:40 KST, 3 refused, lists fresh; …".
    pub sentence: String,
    /// The shop key that signed it.
    pub shop_key: Vec<u8>,
    /// The first 8 bytes of SHA-256 of the shop key, in hex: how staff and inspectors name it.
    pub shop_kid: String,
    /// The start of the range.
    pub from: SystemTime,
    /// The end of the range (inclusive).
    pub to: SystemTime,
    /// The shop's UTC offset in minutes, for showing times.
    pub utc_offset_minutes: i32,
    /// When the report was made, by the shop's clock.
    pub exported_at: SystemTime,
    /// The chain head at export.
    pub head: ChainHead,
    /// Verdicts in the range.
    pub checks: i64,
    /// Valid verdicts.
    pub valid: i64,
    /// Refusals.
    pub refused: i64,
    /// Valid paper passes, which needed an ID check.
    pub id_checks: i64,
    /// Refusals by reason code.
    pub by_reason: Vec<CodeCount>,
    /// Verdicts per local hour and verdict code.
    pub hours: Vec<HourCount>,
    /// Verdicts by the lists' freshness state at the time.
    pub freshness: Vec<CodeCount>,
    /// Whether every verdict in the range was given with fresh lists.
    pub lists_fresh: bool,
    /// What the anchor given says.
    pub anchor: AnchorCheck,
}

impl From<vaxpass::ReportProof> for ReportProof {
    fn from(p: vaxpass::ReportProof) -> Self {
        Self {
            sentence: p.sentence(),
            lists_fresh: p.lists_fresh(),
            shop_key: p.shop_key,
            shop_kid: p.shop_kid,
            from: system_time(p.from),
            to: system_time(p.to),
            utc_offset_minutes: p.utc_offset_minutes,
            exported_at: system_time(p.exported_at),
            head: p.head.into(),
            checks: long(p.checks),
            valid: long(p.valid),
            refused: long(p.refused),
            id_checks: long(p.id_checks),
            by_reason: code_counts(p.by_reason),
            hours: p
                .hours
                .into_iter()
                .map(|h| HourCount {
                    hour: system_time(h.hour),
                    code: h.code,
                    count: long(h.count),
                })
                .collect(),
            freshness: code_counts(p.freshness),
            anchor: p.anchor.into(),
        }
    }
}

/// Why a report, or the anchor given with it, proves nothing: the report is refused whole.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ReportRefused {
    /// Larger than the limit (16 MiB for a report, 256 bytes for an anchor).
    TooLarge {
        /// Its size in bytes.
        size: i64,
        /// The limit.
        limit: i64,
    },
    /// Not a report in its one encoding (truncated, or not a report at all).
    Malformed {
        /// What is wrong, naming no content.
        detail: String,
    },
    /// Signed by another key than the shop's.
    WrongKey,
    /// The signature does not verify: the report was changed after it was signed.
    BadSignature,
    /// An entry is missing after entry `after`.
    Gap {
        /// The last entry before the gap.
        after: i64,
    },
    /// The entries are not in the order they were appended.
    OutOfOrder {
        /// The entry that should be at that place.
        expected: i64,
    },
    /// The entries do not hash to the chain head: an entry was edited, added or removed.
    BrokenChain,
    /// The counts or the freshness summary do not match the entries.
    SummaryMismatch,
    /// The anchor is not a valid anchor signed by this shop's key.
    BadAnchor,
    /// The authority holds an anchor further than the report's head: entries were cut.
    TruncatedTail {
        /// The anchored count.
        anchored: i64,
        /// The report's head count.
        head: i64,
    },
    /// The chain at the anchored count differs from the anchor: the log was rewritten.
    AnchorMismatch {
        /// The anchored count.
        count: i64,
    },
}

impl From<vaxpass::ReportRefused> for ReportRefused {
    fn from(r: vaxpass::ReportRefused) -> Self {
        use vaxpass::ReportRefused as R;
        let size = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        match r {
            R::TooLarge { size: s, limit } => Self::TooLarge {
                size: size(s),
                limit: size(limit),
            },
            R::Malformed(why) => Self::Malformed {
                detail: why.to_owned(),
            },
            R::WrongKey => Self::WrongKey,
            R::BadSignature => Self::BadSignature,
            R::Gap { after } => Self::Gap { after: long(after) },
            R::OutOfOrder { expected } => Self::OutOfOrder {
                expected: long(expected),
            },
            R::BrokenChain => Self::BrokenChain,
            R::SummaryMismatch => Self::SummaryMismatch,
            R::BadAnchor => Self::BadAnchor,
            R::TruncatedTail { anchored, head } => Self::TruncatedTail {
                anchored: long(anchored),
                head: long(head),
            },
            R::AnchorMismatch { count } => Self::AnchorMismatch { count: long(count) },
        }
    }
}

/// The inspector's answer for a report: what it proves, or why it proves nothing. Returned,
/// never thrown: a refused report is an outcome, like a refused pass.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
#[allow(clippy::large_enum_variant)] // it crosses the FFI once, serialised; a Box would not
pub enum ReportCheck {
    /// Signature, chain, order, summary (and the anchor, if given) all verify.
    Proven {
        /// What it proves.
        proof: ReportProof,
    },
    /// It proves nothing.
    Refused {
        /// Why.
        reason: ReportRefused,
        /// The stable code, e.g. `broken_chain`.
        code: String,
        /// A message for staff and logs, e.g. "an entry is missing after entry 41".
        detail: String,
    },
}

/// Verifies a shop's report offline: size first, then the shop key (when `shop_key`, the key
/// the inspector expects, is given), the signature, every entry against the chain in order, the
/// summary against the entries, and `anchor` (the signed chain head the authority holds, if
/// given) against the chain. Without an anchor the newest entries could have been cut unseen;
/// `proof.anchor` says which held.
#[uniffi::export]
pub fn verify_report(
    report: Vec<u8>,
    shop_key: Option<Vec<u8>>,
    anchor: Option<Vec<u8>>,
) -> ReportCheck {
    match vaxpass::verify_report(&report, shop_key.as_deref(), anchor.as_deref()) {
        Ok(proof) => ReportCheck::Proven {
            proof: proof.into(),
        },
        Err(refused) => ReportCheck::Refused {
            code: refused.code().to_owned(),
            detail: refused.to_string(),
            reason: refused.into(),
        },
    }
}
