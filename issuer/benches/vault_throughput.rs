//! Group commit with the keys in a PKCS#11 token beside the key file, in one run: credentials per
//! second through the batcher's critical path, signing a batch with one `sign_all` call, putting
//! each signature into its COSE_Sign1, and committing the batch's audit rows in one durable SQLite
//! transaction (WAL, `synchronous=FULL`, as the service's store). Rounds alternate between the two
//! vaults so a busy machine slows both alike; the last line is the ratio (target ≥ 0.8).
//!
//! ```sh
//! eval "$(scripts/softhsm.sh env)"
//! cargo bench -p vaxpass-issuer --bench vault_throughput
//! ```
//!
//! Environment: VAXPASS_TEST_PKCS11_MODULE / _TOKEN / _PIN (from `scripts/softhsm.sh env`),
//! VAXPASS_BENCH_CREDENTIALS (per round, default 20000), VAXPASS_BENCH_BATCH (default 256, the
//! service's `--batch-size`), VAXPASS_BENCH_ROUNDS (per vault, default 3), VAXPASS_BENCH_SESSIONS
//! (token sessions, default 4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use chrono::{Duration, Utc};
use coset::{iana, CborSerializable, CoseSign1, HeaderBuilder};
use rusqlite::{params, Connection};
use vaxpass::keys::{kid_of, VerifyingKey};
use vaxpass::{
    Claims, Credential, CredentialId, DevicePublicKey, Ed25519KeyPair, KeyVault, Result,
};
use vaxpass_issuer::hsm::{HsmConfig, Pin, Pkcs11Vault};

/// The key file's way of signing: the secret in this process's memory, ed25519-dalek.
#[derive(Debug)]
struct KeyFileVault(Ed25519KeyPair);

impl KeyVault for KeyFileVault {
    fn generate(&self) -> Result<[u8; 32]> {
        Ok(self.0.public())
    }

