//! Three `vaxpass-issuer` replicas over one PostgreSQL agree: enrolments through each are
//! durable, publishing from all at once gives every list its own sequence number, and a key
//! rotation or compromise made through one replica is used by all within the list-reload
//! interval, without a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(unused_macros)]
mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{bundle_ids, code, enrol, wallet, Backend, Env, Server};
use vaxpass::keys::Kid;
use vaxpass::{Credential, CredentialId};

/// The list-reload interval the replicas run with.
const RELOAD: &str = "1";

fn kids(bundle: &[u8]) -> Vec<Kid> {
    vaxpass::enrolment::decode_issued(bundle)
        .unwrap()
        .iter()
        .map(|c| Credential::from_bytes(c).unwrap().kid)
        .collect()
}

/// Enrols a new wallet with `code` through `server`, retrying while the replica answers 503
/// (a batch refused because the key changed under it) until `deadline`.
fn enrol_until(server: &Server, env: &Env, name: &str, code: &str, deadline: Instant) -> Vec<u8> {
    let phone = wallet(env.dir.path(), name);
    loop {
        let reply = enrol(server, &phone, code);
        if reply.status == 200 {
            return reply.body;
        }
        assert_eq!(reply.status, 503, "{}", reply.text());
        assert!(Instant::now() < deadline, "still refused: {}", reply.text());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn three_replicas_over_one_postgres_agree() {
    let Some(env) = Env::new(Backend::Postgres) else {
        return;
    };
    let codes: Vec<String> = (1..=14).map(code).collect();
    let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    env.init_with_citizens(&refs);
    let replicas: Vec<Server> = (0..3)
        .map(|_| env.start(&["--lists-reload-secs", RELOAD]))
        .collect();
    let root = env.root_public_key();
    let first_kid = replicas[0].trust_list(&root).keys[0].kid;
    let mut acknowledged: Vec<CredentialId> = Vec::new();

    // Enrol through each replica, all at once.
    let bundles: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..9)
            .map(|i| {
                let (server, env, code) = (&replicas[i % 3], &env, &codes[i]);
                s.spawn(move || {
                    let reply = enrol(server, &wallet(env.dir.path(), &format!("p{i}")), code);
                    assert_eq!(reply.status, 200, "{}", reply.text());
                    reply.body
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for bundle in &bundles {
        assert!(kids(bundle).iter().all(|k| *k == first_kid));
        acknowledged.extend(bundle_ids(bundle));
    }

    // Publish from all three at once: nine publications, nine sequence numbers.
    let sequences: Vec<(u64, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..9)
            .map(|i| {
                let server = &replicas[i % 3];
                s.spawn(move || {
                    let reply = server.admin("/v1/admin/publish", &[]);
                    assert_eq!(reply.status, 200, "{}", reply.text());
                    let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
                    (
                        body["trust_sequence"].as_u64().unwrap(),
                        body["revocation_sequence"].as_u64().unwrap(),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let trust: BTreeSet<u64> = sequences.iter().map(|s| s.0).collect();
    let revocation: BTreeSet<u64> = sequences.iter().map(|s| s.1).collect();
    // `init` published #1.
    assert_eq!(trust, (2..=10).collect());
    assert_eq!(revocation, (2..=10).collect());
    let deadline = Instant::now() + Duration::from_secs(5);
    for server in &replicas {
        while server.trust_list(&root).sequence != 10 {
            assert!(Instant::now() < deadline, "a replica serves an old list");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    // Rotate through the first replica: the others sign with the new key within the interval.
    let rotated = replicas[0].admin("/v1/admin/rotate-key", &[]);
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let body: serde_json::Value = serde_json::from_slice(&rotated.body).unwrap();
    let new_kid = body["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, hex::encode(first_kid));
    std::thread::sleep(Duration::from_secs(2));
    let deadline = Instant::now() + Duration::from_secs(5);
    for (i, server) in replicas.iter().enumerate() {
        let bundle = enrol_until(server, &env, &format!("r{i}"), &codes[9 + i], deadline);
        assert!(
            kids(&bundle).iter().all(|k| hex::encode(k) == new_kid),
            "replica {i} signed with another key"
        );
        acknowledged.extend(bundle_ids(&bundle));
    }

    // A compromise through the second replica: no replica signs with that key any more.
    let compromised = replicas[1].admin(
        "/v1/admin/compromise",
        format!(
            "{{\"kid\": \"{new_kid}\", \"revoked_after\": \"{}\"}}",
            chrono::Utc::now().to_rfc3339()
        )
        .as_bytes(),
    );
    assert_eq!(compromised.status, 200, "{}", compromised.text());
    std::thread::sleep(Duration::from_secs(2));
    for (i, server) in replicas.iter().enumerate() {
        let phone = wallet(env.dir.path(), &format!("c{i}"));
        let reply = enrol(server, &phone, &codes[12 + i.min(1)]);
        assert_eq!(reply.status, 503, "replica {i}: {}", reply.text());
    }
    let published = replicas[2].admin("/v1/admin/publish", &[]);
    assert_eq!(published.status, 200, "{}", published.text());
    let deadline = Instant::now() + Duration::from_secs(5);
    for server in &replicas {
        loop {
            let list = server.trust_list(&root);
            let key = list.keys.iter().find(|k| hex::encode(k.kid) == new_kid);
            if key.is_some_and(|k| k.revoked_after.is_some()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "a replica serves the key as not leaked"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    // Every credential any replica acknowledged is in the shared audit log.
    assert_eq!(acknowledged.len(), 12);
    assert!(env.missing_from_audit(&acknowledged).is_empty());
}
