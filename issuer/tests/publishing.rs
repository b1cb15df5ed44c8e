//! Replicas that publish at the same moment: the store allocates each list's sequence number in
//! the publishing transaction, so every publication gets its own, whichever replica signs it,
//! and one sequence never names two lists. (Before, each replica counted in its own key file, and
//! the second replica's publications were refused or, over separate stores, equivocated.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::collections::BTreeSet;

use chrono::Duration;
use common::Env;
use vaxpass::TrustList;
use vaxpass_issuer::ops;
use vaxpass_issuer::store::ListKind;

on_both_backends!(replicas_publishing_at_once_each_get_their_own_sequence);

fn replicas_publishing_at_once_each_get_their_own_sequence(env: &Env) {
    let (rt, replicas) = env.two_replicas();
    let root = replicas[0].0.root_public_key();
    let publications = rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for round in 0..16 {
            let (authority, store) = replicas[round % 2].clone();
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
        .block_on(replicas[0].1.published(ListKind::Trust))
        .unwrap()
        .unwrap();
    assert_eq!(current.sequence, 16);
    assert_eq!(
        TrustList::verify(&current.bytes, &root).unwrap().sequence,
        16
    );
}
