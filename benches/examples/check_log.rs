//! The check log's costs, measured in one run and printed as JSON:
//!
//! - a verdict with its durable log append (`verify`) beside the checks alone
//!   (`verify_unlogged`), p50 and p99, interleaved so both see the same disk and load;
//! - the store's size with 1,000,000 entries (built directly in the log's format, chained as
//!   the verifier chains them: a million fsyncs would take an hour), and the time to walk and
//!   check them all;
//! - exporting a day of 5,000 entries as a signed report and verifying it, alone in a log and at
//!   the end of 28 days of them.
//!
//! `cargo run --release -p vaxpass-benches --example check_log` (about a minute).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration as Elapsed, Instant};

use chrono::Duration;
use serde_json::json;
use vaxpass::check_log::{chain_hash, entry_digest, GENESIS};
use vaxpass::{verify_report, LogEntry, LogStatus, Verifier, VerifierConfig};
use vaxpass_benches::{now, presentation, World};

fn percentile(samples: &mut [Elapsed], p: f64) -> f64 {
    samples.sort_unstable();
    let i = ((samples.len() as f64 * p).ceil() as usize).saturating_sub(1);
    samples[i.min(samples.len() - 1)].as_secs_f64() * 1e3
}

/// Appends `count` entries like `template`, one per `spacing` from `start`, chained from the
/// store's head, with their running totals, in one transaction: the log exactly as `verify`
/// would have left it.
fn fill(
    path: &std::path::Path,
    template: &LogEntry,
    count: u64,
    start: chrono::DateTime<chrono::Utc>,
    spacing: Duration,
) {
    let mut db = rusqlite::Connection::open(path).unwrap();
    let tx = db.transaction().unwrap();
    let (mut seq, mut hash): (i64, Vec<u8>) = tx
        .query_row("SELECT seq, hash FROM check_log_head", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap_or((0, GENESIS.to_vec()));
    let mut hash: [u8; 32] = std::mem::take(&mut hash).try_into().unwrap();
    let offset = i64::from(vaxpass::Policy::korea_2022().utc_offset_minutes) * 60;
    let mut totals = std::collections::BTreeMap::<i64, i64>::new();
    {
        let mut insert = tx
            .prepare("INSERT INTO check_log (seq, at, entry) VALUES (?1, ?2, ?3)")
            .unwrap();
        for i in 0..count {
            seq += 1;
            let mut entry = template.clone();
            entry.seq = seq as u64;
            entry.at = start + spacing * i as i32;
            let tag = ring::digest::digest(&ring::digest::SHA256, &i.to_le_bytes());
            entry.credential_tag = Some(tag.as_ref()[..16].try_into().unwrap());
            let bytes = entry.to_bytes().unwrap();
            hash = chain_hash(&hash, &entry_digest(&bytes));
            *totals
                .entry((entry.at.timestamp() + offset).div_euclid(3600))
                .or_default() += 1;
            insert
                .execute(rusqlite::params![seq, entry.at.timestamp(), bytes])
                .unwrap();
        }
    }
    for (hour, n) in totals {
        tx.execute(
            "INSERT INTO check_counts (hour, code, n) VALUES (?1, ?2, ?3)
             ON CONFLICT (hour, code) DO UPDATE SET n = n + excluded.n",
            rusqlite::params![hour, template.verdict, n],
        )
        .unwrap();
    }
    tx.execute(
        "INSERT OR REPLACE INTO check_log_head (id, seq, hash) VALUES (1, ?1, ?2)",
        rusqlite::params![seq, &hash[..]],
    )
    .unwrap();
    tx.commit().unwrap();
    db.pragma_update(None, "wal_checkpoint", "TRUNCATE").ok();
}

fn size(path: &std::path::Path) -> u64 {
    let wal = path.with_extension("sqlite-wal");
    std::fs::metadata(path).unwrap().len() + std::fs::metadata(wal).map_or(0, |m| m.len())
}

fn main() {
    // 1. Verify with and without the durable append.
    let world = World::new();
    let text = presentation(&world);
    let rounds = 2000;
    let (mut bare, mut logged) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        let t = Instant::now();
        assert!(world
            .verifier
            .verify_unlogged(&text, now())
            .unwrap()
            .is_valid());
        bare.push(t.elapsed());
        let t = Instant::now();
        assert!(world.verifier.verify(&text, now()).unwrap().is_valid());
        logged.push(t.elapsed());
    }
    let (bare_p50, bare_p99) = (percentile(&mut bare, 0.5), percentile(&mut bare, 0.99));
    let (logged_p50, logged_p99) = (percentile(&mut logged, 0.5), percentile(&mut logged, 0.99));
    let db = rusqlite::Connection::open(world.dir.path().join("verifier.sqlite")).unwrap();
    let template: Vec<u8> = db
        .query_row("SELECT entry FROM check_log ORDER BY seq DESC", [], |r| {
            r.get(0)
        })
        .unwrap();
    drop(db);
    let template = LogEntry::from_bytes(&template).unwrap();

    // 2. A million entries: 28 days of a very busy door (one every 2.4 s).
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("million.sqlite");
    let root = world.authority.root_public_key();
    Verifier::open(&big, root, VerifierConfig::default()).unwrap();
    let start = now() - Duration::days(28);
    let t = Instant::now();
    fill(
        &big,
        &template,
        1_000_000,
        start,
        Duration::milliseconds(2419),
    );
    let fill_secs = t.elapsed().as_secs_f64();
    let million_bytes = size(&big);
    let verifier = Verifier::open(&big, root, VerifierConfig::default()).unwrap();
    let t = Instant::now();
    let status = verifier.check_log_status().unwrap();
    let status_secs = t.elapsed().as_secs_f64();
    assert!(matches!(status, LogStatus::Intact { head } if head.count == 1_000_000));
    let t = Instant::now();
    let counters = verifier.check_counters(now()).unwrap();
    let counters_ms = t.elapsed().as_secs_f64() * 1e3;
    drop(verifier);

    // 3. A day of 5,000 entries: alone, and as the last of 28 such days.
    let mut day = serde_json::Map::new();
    for (name, days_before) in [("one_day_log", 0i64), ("last_of_28_days", 27)] {
        let path = dir.path().join(format!("{name}.sqlite"));
        Verifier::open(&path, root, VerifierConfig::default()).unwrap();
        let first = now() - Duration::days(days_before + 1);
        fill(
            &path,
            &template,
            5_000 * (days_before as u64 + 1),
            first,
            Duration::milliseconds(17_280),
        );
        let verifier = Verifier::open(&path, root, VerifierConfig::default()).unwrap();
        let (from, to) = (now() - Duration::days(1), now());
        let t = Instant::now();
        let report = verifier.export_report(from, to, to).unwrap();
        let export_ms = t.elapsed().as_secs_f64() * 1e3;
        let key = verifier.shop_public_key().unwrap();
        let t = Instant::now();
        let proof = verify_report(&report, Some(&key), None).unwrap();
        let verify_ms = t.elapsed().as_secs_f64() * 1e3;
        assert!((4_999..=5_001).contains(&proof.checks), "{}", proof.checks);
        day.insert(
            name.into(),
            json!({
                "entries_in_log": 5_000 * (days_before + 1),
                "entries_in_report": proof.checks,
                "report_bytes": report.len(),
                "export_ms": export_ms,
                "verify_ms": verify_ms,
                "total_ms": export_ms + verify_ms,
            }),
        );
    }

    println!(
        "{:#}",
        json!({
            "verify": {
                "rounds": rounds,
                "bare_p50_ms": bare_p50, "bare_p99_ms": bare_p99,
                "logged_p50_ms": logged_p50, "logged_p99_ms": logged_p99,
                "p50_ratio": logged_p50 / bare_p50, "p99_ratio": logged_p99 / bare_p99,
                "p99_target_ms": 10.0, "p99_met": logged_p99 < 10.0,
            },
            "million": {
                "entries": 1_000_000,
                "entry_bytes": template.to_bytes().unwrap().len(),
                "store_bytes": million_bytes,
                "store_mb": million_bytes as f64 / 1e6,
                "bytes_per_entry": million_bytes as f64 / 1e6,
                "target_mb": 100.0, "met": (million_bytes as f64) < 100e6,
                "build_secs": fill_secs,
                "walk_and_check_secs": status_secs,
                "counters_ms": counters_ms,
                "today_scans": counters.today.scans,
            },
            "day_of_5000": day,
        })
    );
}
