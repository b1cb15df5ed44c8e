//! An authority in one SQLite file, for development, the demo and the bindings: the
//! [`Authority`] signer over a [`KeyFile`] beside it, plus the store of record it needs (issuer
//! keys and which is active, list sequence numbers, the audit log of issuance, revocations). The
//! issuer service keeps that state in its own store instead, shared by its replicas.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

use crate::credential::{CredentialId, CREDENTIAL_ID_BYTES};
use crate::enrolment::{encode_issued, EnrolmentRequest, MAX_ISSUED};
use crate::error::{Error, Result};
use crate::issuer::{check_issuer, Authority, IssueRequest, Issued, SigningKey};
use crate::key_file::KeyFile;
use crate::keys::{DevicePublicKey, Kid};
use crate::lists::IssuerKey;
use crate::model::PassData;
use crate::rules::RuleSet;
use crate::store::{self, Create};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/authority/0001_init.sql"),
    include_str!("../migrations/authority/0002_keys_in_the_key_file.sql"),
    include_str!("../migrations/authority/0003_rules_sequence.sql"),
];

/// A file-backed authority. Safe to share between threads: one lock, the file's connection.
#[derive(Debug)]
pub struct LocalAuthority {
    conn: Mutex<Connection>,
    signer: Authority,
}

