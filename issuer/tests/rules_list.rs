//! The rules list as the service publishes it: a rules file posted to the admin API becomes the
//! next rules list (its sequence allocated by the store), served at `/v1/rules-list` with an
//! ETag and 304 like the other lists, re-signed with the same rule sets by every publish, and a
//! bad file changes nothing. Replicas publishing lists and rules at once never undo a rules file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use chrono::{Duration, Utc};
use common::Env;
use sha2::{Digest, Sha256};
use vaxpass::RulesList;
use vaxpass_issuer::authority::{open_vault, ServiceAuthority};
use vaxpass_issuer::ops;
use vaxpass_issuer::rules_file;
use vaxpass_issuer::store::ListKind;

const KOREA: &str = include_str!("../rules/korea-2021-2022.toml");

on_both_backends!(
    a_rules_file_is_served_as_the_next_rules_list_and_resigned_by_publish,
    replicas_publishing_lists_and_rules_at_once_never_undo_a_rules_file
);

fn served_rules(server: &common::Server, root: &[u8; 32]) -> (RulesList, String) {
    let reply = server.get("/v1/rules-list", &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/cbor"));
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(&reply.body)));
    assert_eq!(reply.header("etag"), Some(etag.as_str()));
    (RulesList::verify(&reply.body, root).unwrap(), etag)
}

