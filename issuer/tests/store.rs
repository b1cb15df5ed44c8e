//! The group-commit contract of both store backends, checked directly: within one batch each
//! enrolment succeeds or fails alone and a failure changes nothing but use up its nonce; nonces
//! are single-use, expire and can be burned; a code is bound to the first device; an id collision
//! re-signs only that credential; restoring a citizen revokes their credentials and replaces the
//! code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use common::{rand_bytes, Env};
use vaxpass::enrolment_code::EnrolmentCode;
use vaxpass::{
    CredentialId, DeviceSigner, Ed25519KeyPair, Event, IssueRequest, Issued, PassData, Person,
    Product, SigningKey, SoftwareEd25519Signer, Vaccination,
};
use vaxpass_issuer::identity::CodeKey;
use vaxpass_issuer::store::{
    AuthorityRecord, Batch, CitizenId, CodeHash, DeviceHash, Enrolment, NewCitizen, Refusal,
    Resign, SignedCredential, StoreError,
};

on_both_backends!(
    batch_semantics,
    a_batch_signed_with_a_retired_key_records_nothing
);

fn person() -> Person {
    Person {
        name: "김민준".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
    }
}

fn events() -> Vec<Event> {
    vec![Event::Vaccination(Vaccination {
        product: Product::Comirnaty,
        dose: 1,
        of: 2,
        date: NaiveDate::from_ymd_opt(2021, 6, 20).unwrap(),
    })]
}

fn request() -> IssueRequest {
    let now = Utc::now();
    IssueRequest {
        pass: PassData {
            person: person(),
            events: events(),
        },
        device_key: SoftwareEd25519Signer(Ed25519KeyPair::generate())
            .public_key()
            .unwrap(),
        not_before: now,
        expires: now + Duration::days(365),
    }
}

/// The issuer key the store holds as active in these tests.
fn signing_key() -> SigningKey {
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    SigningKey {
        public_key: Ed25519KeyPair::from_secret(&[7; 32]).unwrap().public(),
        not_before: now - Duration::days(1),
        not_after: now + Duration::days(364),
    }
}

fn signed(id: [u8; 6], bytes: &[u8]) -> SignedCredential {
    let kid = signing_key().kid();
    SignedCredential {
        issued: Issued {
            id: CredentialId(id),
            kid,
            bytes: bytes.to_vec(),
        },
        kid,
    }
}

fn enrolment(
    nonce: &[u8],
    citizen: CitizenId,
    code: CodeHash,
    device: u8,
    id: [u8; 6],
) -> Enrolment {
    Enrolment {
        nonce: nonce.to_vec(),
        citizen,
        code: Some(code),
        device: DeviceHash([device; 32]),
        credentials: vec![(request(), signed(id, b"first"))],
    }
}

