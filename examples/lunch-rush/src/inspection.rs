//! 12:40, the inspection: the service is back, every shop anchors its check log's head with it,
//! and an inspector verifies every shop's report of the outage hour, without and with the
//! anchor the service hands back. Then one shop's log is tampered with four ways (an edited
//! entry, a deleted one, a reordered pair, a cut tail whose head was rewritten to match), and
//! each must be caught.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use vaxpass::keys::hex;
use vaxpass::{check_log, verify_report, AnchorCheck, LogEntry, ReportRefused};
use vaxpass::{Verifier, VerifierConfig};

use crate::scans::Shops;
use crate::service::Service;

/// What the inspector could say of one shop.
#[derive(Debug, Clone)]
pub struct ShopProof {
    pub shop: usize,
    /// What the report proves, in words (with the anchor).
    pub sentence: String,
    pub checks: u64,
    /// Verified without the anchor, and with it (the anchor matching the chain).
    pub without_anchor: bool,
    pub with_anchor: bool,
}

/// One way of tampering and what the inspector said.
#[derive(Debug, Clone)]
pub struct Tampering {
    pub what: &'static str,
    /// The inspector's answer with the anchor: `None` if the report was accepted.
    pub refused: Option<ReportRefused>,
    /// Whether the report without the anchor was accepted (a cut tail cannot be seen then).
    pub accepted_without_anchor: bool,
}

impl Tampering {
    pub fn detected(&self) -> bool {
        self.refused.is_some()
    }
}

#[derive(Debug, Default)]
pub struct Inspection {
    pub shops: Vec<ShopProof>,
    pub tampering: Vec<Tampering>,
}

impl Inspection {
    pub fn ok(&self) -> bool {
        !self.shops.is_empty()
            && self.shops.iter().all(|s| s.without_anchor && s.with_anchor)
            && self.tampering.len() == 4
            && self.tampering.iter().all(Tampering::detected)
    }
}