fn a_rules_file_is_served_as_the_next_rules_list_and_resigned_by_publish(env: &Env) {
    env.cli_ok(&["init"]);
    let root = env.root_public_key();
    let server = env.start(&[]);
    // No rules file yet: nothing to serve (404: not a wait), and the service is ready without.
    let reply = server.get("/v1/rules-list", &[]);
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code(), "not_published");
    assert!(reply.header("retry-after").is_none());
    assert_eq!(server.get("/readyz", &[]).status, 200);
    assert_eq!(
        server
            .post("/v1/admin/publish-rules", &[], KOREA.as_bytes())
            .status,
        401,
        "the admin token is needed"
    );

    let reply = server.admin("/v1/admin/publish-rules", KOREA.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(answer["rules_sequence"], 1);
    assert_eq!(answer["rule_sets"], 7);
    let (list, etag) = served_rules(&server, &root);
    assert_eq!(list.sequence, 1);
    assert_eq!(list.rule_sets, rules_file::parse(KOREA).unwrap());
    let cached = server.get("/v1/rules-list", &[("If-None-Match", &etag)]);
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    assert_eq!(server.get("/readyz", &[]).status, 200);

    // A publish re-signs the rules with the other lists: a later sequence, the same sets.
    let reply = server.admin("/v1/admin/publish", &[]);
    assert_eq!(reply.status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(answer["rules_sequence"], 2);
    let (resigned, resigned_etag) = served_rules(&server, &root);
    assert_eq!(resigned.sequence, 2);
    assert_ne!(resigned_etag, etag);
    assert_eq!(resigned.rule_sets, list.rule_sets);
    assert!(resigned.issued_at >= list.issued_at);
    // So does the command line's publish.
    env.cli_ok(&["publish"]);
    let store_list = {
        let (rt, store) = env.store();
        rt.block_on(store.published(ListKind::Rules))
            .unwrap()
            .unwrap()
    };
    assert_eq!(store_list.sequence, 3);

    // Bad files are refused whole and change nothing.
    let counts = env.counts();
    for bad in [
        KOREA.replace("recovery_days = 180", "recovery_days = -180"),
        KOREA.replace("pcr_hours = 48", "pcr_hours = 48000"),
        KOREA.replace("\"recovery\"]", "\"antibodies\"]"),
        KOREA.replace("utc_offset = \"+09:00\"", "utc_offset = \"+99:00\""),
        "not toml at all [[[".to_owned(),
    ] {
        let reply = server.admin("/v1/admin/publish-rules", bad.as_bytes());
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert_eq!(reply.error_code(), "invalid_rules");
        assert!(!reply.text().contains("antibodies"), "input is not echoed");
    }
    let reply = server.admin("/v1/admin/publish-rules", &[0xff, 0xfe]);
    assert_eq!(reply.error_code(), "invalid_rules");
    let huge = format!(
        "# {}\n{KOREA}",
        "x".repeat(rules_file::MAX_RULES_FILE_BYTES)
    );
    let reply = server.admin("/v1/admin/publish-rules", huge.as_bytes());
    assert_eq!(reply.status, 413, "bounded before it is read whole");
    assert_eq!(env.counts(), counts);
    let (unchanged, _) = served_rules(&server, &root);
    assert_eq!(unchanged.sequence, 2, "served from memory until a publish");
    {
        let (rt, store) = env.store();
        assert_eq!(
            rt.block_on(store.published(ListKind::Rules))
                .unwrap()
                .unwrap(),
            store_list
        );
    }

    // The service's command line publishes a rules file too, through the same operation.
    let file = env.dir.path().join("rules.toml");
    std::fs::write(&file, KOREA.replace("2022-03-01", "2022-03-02")).unwrap();
    let out = env.cli_ok(&["publish-rules", file.to_str().unwrap()]);
    assert!(
        out.contains("published rules list #4 (7 rule sets)"),
        "{out}"
    );
    std::fs::write(&file, "utc_offset = \"+09:00\"\nrule_set = []\n").unwrap();
    let refused = env.cli(&["publish-rules", file.to_str().unwrap()]);
    assert!(!refused.status.success());
    let (rt, store) = env.store();
    let current = rt
        .block_on(store.published(ListKind::Rules))
        .unwrap()
        .unwrap();
    assert_eq!(current.sequence, 4);
    let list = RulesList::verify(&current.bytes, &root).unwrap();
    assert_eq!(list.rule_sets[6].takes_effect.to_string(), "2022-03-02");
}

fn replicas_publishing_lists_and_rules_at_once_never_undo_a_rules_file(env: &Env) {
    let (rt, replicas) = env.two_replicas();
    let root = replicas[0].0.root_public_key();
    // Rules files that differ in their last set's date: the one published last must stay.
    let files: Vec<String> = (1..=8)
        .map(|day| KOREA.replace("2022-03-01", &format!("2022-03-{day:02}")))
        .collect();
    let rules_sequences = rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for round in 0..16 {
            let (authority, store) = replicas[round % 2].clone();
            let file = files[round / 2].clone();
            tasks.spawn(async move {
                if round % 2 == 0 {
                    ops::publish_rules(&authority, store.as_ref(), &file, Duration::hours(24))
                        .await
                        .map(|p| Some((p.rules_sequence, file)))
                } else {
                    ops::publish(&authority, store.as_ref(), Duration::hours(24))
                        .await
                        .map(|_| None)
                }
            });
        }
        let mut done = Vec::new();
        while let Some(published) = tasks.join_next().await {
            done.extend(published.unwrap().expect("every publication succeeds"));
        }
        done
    });
    let (last_sequence, last_file) = rules_sequences
        .iter()
        .max_by_key(|(sequence, _)| *sequence)
        .unwrap();
    let current = rt
        .block_on(replicas[0].1.published(ListKind::Rules))
        .unwrap()
        .unwrap();
    let list = RulesList::verify(&current.bytes, &root).unwrap();
    assert!(list.sequence >= *last_sequence);
    assert_eq!(
        list.rule_sets,
        rules_file::parse(last_file).unwrap(),
        "a publish after the last rules file re-signed that file's sets, not older ones"
    );
    // Every rules list got its own sequence: 8 files, and at most 8 re-signings.
    assert!(list.sequence >= 8 && list.sequence <= 16);
}

/// A rules list is not needed to be ready, but one that was published must stay valid: an
/// expired one makes the service not ready until the next publish signs it again.
#[test]
fn an_expired_rules_list_makes_the_service_not_ready_until_a_publish() {
    let env = Env::new(common::Backend::Sqlite).unwrap();
    env.cli_ok(&["init"]);
    {
        let (rt, store) = env.store();
        let vault = open_vault(&env.key_file, None, false).unwrap();
        let authority = rt
            .block_on(ServiceAuthority::open(store.clone(), vault))
            .unwrap();
        let then = Utc::now() - Duration::days(2);
        rt.block_on(ops::publish_rules_at(
            &authority,
            store.as_ref(),
            KOREA,
            then,
            Duration::hours(1),
        ))
        .unwrap();
    }
    let server = env.start(&[]);
    let reply = server.get("/readyz", &[]);
    assert_eq!(reply.status, 503);
    assert!(
        reply.text().contains("rules_list_expired"),
        "{}",
        reply.text()
    );
    assert_eq!(server.admin("/v1/admin/publish", &[]).status, 200);
    assert_eq!(server.get("/readyz", &[]).status, 200);
}
