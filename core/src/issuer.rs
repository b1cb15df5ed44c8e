//! The authority's side: a root key that signs the lists, issuer keys that sign credentials, and
//! an audit log of what was issued (ids and times only). Used by the issuer service.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration, Utc};
use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

use crate::credential::{Claims, Credential, CredentialId, CREDENTIAL_ID_BYTES};
use crate::enrolment::{encode_issued, EnrolmentRequest, MAX_ISSUED};
use crate::error::{Error, Result};
use crate::keys::{DevicePublicKey, Ed25519KeyPair, Kid};
use crate::lists::{IssuerKey, RevocationList, TrustList};
use crate::model::PassData;
use crate::store::{self, Create};

const MIGRATIONS: &[&str] = &[include_str!("../migrations/authority/0001_init.sql")];

/// A credential just issued. `Debug` shows the id, never the bytes (they carry the holder).
#[derive(Clone)]
pub struct Issued {
    pub id: CredentialId,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("id", &self.id)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// One credential to issue in a batch.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub pass: PassData,
    pub device_key: DevicePublicKey,
    pub not_before: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

/// The health authority. Safe to share between threads.
#[derive(Debug)]
pub struct Authority {
    conn: Mutex<Connection>,
    issuer: String,
    root: Ed25519KeyPair,
    /// The active issuer key, cached: issuing is the service's hot path.
    active: Mutex<Option<ActiveKey>>,
}

#[derive(Debug)]
struct ActiveKey {
    key: Ed25519KeyPair,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
}

impl Authority {
    /// How long a new issuer key may sign for.
    pub const ISSUER_KEY_LIFETIME: Duration = Duration::days(365);
    /// The longest a credential may be valid (`exp - iat`). The trust list bounds each key's
    /// credentials by it: none may expire later than this after the key's last signing time
    /// (`not_after`, or `revoked_after` once it leaked), so a thief's forgeries die with it.
    pub const MAX_CREDENTIAL_LIFETIME: Duration = Duration::days(730);

    /// Creates a new authority with a fresh root key and a first issuer key valid from `now`.
    pub fn create(path: impl AsRef<Path>, issuer: &str, now: DateTime<Utc>) -> Result<Self> {
        if issuer.is_empty() || issuer.len() > 64 || !issuer.is_ascii() {
            return Err(Error::InvalidArgument(
                "issuer must be 1 to 64 ASCII characters".into(),
            ));
        }
        let mut conn = store::open(path.as_ref(), Create::IfMissing, MIGRATIONS)?;
        let root = Ed25519KeyPair::generate();
        let tx = conn.transaction()?;
        let created = tx.execute(
            "INSERT INTO authority (id, issuer, root_secret) VALUES (1, ?1, ?2)",
            params![issuer, &root.secret()[..]],
        );
        if let Err(rusqlite::Error::SqliteFailure(e, _)) = &created {
            if e.code == ErrorCode::ConstraintViolation {
                return Err(Error::InvalidArgument(
                    "an authority already exists in this database".into(),
                ));
            }
        }
        created?;
        insert_issuer_key(&tx, &Ed25519KeyPair::generate(), now)?;
        tx.commit()?;
        Self::from_connection(conn)
    }

    /// Opens an existing authority; a missing file is `NotFound`, not a new empty database.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_connection(store::open(path.as_ref(), Create::Never, MIGRATIONS)?)
    }