impl LocalAuthority {
    /// The key file of the authority at `path`: the same name with `.keys` appended.
    pub fn key_file_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".keys");
        PathBuf::from(name)
    }

    /// Creates a new authority with a fresh root key and a first issuer key valid from `now`.
    pub fn create(path: impl AsRef<Path>, issuer: &str, now: DateTime<Utc>) -> Result<Self> {
        check_issuer(issuer)?;
        let path = path.as_ref();
        let mut conn = store::open(path, Create::IfMissing, MIGRATIONS)?;
        let vault = Arc::new(KeyFile::create(Self::key_file_path(path))?);
        let signer = Authority::new(issuer, crate::vault::KeyVault::generate(&*vault)?, vault)?;
        let tx = conn.transaction()?;
        let created = tx.execute(
            "INSERT INTO authority (id, issuer, root_secret, root_public_key) VALUES (1, ?1, x'', ?2)",
            params![issuer, &signer.root_public_key()[..]],
        );
        if let Err(rusqlite::Error::SqliteFailure(e, _)) = &created {
            if e.code == ErrorCode::ConstraintViolation {
                return Err(Error::WrongState(
                    "an authority already exists in this database",
                ));
            }
        }
        created?;
        insert_issuer_key(&tx, &signer.new_issuer_key(now)?)?;
        tx.commit()?;
        Ok(Self {
            conn: Mutex::new(conn),
            signer,
        })
    }

    /// Opens an existing authority; a missing file is `NotFound`, not a new empty database.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let conn = store::open(path, Create::Never, MIGRATIONS)?;
        let (issuer, root): (String, Option<Vec<u8>>) = conn
            .query_row(
                "SELECT issuer, root_public_key FROM authority WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(Error::NotFound("authority (create it first)"))?;
        let vault = Arc::new(KeyFile::create(Self::key_file_path(path))?);
        let root = match root {
            Some(root) => root,
            None => move_secrets_to_key_file(&conn, &vault)?.to_vec(),
        };
        let root: [u8; 32] = root
            .try_into()
            .map_err(|_| Error::malformed("stored root key", "wrong length"))?;
        Ok(Self {
            conn: Mutex::new(conn),
            signer: Authority::new(&issuer, root, vault)?,
        })
    }

    /// The signer, for callers that sign themselves.
    pub fn signer(&self) -> &Authority {
        &self.signer
    }

    /// The authority's name, the CWT `iss` of every credential it signs (e.g. "KR").
    pub fn issuer(&self) -> &str {
        self.signer.issuer()
    }

    /// The root public key verifiers pin.
    pub fn root_public_key(&self) -> [u8; 32] {
        self.signer.root_public_key()
    }

    /// Issues a credential for `pass`, bound to `device_key`, valid from `not_before` until
    /// `expires`, and records it in the audit log before returning it.
    pub fn issue(
        &self,
        pass: &PassData,
        device_key: &DevicePublicKey,
        not_before: DateTime<Utc>,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Issued> {
        let request = IssueRequest {
            pass: pass.clone(),
            device_key: device_key.clone(),
            not_before,
            expires,
        };
        let mut issued = self.issue_batch(std::slice::from_ref(&request), now)?;
        issued.pop().ok_or(Error::NotFound("issued credential"))?
    }

    /// Issues a batch of credentials and records them all in the audit log in one transaction;
    /// none of it is returned unless all of it is recorded. A request that cannot be signed
    /// fails alone, in its own slot.
    pub fn issue_batch(
        &self,
        requests: &[IssueRequest],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<Issued>>> {
        let mut conn = self.lock();
        let key = active_key(&conn)?;
        let mut issued = self.signer.sign_credentials(&key, requests, now)?;
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO issued (id, kid, issued_at, expires) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (request, slot) in requests.iter().zip(issued.iter_mut()) {
                let Ok(credential) = slot else { continue };
                // Ids are random; the primary key makes them unique, so a collision draws again.
                let mut attempts = 0;
                while insert.execute(params![
                    &credential.id.0[..],
                    &credential.kid[..],
                    now.timestamp(),
                    request.expires.timestamp()
                ])? == 0
                {
                    attempts += 1;
                    if attempts == 4 {
                        return Err(Error::InvalidArgument(
                            "could not find a free credential id".into(),
                        ));
                    }
                    let again =
                        self.signer
                            .sign_credentials(&key, std::slice::from_ref(request), now)?;
                    *credential = again
                        .into_iter()
                        .next()
                        .ok_or(Error::NotFound("issued credential"))??;
                }
            }
        }
        tx.commit()?;
        Ok(issued)
    }

    /// Signs credentials with the active issuer key *without* recording them, for a caller that
    /// keeps its own audit log: it records each id (unique) before handing the credential out.
    /// Each credential carries the id of the key that signed it.
    pub fn sign_batch(
        &self,
        requests: &[IssueRequest],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<Issued>>> {
        let key = active_key(&self.lock())?;
        self.signer.sign_credentials(&key, requests, now)
    }

    /// Answers an enrolment: checks the request against the nonce handed out and the device
    /// key's proof of possession, then issues one credential per pass to that device key and
    /// packs them for [`Wallet::import`](crate::Wallet::import). Identity checking (whose passes
    /// these are) is the caller's: it happens before, against the identity proof.
    pub fn answer_enrolment(
        &self,
        request: &[u8],
        nonce: &[u8],
        passes: &[PassData],
        not_before: DateTime<Utc>,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>> {
        for pass in passes {
            pass.validate()?;
        }
        if passes.is_empty() || passes.len() > MAX_ISSUED {
            return Err(Error::InvalidArgument(format!(
                "an enrolment issues 1 to {MAX_ISSUED} passes"
            )));
        }
        let request = EnrolmentRequest::verify_possession(request)?;
        request.answers(nonce)?;
        let credentials = passes
            .iter()
            .map(|pass| {
                Ok(self
                    .issue(pass, &request.device_key, not_before, expires, now)?
                    .bytes)
            })
            .collect::<Result<Vec<_>>>()?;
        encode_issued(&credentials)
    }

    /// The key id of the issuer key that signs at `now`.
    pub fn active_kid(&self, now: DateTime<Utc>) -> Result<Kid> {
        let key = active_key(&self.lock())?;
        if !(key.not_before <= now && now <= key.not_after) {
            return Err(Error::WrongState(
                "no issuer key is valid now: rotate the issuer key",
            ));
        }
        Ok(key.kid())
    }

    /// Retires the active issuer key (it stops signing at `now`; what it signed stays valid) and
    /// makes a new one, valid from `now`. Returns the new key's id.
    pub fn rotate_issuer_key(&self, now: DateTime<Utc>) -> Result<Kid> {
        let key = self.signer.new_issuer_key(now)?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE issuer_keys SET not_after = min(not_after, ?1), active = 0 WHERE active = 1",
            [now.timestamp()],
        )?;
        insert_issuer_key(&tx, &key)?;
        tx.commit()?;
        Ok(key.kid())
    }

    /// Marks an issuer key as leaked at `revoked_after`: credentials it signed after that time stop
    /// verifying once verifiers get the next trust list; earlier ones stay valid. An active key is
    /// also retired, so rotate afterwards to keep issuing.
    pub fn mark_compromised(&self, kid: &Kid, revoked_after: DateTime<Utc>) -> Result<()> {
        let changed = self.lock().execute(
            "UPDATE issuer_keys SET revoked_after = min(coalesce(revoked_after, ?2), ?2), active = 0 WHERE kid = ?1",
            params![&kid[..], revoked_after.timestamp()],
        )?;
        if changed == 0 {
            return Err(Error::NotFound("issuer key"));
        }
        Ok(())
    }

    /// Revokes one credential; it appears on the next revocation list.
    pub fn revoke(&self, id: &CredentialId, now: DateTime<Utc>) -> Result<()> {
        let changed = self.lock().execute(
            "UPDATE issued SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
            params![&id.0[..], now.timestamp()],
        )?;
        if changed == 0 {
            return Err(Error::NotFound("credential"));
        }
        Ok(())
    }

    /// All issuer keys, as the trust list describes them.
    pub fn issuer_keys(&self) -> Result<Vec<IssuerKey>> {
        let conn = self.lock();
        let mut query = conn.prepare(
            "SELECT public_key, not_before, not_after, revoked_after FROM issuer_keys ORDER BY not_before, kid",
        )?;
        let rows = query.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (public_key, from, to, revoked) = row?;
            Authority::listed_key(
                public_key_of(public_key)?,
                at(from),
                at(to),
                revoked.map(at),
            )
        })
        .collect()
    }

    /// Signs a new trust list (the next sequence number) valid until `now + valid_for`.
    pub fn trust_list(&self, now: DateTime<Utc>, valid_for: Duration) -> Result<Vec<u8>> {
        let keys = self.issuer_keys()?;
        let sequence = self.next_sequence("trust_sequence")?;
        self.signer.sign_trust_list(sequence, keys, now, valid_for)
    }

    /// Signs a new rules list (the next sequence number) of [`RuleSet::korea_2022_standing`]:
    /// one rule set in force on any date, for demos and tests that judge passes by the Korean
    /// rules of early 2022.
    pub fn rules_list(&self, now: DateTime<Utc>, valid_for: Duration) -> Result<Vec<u8>> {
        self.rules_list_of(vec![RuleSet::korea_2022_standing()], now, valid_for)
    }

    /// Signs a new rules list (the next sequence number) of `rule_sets`, in the order they take
    /// effect.
    pub fn rules_list_of(
        &self,
        rule_sets: Vec<RuleSet>,
        now: DateTime<Utc>,
        valid_for: Duration,
    ) -> Result<Vec<u8>> {
        let sequence = self.next_sequence("rules_sequence")?;
        self.signer
            .sign_rules_list(sequence, rule_sets, now, valid_for)
    }

    /// Signs a new revocation list of every revoked credential that has not yet expired.
    pub fn revocation_list(&self, now: DateTime<Utc>, valid_for: Duration) -> Result<Vec<u8>> {
        let revoked = {
            let conn = self.lock();
            let mut query = conn
                .prepare("SELECT id FROM issued WHERE revoked_at IS NOT NULL AND expires > ?1")?;
            let rows = query.query_map([now.timestamp()], |r| r.get::<_, Vec<u8>>(0))?;
            rows.map(|id| {
                let id: [u8; CREDENTIAL_ID_BYTES] = id?
                    .try_into()
                    .map_err(|_| Error::malformed("stored credential id", "wrong length"))?;
                Ok(CredentialId(id))
            })
            .collect::<Result<Vec<_>>>()?
        };
        let sequence = self.next_sequence("revocation_sequence")?;
        self.signer
            .sign_revocation_list(sequence, &revoked, now, valid_for)
    }

    /// Signs a new revocation list of the given credentials, for a caller that keeps revocations
    /// itself. Uses the same sequence counter as [`Self::revocation_list`].
    pub fn revocation_list_of(
        &self,
        revoked: &[CredentialId],
        now: DateTime<Utc>,
        valid_for: Duration,
    ) -> Result<Vec<u8>> {
        let sequence = self.next_sequence("revocation_sequence")?;
        self.signer
            .sign_revocation_list(sequence, revoked, now, valid_for)
    }

    fn next_sequence(&self, column: &'static str) -> Result<u64> {
        let sql =
            format!("UPDATE authority SET {column} = {column} + 1 WHERE id = 1 RETURNING {column}");
        let next: i64 = self.lock().query_row(&sql, [], |r| r.get(0))?;
        Ok(next as u64)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn active_key(conn: &Connection) -> Result<SigningKey> {
    let (public_key, from, to): (Vec<u8>, i64, i64) = conn
        .query_row(
            "SELECT public_key, not_before, not_after FROM issuer_keys WHERE active = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or(Error::WrongState(
            "no issuer key is valid now: rotate the issuer key",
        ))?;
    Ok(SigningKey {
        public_key: public_key_of(public_key)?,
        not_before: at(from),
        not_after: at(to),
    })
}