fn batch_semantics(env: &Env) {
    let (rt, store) = env.store();
    let authority = AuthorityRecord {
        issuer: "KR".into(),
        root_public_key: Ed25519KeyPair::from_secret(&[8; 32]).unwrap().public(),
    };
    rt.block_on(store.init_authority(authority, signing_key()))
        .unwrap();
    let key = CodeKey::from_bytes(rand_bytes::<32>());
    let born = person().date_of_birth;
    let (c1, c2) = (
        key.hash(&EnrolmentCode::generate(), born),
        key.hash(&EnrolmentCode::generate(), born),
    );
    let citizens = rt
        .block_on(store.add_citizens(vec![
            NewCitizen {
                person: person(),
                code: c1,
                subject: None,
                passes: vec![events()],
            },
            NewCitizen {
                person: person(),
                code: c2,
                subject: None,
                passes: vec![events(), events()],
            },
        ]))
        .unwrap();
    let (k1, k2) = (citizens[0], citizens[1]);
    assert_eq!(rt.block_on(store.passes_of(k2)).unwrap().unwrap().len(), 2);
    assert!(rt
        .block_on(store.passes_of(CitizenId(-1)))
        .unwrap()
        .is_none());
    // A code already registered is refused, and the whole import with it.
    let duplicate = rt.block_on(store.add_citizens(vec![NewCitizen {
        person: person(),
        code: c1,
        subject: None,
        passes: vec![events()],
    }]));
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "{duplicate:?}"
    );

    let now = Utc::now();
    let [n1, n2, n3, n5, burned, expired]: [Vec<u8>; 6] =
        std::array::from_fn(|_| rand_bytes::<32>().to_vec());
    let nonces = Batch {
        now,
        new_nonces: vec![
            (n1.clone(), now + Duration::minutes(5)),
            (n2.clone(), now + Duration::minutes(5)),
            (n3.clone(), now + Duration::minutes(5)),
            (n5.clone(), now + Duration::minutes(5)),
            (burned.clone(), now + Duration::minutes(5)),
            (expired.clone(), now - Duration::seconds(1)),
        ],
        burned_nonces: Vec::new(),
        enrolments: Vec::new(),
    };
    let resigned = Arc::new(AtomicUsize::new(0));
    let counter = resigned.clone();
    let resign: Resign = Arc::new(move |_request: &IssueRequest| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(signed(rand_bytes::<6>(), b"resigned"))
    });
    rt.block_on(store.record_batch(nonces, resign.clone()))
        .unwrap();
    assert_eq!(rt.block_on(store.counts()).unwrap().nonces, 6);
    for nonce in [&n1, &n2, &n3, &n5, &burned] {
        assert!(rt.block_on(store.nonce_usable(nonce, now)).unwrap());
    }
    assert!(!rt.block_on(store.nonce_usable(&expired, now)).unwrap());
    assert!(!rt.block_on(store.nonce_usable(&[9; 32], now)).unwrap());

    let a = rand_bytes::<6>();
    let batch = Batch {
        now,
        new_nonces: Vec::new(),
        burned_nonces: vec![burned.clone()],
        enrolments: vec![
            enrolment(&n1, k1, c1, 1, a),                      // ok
            enrolment(&n1, k2, c2, 2, rand_bytes::<6>()),      // nonce used just above
            enrolment(&n2, k1, c1, 2, rand_bytes::<6>()),      // c1 taken by device 1
            enrolment(&n2, k2, c2, 2, rand_bytes::<6>()),      // n2 used up by that refusal
            enrolment(&n5, k2, c2, 2, a),                      // ok, after re-signing (id a taken)
            enrolment(&expired, k2, c2, 2, rand_bytes::<6>()), // expired nonce
            enrolment(&n3, k1, c1, 1, rand_bytes::<6>()),      // ok: same device, same code
            enrolment(&burned, k1, c1, 1, rand_bytes::<6>()),  // burned in this very batch
        ],
    };
    let outcomes = rt
        .block_on(store.record_batch(batch, resign.clone()))
        .unwrap();
    assert_eq!(outcomes.len(), 8);
    assert_eq!(outcomes[0], Ok(vec![b"first".to_vec()]));
    assert_eq!(outcomes[1], Err(Refusal::NonceUnknownOrUsed));
    assert_eq!(outcomes[2], Err(Refusal::CodeAlreadyUsed));
    assert_eq!(outcomes[3], Err(Refusal::NonceUnknownOrUsed));
    assert_eq!(outcomes[4], Ok(vec![b"resigned".to_vec()]));
    assert_eq!(outcomes[5], Err(Refusal::NonceUnknownOrUsed));
    assert_eq!(outcomes[6], Ok(vec![b"first".to_vec()]));
    assert_eq!(outcomes[7], Err(Refusal::NonceUnknownOrUsed));
    assert_eq!(resigned.load(Ordering::SeqCst), 1);

    let counts = rt.block_on(store.counts()).unwrap();
    assert_eq!(counts.issued, 3);
    assert_eq!(counts.codes_used, 2);
    assert_eq!(counts.nonces, 1, "only the expired nonce is left");
    assert_eq!(rt.block_on(store.sweep_nonces(Utc::now())).unwrap(), 1);
    let entry = rt
        .block_on(store.audit_entry(CredentialId(a)))
        .unwrap()
        .unwrap();
    assert_eq!((entry.citizen, entry.kid), (k1, signing_key().kid()));
    let status = rt.block_on(store.code_status(&c1)).unwrap().unwrap();
    assert_eq!(status.citizen, k1);
    assert_eq!(status.used_by, Some(DeviceHash([1; 32])));

    // A resign that keeps colliding gives up: the whole batch is rolled back.
    let stubborn: Resign = Arc::new(move |_request: &IssueRequest| Ok(signed(a, b"again")));
    let n4 = rand_bytes::<32>().to_vec();
    rt.block_on(store.record_batch(
        Batch {
            now,
            new_nonces: vec![(n4.clone(), now + Duration::minutes(5))],
            burned_nonces: Vec::new(),
            enrolments: Vec::new(),
        },
        resign.clone(),
    ))
    .unwrap();
    let before = rt.block_on(store.counts()).unwrap();
    let failed = rt.block_on(store.record_batch(
        Batch {
            now,
            new_nonces: Vec::new(),
            burned_nonces: Vec::new(),
            enrolments: vec![enrolment(&n4, k1, c1, 1, a)],
        },
        stubborn,
    ));
    assert!(
        matches!(failed, Err(StoreError::IdSpaceExhausted)),
        "{failed:?}"
    );
    assert_eq!(rt.block_on(store.counts()).unwrap(), before);

    // Revocation bookkeeping.
    use vaxpass_issuer::store::Revoked;
    assert_eq!(
        rt.block_on(store.revoke(CredentialId(a), now)).unwrap(),
        Revoked::Now
    );
    assert_eq!(
        rt.block_on(store.revoke(CredentialId(a), now)).unwrap(),
        Revoked::Already
    );
    assert_eq!(
        rt.block_on(store.revoke(CredentialId([0; 6]), now))
            .unwrap(),
        Revoked::NotIssued
    );
    assert_eq!(
        rt.block_on(store.revoked_ids(now)).unwrap(),
        vec![CredentialId(a)]
    );
    assert!(rt
        .block_on(store.revoked_ids(now + Duration::days(400)))
        .unwrap()
        .is_empty());

    // Restoring citizen 1 (whose code device 1 took) revokes its unexpired credentials and gives
    // it a new, unused code; the old code matches nothing any more.
    let issued_to_k1 = rt.block_on(store.revoked_ids(now)).unwrap().len();
    let fresh = key.hash(&EnrolmentCode::generate(), born);
    let revoked = rt
        .block_on(store.restore_citizen(k1, fresh, now))
        .unwrap()
        .unwrap();
    assert_eq!(
        revoked.len(),
        1,
        "id a was revoked before; the other one of k1 now"
    );
    assert_eq!(
        rt.block_on(store.revoked_ids(now)).unwrap().len(),
        issued_to_k1 + 1
    );
    assert!(rt.block_on(store.code_status(&c1)).unwrap().is_none());
    let status = rt.block_on(store.code_status(&fresh)).unwrap().unwrap();
    assert_eq!((status.citizen, status.used_by), (k1, None));
    assert!(rt
        .block_on(store.restore_citizen(
            CitizenId(-1),
            key.hash(&EnrolmentCode::generate(), born),
            now
        ))
        .unwrap()
        .is_none());
}

