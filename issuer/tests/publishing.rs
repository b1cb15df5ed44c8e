//! Replicas that publish at the same moment: the store allocates each list's sequence number in
//! the publishing transaction, so every publication gets its own, whichever replica signs it,
//! and one sequence never names two lists. (Before, each replica counted in its own key file, and
//! the second replica's publications were refused or, over separate stores, equivocated.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::Env;
use vaxpass::TrustList;
use vaxpass_issuer::authority::{open_vault, ServiceAuthority};
use vaxpass_issuer::config::StoreUrl;
use vaxpass_issuer::ops;
use vaxpass_issuer::store::ListKind;

on_both_backends!(replicas_publishing_at_once_each_get_their_own_sequence);

fn replicas_publishing_at_once_each_get_their_own_sequence(env: &Env) {
    let (rt, store) = env.store();
    // Two replicas: each its own connections to the store and its own handle on the vault.
    let replicas = rt.block_on(async {
        let vault = open_vault(&env.key_file, None, true).unwrap();
        let (first, _) = ServiceAuthority::init(store.clone(), vault, "KR", Utc::now())
            .await
            .unwrap();
        let url: StoreUrl = env.store_url.parse().unwrap();
        let other_store = vaxpass_issuer::store::open(&url).await.unwrap();
        let vault = open_vault(&env.key_file, None, false).unwrap();
        let second = ServiceAuthority::open(other_store.clone(), vault)
            .await
            .unwrap();
        [
            (Arc::new(first), store.clone()),
            (Arc::new(second), other_store),
        ]
    });
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
        .block_on(store.published(ListKind::Trust))
        .unwrap()
        .unwrap();
    assert_eq!(current.sequence, 16);
    assert_eq!(
        TrustList::verify(&current.bytes, &root).unwrap().sequence,
        16
    );
}
