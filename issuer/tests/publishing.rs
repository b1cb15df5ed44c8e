//! Replicas that publish at the same moment: the store allocates each list's sequence number in
//! the publishing transaction, so every publication gets its own, whichever replica (with
//! whatever key file counter) signs it, and one sequence never names two lists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::Env;
use vaxpass::{LocalAuthority, TrustList};
use vaxpass_issuer::ops;
use vaxpass_issuer::store::ListKind;

on_both_backends!(replicas_publishing_at_once_each_get_their_own_sequence);

/// A second replica's copy of the authority's files, made before anything was published: its
/// own counters know nothing of what the first replica publishes.
fn replica_copy(env: &Env) -> LocalAuthority {
    let copy = env.dir.path().join("replica.sqlite");
    for (from, to) in [
        (env.key_file.clone(), copy.clone()),
        (
            LocalAuthority::key_file_path(&env.key_file),
            LocalAuthority::key_file_path(&copy),
        ),
    ] {
        if from.exists() {
            rusqlite::Connection::open(from)
                .unwrap()
                .execute("VACUUM INTO ?1", [to.to_str().unwrap()])
                .unwrap();
        }
    }
    LocalAuthority::open(&copy).unwrap()
}

fn replicas_publishing_at_once_each_get_their_own_sequence(env: &Env) {
    let first = Arc::new(LocalAuthority::create(&env.key_file, "KR", Utc::now()).unwrap());
    let second = Arc::new(replica_copy(env));
    let root = first.root_public_key();
    let (rt, store) = env.store();
    let publications = rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for round in 0..16 {
            let authority = if round % 2 == 0 { &first } else { &second }.clone();
            let store = store.clone();
            tasks.spawn(async move {
                ops::publish(&authority, store.as_ref(), Duration::hours(24)).await
            });
        }
        let mut done = Vec::new();
        while let Some(published) = tasks.join_next().await {
            done.push(published.unwrap().expect("every publication succeeds"));
        }
        done
    });
    let trust: BTreeSet<u64> = publications.iter().map(|p| p.trust_sequence).collect();
    let revocation: BTreeSet<u64> = publications.iter().map(|p| p.revocation_sequence).collect();
    assert_eq!(trust, (1..=16).collect());
    assert_eq!(revocation, (1..=16).collect());
    let current = rt
        .block_on(store.published(ListKind::Trust))
        .unwrap()
        .unwrap();
    assert_eq!(current.sequence, 16);
    assert_eq!(
        TrustList::verify(&current.bytes, &root).unwrap().sequence,
        16
    );
}