    fn sign(&self, public_key: &[u8; 32], message: &[u8]) -> Result<[u8; 64]> {
        if *public_key != self.0.public() {
            return Err(vaxpass::Error::NotFound("key"));
        }
        Ok(self.0.sign(message))
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `count` real credentials (three doses, distinct ids and device keys) as unsigned COSE_Sign1
/// whose protected header names `public_key`'s kid: what the authority hands its vault.
fn unsigned_credentials(public_key: &[u8; 32], count: usize) -> Vec<CoseSign1> {
    let throwaway = Ed25519KeyPair::generate();
    let now = Utc::now();
    let protected = coset::ProtectedHeader {
        original_data: None,
        header: HeaderBuilder::new()
            .algorithm(iana::Algorithm::Ed25519)
            .key_id(kid_of(public_key).to_vec())
            .build(),
    };
    (0..count)
        .map(|i| {
            let mut id = [0u8; 6];
            id[..4].copy_from_slice(&(i as u32).to_be_bytes());
            let claims = Claims {
                issuer: "KR".into(),
                issued_at: now,
                not_before: now,
                expires: now + Duration::days(365),
                id: CredentialId(id),
                device_key: DevicePublicKey::Ed25519(
                    VerifyingKey::from_bytes(&Ed25519KeyPair::generate().public()).unwrap(),
                ),
                pass: vaxpass_tests::three_doses(),
            };
            let bytes = Credential::sign(&claims, &throwaway).unwrap();
            let mut sign1 = CoseSign1::from_slice(&bytes).unwrap();
            sign1.protected = protected.clone();
            sign1.signature.clear();
            sign1
        })
        .collect()
}

fn audit_log(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        .unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS issued (id BLOB PRIMARY KEY, kid BLOB NOT NULL, \
         issued_at INTEGER NOT NULL, expires INTEGER NOT NULL, bytes INTEGER NOT NULL)",
    )
    .unwrap();
    conn
}

/// One round: every credential signed, assembled and durably recorded, batch by batch. Returns
/// credentials per second.
fn round(
    vault: &dyn KeyVault,
    public_key: &[u8; 32],
    unsigned: &[CoseSign1],
    batch: usize,
    conn: &mut Connection,
) -> f64 {
    conn.execute("DELETE FROM issued", []).unwrap();
    let kid = kid_of(public_key);
    let started = Instant::now();
    for (index, chunk) in unsigned.chunks(batch).enumerate() {
        let to_sign: Vec<Vec<u8>> = chunk.iter().map(|c| c.tbs_data(&[])).collect();
        let signatures = vault.sign_all(public_key, &to_sign).unwrap();
        let signed: Vec<Vec<u8>> = chunk
            .iter()
            .zip(&signatures)
            .map(|(c, s)| {
                let mut c = c.clone();
                c.signature = s.to_vec();
                c.to_vec().unwrap()
            })
            .collect();
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO issued VALUES (?1, ?2, ?3, ?4, ?5)")
                .unwrap();
            let now = Utc::now().timestamp();
            for (i, bytes) in signed.iter().enumerate() {
                insert
                    .execute(params![
                        ((index * batch + i) as u64).to_be_bytes(),
                        &kid[..],
                        now,
                        now + 365 * 86_400,
                        bytes.len() as i64
                    ])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    unsigned.len() as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let Ok(module) = std::env::var("VAXPASS_TEST_PKCS11_MODULE") else {
        println!(
            "SKIPPED vault_throughput: VAXPASS_TEST_PKCS11_MODULE is not set; \
             eval \"$(scripts/softhsm.sh env)\""
        );
        return;
    };
    let count = env_usize("VAXPASS_BENCH_CREDENTIALS", 20_000);
    let batch = env_usize("VAXPASS_BENCH_BATCH", 256).max(1);
    let rounds = env_usize("VAXPASS_BENCH_ROUNDS", 3).max(1);
    let hsm = Pkcs11Vault::open(HsmConfig {
        module: PathBuf::from(module),
        token: std::env::var("VAXPASS_TEST_PKCS11_TOKEN").expect("VAXPASS_TEST_PKCS11_TOKEN"),
        pin: Pin::from_env("VAXPASS_TEST_PKCS11_PIN").expect("VAXPASS_TEST_PKCS11_PIN"),
        sessions: env_usize("VAXPASS_BENCH_SESSIONS", 4).max(1),
    })
    .unwrap();
    let hsm_key = hsm.generate().unwrap();
    let key_file = KeyFileVault(Ed25519KeyPair::generate());
    let file_key = key_file.generate().unwrap();
    let for_hsm = unsigned_credentials(&hsm_key, count);
    let for_file = unsigned_credentials(&file_key, count);
    let dir = tempfile::tempdir().unwrap();
    let mut conn = audit_log(&dir.path().join("audit.sqlite"));
    // Warm both: the token finds and checks its key once, SQLite creates its WAL.
    round(
        &hsm,
        &hsm_key,
        &for_hsm[..batch.min(count)],
        batch,
        &mut conn,
    );
    round(
        &key_file,
        &file_key,
        &for_file[..batch.min(count)],
        batch,
        &mut conn,
    );

    // One signature at a time, one session: what a signature costs each vault.
    for (name, vault, key) in [
        ("key file", &key_file as &dyn KeyVault, &file_key),
        ("HSM", &hsm as &dyn KeyVault, &hsm_key),
    ] {
        let started = Instant::now();
        for message in for_file.iter().take(500) {
            vault.sign(key, &message.tbs_data(&[])).unwrap();
        }
        println!(
            "{name}: {:.1} us a signature, one at a time",
            started.elapsed().as_secs_f64() * 1e6 / 500.0
        );
    }
    println!(
        "{count} credentials a round, batches of {batch}, {rounds} rounds each, alternating, \
         {} token sessions",
        env_usize("VAXPASS_BENCH_SESSIONS", 4).max(1)
    );
    let (mut file_rates, mut hsm_rates) = (Vec::new(), Vec::new());
    for r in 1..=rounds {
        let file = round(&key_file, &file_key, &for_file, batch, &mut conn);
        let token = round(&hsm, &hsm_key, &for_hsm, batch, &mut conn);
        println!(
            "round {r}: key file {file:.0} /s, HSM {token:.0} /s, ratio {:.2}",
            token / file
        );
        file_rates.push(file);
        hsm_rates.push(token);
    }
    let (file, token) = (median(file_rates), median(hsm_rates));
    println!("median: key file {file:.0} /s, HSM {token:.0} /s");
    println!("HSM / key file: {:.2} (target >= 0.80)", token / file);
}