    fn from_connection(conn: Connection) -> Result<Self> {
        let (issuer, root_secret): (String, Vec<u8>) = conn
            .query_row(
                "SELECT issuer, root_secret FROM authority WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(Error::NotFound("authority (create it first)"))?;
        let root = Ed25519KeyPair::from_secret(&zeroize::Zeroizing::new(root_secret))?;
        Ok(Self {
            conn: Mutex::new(conn),
            issuer,
            root,
            active: Mutex::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The root public key verifiers pin.
    pub fn root_public_key(&self) -> [u8; 32] {
        self.root.public()
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

    /// Issues a batch of credentials and records them all in the audit log in one transaction:
    /// one durable commit (one fsync) for the whole batch, and none of it is returned unless all of
    /// it is recorded. This is how a service sustains thousands of issuances per second: it
    /// gathers concurrent requests and answers them after the batch commits (group commit).
    ///
    /// A request that cannot be signed (an invalid pass) fails alone, in its own slot; the outer
    /// error means the batch was not recorded at all.
    pub fn issue_batch(
        &self,
        requests: &[IssueRequest],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<Issued>>> {
        let key = self.active_key(now)?;
        // Sign before taking the database lock; only the inserts are serialised.
        let mut issued: Vec<Result<Issued>> = requests
            .iter()
            .map(|r| self.sign_with(&key, r, now))
            .collect();
        let mut conn = self.lock();
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
                    &key.kid()[..],
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
                    *credential = self.sign_with(&key, request, now)?;
                }
            }
        }
        tx.commit()?;
        Ok(issued)
    }

    /// Signs credentials with fresh random ids *without* recording them, for a service that keeps
    /// its own durable audit log (e.g. in PostgreSQL shared by several replicas). The caller must
    /// record each id (unique) before handing the credential out, and sign again on a collision.
    pub fn sign_batch(
        &self,
        requests: &[IssueRequest],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<Issued>>> {
        let key = self.active_key(now)?;
        Ok(requests
            .iter()
            .map(|r| self.sign_with(&key, r, now))
            .collect())
    }

    /// The key id of the issuer key that signs at `now`.
    pub fn active_kid(&self, now: DateTime<Utc>) -> Result<Kid> {
        Ok(self.active_key(now)?.kid())
    }

    fn sign_with(
        &self,
        key: &Ed25519KeyPair,
        request: &IssueRequest,
        now: DateTime<Utc>,
    ) -> Result<Issued> {
        if request.expires - now > Self::MAX_CREDENTIAL_LIFETIME {
            return Err(Error::InvalidArgument(format!(
                "a credential may be valid for at most {} days",
                Self::MAX_CREDENTIAL_LIFETIME.num_days()
            )));
        }
        let mut id = [0u8; CREDENTIAL_ID_BYTES];
        OsRng.fill_bytes(&mut id);
        let claims = Claims {
            issuer: self.issuer.clone(),
            issued_at: now,
            not_before: request.not_before,
            expires: request.expires,
            id: CredentialId(id),
            device_key: request.device_key.clone(),
            pass: request.pass.clone(),
        };
        Ok(Issued {
            id: CredentialId(id),
            bytes: Credential::sign(&claims, key)?,
        })
    }

    /// Answers an enrolment: checks the request against the nonce this service handed out and the
    /// device key's proof of possession, then issues one credential per pass to that device key and
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
        // Refuse what cannot be issued before anything is recorded.
        for pass in passes {
            pass.validate()?;
        }
        if passes.is_empty() || passes.len() > MAX_ISSUED {
            return Err(Error::InvalidArgument(format!(
                "an enrolment issues 1 to {MAX_ISSUED} passes"
            )));
        }
        let request = EnrolmentRequest::from_bytes(request)?;
        request.verify(nonce)?;
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

    fn active_key(&self, now: DateTime<Utc>) -> Result<Ed25519KeyPair> {
        let mut cached = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        if cached.is_none() {
            let row: Option<(Vec<u8>, i64, i64)> = self
                .lock()
                .query_row(
                    "SELECT secret, not_before, not_after FROM issuer_keys WHERE active = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (secret, from, to) = row.ok_or(Error::NotFound("active issuer key"))?;
            let key = Ed25519KeyPair::from_secret(&zeroize::Zeroizing::new(secret))?;
            *cached = Some(ActiveKey {
                key,
                not_before: at(from),
                not_after: at(to),
            });
        }
        match cached.as_ref() {
            Some(active) if active.not_before <= now && now <= active.not_after => {
                Ok(active.key.clone())
            }
            _ => Err(Error::InvalidArgument(
                "no issuer key is valid now: rotate the issuer key".into(),
            )),
        }
    }

    /// Retires the active issuer key (it stops signing at `now`; what it signed stays valid) and
    /// makes a new one, valid from `now`. Returns the new key's id.
    pub fn rotate_issuer_key(&self, now: DateTime<Utc>) -> Result<Kid> {
        let key = Ed25519KeyPair::generate();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE issuer_keys SET not_after = min(not_after, ?1), active = 0 WHERE active = 1",
            [now.timestamp()],
        )?;
        insert_issuer_key(&tx, &key, now)?;
        tx.commit()?;
        *self.active.lock().unwrap_or_else(PoisonError::into_inner) = None;
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
        *self.active.lock().unwrap_or_else(PoisonError::into_inner) = None;
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
        let mut query = conn.prepare("SELECT kid, public_key, not_before, not_after, revoked_after FROM issuer_keys ORDER BY not_before, kid")?;
        let rows = query.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (kid, public_key, from, to, revoked) = row?;
            let bad = || Error::malformed("stored issuer key", "wrong length");
            let public_key: [u8; 32] = public_key.try_into().map_err(|_| bad())?;
            let (not_after, revoked_after) = (at(to), revoked.map(at));
            let last_signing = revoked_after.map_or(not_after, |leak| leak.min(not_after));
            let key = IssuerKey::new(
                public_key,
                at(from),
                not_after,
                revoked_after,
                last_signing
                    .checked_add_signed(Self::MAX_CREDENTIAL_LIFETIME)
                    .ok_or(bad())?,
            )?;
            if key.kid[..] != kid[..] {
                return Err(bad());
            }
            Ok(key)
        })
        .collect()
    }

    /// Signs a new trust list (the next sequence number) valid until `now + valid_for`.
    pub fn trust_list(&self, now: DateTime<Utc>, valid_for: Duration) -> Result<Vec<u8>> {
        let keys = self.issuer_keys()?;
        let sequence = self.next_sequence("trust_sequence")?;
        TrustList {
            sequence,
            issuer: self.issuer.clone(),
            issued_at: now,
            next_update: now + valid_for,
            keys,
        }
        .sign(&self.root)
    }

    /// Signs a new revocation list of every revoked credential that has not yet expired.
    pub fn revocation_list(&self, now: DateTime<Utc>, valid_for: Duration) -> Result<Vec<u8>> {
        let entries = {
            let conn = self.lock();
            let mut query = conn
                .prepare("SELECT id FROM issued WHERE revoked_at IS NOT NULL AND expires > ?1")?;
            let rows = query.query_map([now.timestamp()], |r| r.get::<_, Vec<u8>>(0))?;
            rows.map(|id| {
                let id: [u8; CREDENTIAL_ID_BYTES] = id?
                    .try_into()
                    .map_err(|_| Error::malformed("stored credential id", "wrong length"))?;
                Ok(CredentialId(id).revocation_entry())
            })
            .collect::<Result<Vec<_>>>()?
        };
        let sequence = self.next_sequence("revocation_sequence")?;
        RevocationList::new(sequence, now, now + valid_for, entries).sign(&self.root)
    }

    /// Signs a new revocation list of the given credentials, for a service that keeps revocations
    /// in its own store. Uses the same sequence counter as [`Authority::revocation_list`].
    pub fn revocation_list_of(
        &self,
        revoked: &[CredentialId],
        now: DateTime<Utc>,
        valid_for: Duration,
    ) -> Result<Vec<u8>> {
        let entries = revoked.iter().map(CredentialId::revocation_entry).collect();
        let sequence = self.next_sequence("revocation_sequence")?;
        RevocationList::new(sequence, now, now + valid_for, entries).sign(&self.root)
    }

    fn next_sequence(&self, column: &'static str) -> Result<u64> {
        let conn = self.lock();
        let sql =
            format!("UPDATE authority SET {column} = {column} + 1 WHERE id = 1 RETURNING {column}");
        let next: i64 = conn.query_row(&sql, [], |r| r.get(0))?;
        Ok(next as u64)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn insert_issuer_key(conn: &Connection, key: &Ed25519KeyPair, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "INSERT INTO issuer_keys (kid, secret, public_key, not_before, not_after, active) VALUES (?1, ?2, ?3, ?4, ?5, 1)",
        params![&key.kid()[..], &key.secret()[..], &key.public()[..], now.timestamp(), (now + Authority::ISSUER_KEY_LIFETIME).timestamp()],
    )?;
    Ok(())
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}