/// Anchors every shop, verifies every report of `from..=to`, then tampers with shop 0.
pub fn run(
    dir: &std::path::Path,
    shops: &Shops,
    service: &Service,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Inspection, String> {
    let e = |e: vaxpass::Error| e.to_string();
    let mut inspection = Inspection::default();
    let mut anchors = Vec::new();
    for verifier in shops.all() {
        let anchor = verifier.anchor(to).map_err(e)?;
        service.post_anchor(&anchor)?;
        anchors.push(anchor);
    }
    for (shop, verifier) in shops.all().iter().enumerate() {
        let key = verifier.shop_public_key().map_err(e)?;
        let (status, _, anchor) = service.get(&format!("/v1/anchors/{}", hex(&key)))?;
        if status != 200 || anchor != anchors[shop] {
            return Err(format!("shop {shop}: the service did not keep its anchor"));
        }
        let report = verifier.export_report(from, to, to).map_err(e)?;
        let without = verify_report(&report, Some(&key), None);
        let with = verify_report(&report, Some(&key), Some(&anchor));
        let with_anchor = matches!(&with, Ok(p) if matches!(p.anchor, AnchorCheck::Matches { .. }));
        inspection.shops.push(ShopProof {
            shop,
            sentence: match &with {
                Ok(proof) => proof.sentence(),
                Err(refused) => format!("REFUSED: {refused}"),
            },
            checks: with.as_ref().map_or(0, |p| p.checks),
            without_anchor: without.is_ok(),
            with_anchor,
        });
    }
    let shop = &shops.all()[0];
    let root = service.root_key;
    let key = shop.shop_public_key().map_err(e)?;
    let anchor = &anchors[0];
    type Edit = fn(&Connection) -> Result<(), String>;
    let edits: [(&'static str, Edit); 4] = [
        ("a refusal edited into a valid verdict", edit_a_refusal),
        ("an entry deleted", delete_one),
        ("a pair of entries reordered", swap_a_pair),
        ("the newest entries cut, the head rewritten", cut_the_tail),
    ];
    for (i, (what, edit)) in edits.into_iter().enumerate() {
        // A copy of the shop's store, as the dishonest shop would keep it.
        let copy = dir.join(format!("tampered-{i}.sqlite"));
        let source = Connection::open(dir.join("shop-0.sqlite")).map_err(|e| e.to_string())?;
        source
            .execute("VACUUM INTO ?1", [copy.display().to_string()])
            .map_err(|e| e.to_string())?;
        drop(source);
        let db = Connection::open(&copy).map_err(|e| e.to_string())?;
        edit(&db)?;
        drop(db);
        let tampered = Verifier::open(&copy, root, VerifierConfig::default()).map_err(e)?;
        let report = tampered.export_report(from, to, to).map_err(e)?;
        inspection.tampering.push(Tampering {
            what,
            refused: verify_report(&report, Some(&key), Some(anchor)).err(),
            accepted_without_anchor: verify_report(&report, Some(&key), None).is_ok(),
        });
    }
    Ok(inspection)
}

fn sql(e: rusqlite::Error) -> String {
    e.to_string()
}

/// The middle entry of the log.
fn middle(db: &Connection) -> Result<i64, String> {
    db.query_row("SELECT (MIN(seq) + MAX(seq)) / 2 FROM check_log", [], |r| {
        r.get(0)
    })
    .map_err(sql)
}

/// Rewrites the first refusal as a valid verdict (the first entry if there is none), keeping
/// the head: what a shop would do to hide that it turned someone away, or let them in.
fn edit_a_refusal(db: &Connection) -> Result<(), String> {
    let mut rows = db
        .prepare("SELECT seq, entry FROM check_log ORDER BY seq")
        .map_err(sql)?;
    let mut rows = rows.query([]).map_err(sql)?;
    let mut chosen = None;
    while let Some(row) = rows.next().map_err(sql)? {
        let (seq, bytes): (i64, Vec<u8>) = (row.get(0).map_err(sql)?, row.get(1).map_err(sql)?);
        let entry = LogEntry::from_bytes(&bytes).map_err(|e| e.to_string())?;
        let refused = !entry.is_valid();
        if chosen.is_none() || refused {
            chosen = Some((seq, entry));
        }
        if refused {
            break;
        }
    }
    let (seq, mut entry) = chosen.ok_or("the shop logged nothing")?;
    entry.verdict = if entry.is_valid() { "revoked" } else { "valid" }.into();
    db.execute(
        "UPDATE check_log SET entry = ?1 WHERE seq = ?2",
        rusqlite::params![entry.to_bytes().map_err(|e| e.to_string())?, seq],
    )
    .map_err(sql)?;
    Ok(())
}

fn delete_one(db: &Connection) -> Result<(), String> {
    db.execute("DELETE FROM check_log WHERE seq = ?1", [middle(db)?])
        .map_err(sql)?;
    Ok(())
}

fn swap_a_pair(db: &Connection) -> Result<(), String> {
    let seq = middle(db)?;
    let entry = |s: i64| -> Result<Vec<u8>, String> {
        db.query_row("SELECT entry FROM check_log WHERE seq = ?1", [s], |r| {
            r.get(0)
        })
        .map_err(sql)
    };
    let (a, b) = (entry(seq)?, entry(seq + 1)?);
    for (s, bytes) in [(seq, b), (seq + 1, a)] {
        db.execute(
            "UPDATE check_log SET entry = ?1 WHERE seq = ?2",
            rusqlite::params![bytes, s],
        )
        .map_err(sql)?;
    }
    Ok(())
}

/// Cuts the last tenth of the log and rewrites the head to the chain of what is left: the log
/// alone is then consistent, and only the anchor shows the cut.
fn cut_the_tail(db: &Connection) -> Result<(), String> {
    let count: i64 = db
        .query_row("SELECT MAX(seq) FROM check_log", [], |r| r.get(0))
        .map_err(sql)?;
    let keep = count - (count / 10).max(1);
    db.execute("DELETE FROM check_log WHERE seq > ?1", [keep])
        .map_err(sql)?;
    let mut hash = check_log::GENESIS;
    let mut rows = db
        .prepare("SELECT entry FROM check_log ORDER BY seq")
        .map_err(sql)?;
    let mut rows = rows.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let bytes: Vec<u8> = row.get(0).map_err(sql)?;
        hash = check_log::chain_hash(&hash, &check_log::entry_digest(&bytes));
    }
    db.execute(
        "UPDATE check_log_head SET seq = ?1, hash = ?2",
        rusqlite::params![keep, &hash[..]],
    )
    .map_err(sql)?;
    Ok(())
}