/// Imports a version 1 file: its secrets go to the key file, and are blanked here.
fn move_secrets_to_key_file(conn: &Connection, vault: &KeyFile) -> Result<[u8; 32]> {
    let root_secret: Vec<u8> =
        conn.query_row("SELECT root_secret FROM authority WHERE id = 1", [], |r| {
            r.get(0)
        })?;
    let root = vault.import(&zeroize::Zeroizing::new(root_secret))?;
    let secrets = {
        let mut query = conn.prepare("SELECT secret FROM issuer_keys")?;
        let rows = query.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for secret in secrets {
        vault.import(&zeroize::Zeroizing::new(secret))?;
    }
    conn.execute_batch("BEGIN")?;
    conn.execute(
        "UPDATE authority SET root_public_key = ?1, root_secret = x'' WHERE id = 1",
        [&root[..]],
    )?;
    conn.execute("UPDATE issuer_keys SET secret = x''", [])?;
    conn.execute_batch("COMMIT")?;
    Ok(root)
}

fn insert_issuer_key(conn: &Connection, key: &SigningKey) -> Result<()> {
    conn.execute(
        "INSERT INTO issuer_keys (kid, secret, public_key, not_before, not_after, active) VALUES (?1, x'', ?2, ?3, ?4, 1)",
        params![&key.kid()[..], &key.public_key[..], key.not_before.timestamp(), key.not_after.timestamp()],
    )?;
    Ok(())
}

fn public_key_of(bytes: Vec<u8>) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| Error::malformed("stored issuer key", "wrong length"))
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A file of schema 1 held its secrets itself: opening it moves them to the key file, blanks
    /// them here, and the authority signs as before with the same root and issuer keys.
    #[test]
    fn a_version_1_file_gives_its_secrets_to_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let now = at(Utc::now().timestamp());
        let (root, issuer) = (
            crate::keys::Ed25519KeyPair::generate(),
            crate::keys::Ed25519KeyPair::generate(),
        );
        {
            let conn = store::open(&path, Create::IfMissing, &MIGRATIONS[..1]).unwrap();
            conn.execute(
                "INSERT INTO authority (id, issuer, root_secret) VALUES (1, 'KR', ?1)",
                [&root.secret()[..]],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO issuer_keys (kid, secret, public_key, not_before, not_after, active)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1)",
                params![
                    &issuer.kid()[..],
                    &issuer.secret()[..],
                    &issuer.public()[..],
                    now.timestamp(),
                    (now + Duration::days(1)).timestamp()
                ],
            )
            .unwrap();
        }
        let authority = LocalAuthority::open(&path).unwrap();
        assert_eq!(authority.root_public_key(), root.public());
        assert_eq!(authority.active_kid(now).unwrap(), issuer.kid());
        let list = authority.trust_list(now, Duration::hours(1)).unwrap();
        assert!(crate::TrustList::verify(&list, &root.public()).is_ok());
        let blanked: i64 = authority
            .lock()
            .query_row(
                "SELECT (SELECT count(*) FROM issuer_keys WHERE length(secret) > 0)
                      + (SELECT count(*) FROM authority WHERE length(root_secret) > 0)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(blanked, 0);
        drop(authority);
        // Opened again, it reads the root key from the file and the secrets from the key file.
        let again = LocalAuthority::open(&path).unwrap();
        assert!(again.trust_list(now, Duration::hours(1)).is_ok());
    }

    /// The signer used to cache the active key under a second lock, taken before the
    /// connection's by signing and after it by rotation: run together, they deadlocked.
    #[test]
    fn rotating_while_signing_never_deadlocks() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let authority =
            Arc::new(LocalAuthority::create(dir.path().join("a.sqlite"), "KR", now).unwrap());
        let (done, finished) = mpsc::channel();
        for rotate in [true, false] {
            let (authority, done) = (authority.clone(), done.clone());
            std::thread::spawn(move || {
                for _ in 0..300 {
                    if rotate {
                        authority.rotate_issuer_key(now).unwrap();
                    } else {
                        authority.active_kid(now).unwrap();
                    }
                }
                done.send(()).unwrap();
            });
        }
        for _ in 0..2 {
            finished
                .recv_timeout(std::time::Duration::from_secs(30))
                .expect("rotation and signing deadlocked");
        }
    }
}