/// A replica that signed with a key another replica has since rotated (or marked compromised)
/// gets its batch refused whole: nothing recorded, its nonces still usable.
fn a_batch_signed_with_a_retired_key_records_nothing(env: &Env) {
    let (rt, store) = env.store();
    let authority = AuthorityRecord {
        issuer: "KR".into(),
        root_public_key: Ed25519KeyPair::from_secret(&[8; 32]).unwrap().public(),
    };
    rt.block_on(store.init_authority(authority, signing_key()))
        .unwrap();
    let key = CodeKey::from_bytes(rand_bytes::<32>());
    let code = key.hash(&EnrolmentCode::generate(), person().date_of_birth);
    let citizen = rt
        .block_on(store.add_citizens(vec![NewCitizen {
            person: person(),
            code,
            subject: None,
            passes: vec![events()],
        }]))
        .unwrap()[0];
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let nonce = rand_bytes::<32>().to_vec();
    let resign: Resign = Arc::new(|_: &IssueRequest| Ok(signed(rand_bytes::<6>(), b"again")));
    let batch = |enrolments| Batch {
        now,
        new_nonces: Vec::new(),
        burned_nonces: Vec::new(),
        enrolments,
    };
    let mut nonces = batch(Vec::new());
    nonces.new_nonces = vec![(nonce.clone(), now + Duration::minutes(5))];
    rt.block_on(store.record_batch(nonces, resign.clone()))
        .unwrap();

    let rotated = SigningKey {
        public_key: Ed25519KeyPair::from_secret(&[9; 32]).unwrap().public(),
        not_before: now,
        not_after: now + Duration::days(365),
    };
    rt.block_on(store.rotate_issuer_key(rotated)).unwrap();
    let stale = enrolment(&nonce, citizen, code, 1, rand_bytes::<6>());
    assert!(matches!(
        rt.block_on(store.record_batch(batch(vec![stale]), resign.clone())),
        Err(StoreError::KeyRetired)
    ));
    assert!(rt.block_on(store.nonce_usable(&nonce, now)).unwrap());
    assert_eq!(rt.block_on(store.counts()).unwrap().issued, 0);

    let mut fresh = enrolment(&nonce, citizen, code, 1, rand_bytes::<6>());
    for (_, credential) in &mut fresh.credentials {
        credential.kid = rotated.kid();
        credential.issued.kid = rotated.kid();
    }
    let outcomes = rt
        .block_on(store.record_batch(batch(vec![fresh]), resign))
        .unwrap();
    assert!(outcomes[0].is_ok());
    let keys = rt.block_on(store.issuer_keys()).unwrap();
    assert_eq!(keys.len(), 2);
    assert!(!keys[0].active && keys[1].active);
    assert_eq!(keys[0].key.not_after, rotated.not_before);
}
