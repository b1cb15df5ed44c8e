//! The embedded backend: one SQLite file (bundled SQLite) in WAL mode with `synchronous=FULL`, so
//! a commit that returned survives a crash or power loss. One writer connection serves the
//! batcher and the admin operations; a few read-only connections serve the handlers' lookups,
//! which WAL lets run beside the writer. Every call runs on a blocking thread.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use vaxpass::keys::Kid;
use vaxpass::{CredentialId, PassData, Person, SigningKey};

use super::{
    assemble_passes, batch_kids, credential_id, hash32, kid, signed_publication, stored_key,
    timestamp, AnchorRecorded, AuditEntry, AuthorityRecord, Batch, CitizenId, CodeHash, CodeStatus,
    Counts, DeviceHash, Enrolment, ListHead, ListKind, NewAnchor, NewCitizen, Outcome,
    PublishedList, Refusal, Resign, Revoked, SignLists, Store, StoreError, StoreResult,
    StoredAnchor, StoredIssuerKey, SubjectHash, MAX_ID_ATTEMPTS,
};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/sqlite/0001_init.sql"),
    include_str!("migrations/sqlite/0002_keyed_codes.sql"),
    include_str!("migrations/sqlite/0003_list_history.sql"),
    include_str!("migrations/sqlite/0004_issuer_keys.sql"),
    include_str!("migrations/sqlite/0005_oidc_subjects.sql"),
    include_str!("migrations/sqlite/0006_rules_list.sql"),
    include_str!("migrations/sqlite/0007_check_anchors.sql"),
];
const READERS: usize = 4;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn connect(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Conflict("the store file does not support WAL"));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Applies the numbered migrations not yet applied (`PRAGMA user_version`), in one immediate
/// transaction so two processes opening a new file do not both migrate it.
fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for sql in MIGRATIONS.iter().skip(current as usize) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", supported)?;
    tx.commit()?;
    Ok(())
}

impl SqliteStore {
    /// Opens or creates the store file and brings its schema up to date.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut writer = connect(path)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = connect(path)?;
                conn.pragma_update(None, "query_only", "ON")?;
                Ok(Mutex::new(conn))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&inner.writer);
            f(&mut conn)
        })
        .await
        .map_err(|_| StoreError::Join)?
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A free reader if there is one, else wait for the next in turn.
            let guard = inner
                .readers
                .iter()
                .find_map(|r| r.try_lock().ok())
                .unwrap_or_else(|| {
                    let i = inner.next_reader.fetch_add(1, Ordering::Relaxed) % READERS;
                    lock(&inner.readers[i])
                });
            f(&guard)
        })
        .await
        .map_err(|_| StoreError::Join)?
    }
}

fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(PoisonError::into_inner)
}

fn record(conn: &mut Connection, batch: Batch, resign: &Resign) -> StoreResult<Vec<Outcome>> {
    let now = batch.now.timestamp();
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for kid in batch_kids(&batch) {
        let active: Option<i64> = tx
            .prepare_cached("SELECT active FROM issuer_keys WHERE kid = ?1")?
            .query_row([&kid[..]], |r| r.get(0))
            .optional()?;
        if active != Some(1) {
            return Err(StoreError::KeyRetired);
        }
    }
    {
        let mut insert =
            tx.prepare_cached("INSERT OR IGNORE INTO nonces (nonce, expires_at) VALUES (?1, ?2)")?;
        for (nonce, expires) in &batch.new_nonces {
            insert.execute(params![nonce, expires.timestamp()])?;
        }
        let mut burn = tx.prepare_cached("DELETE FROM nonces WHERE nonce = ?1")?;
        for nonce in &batch.burned_nonces {
            burn.execute([nonce])?;
        }
    }
    let mut outcomes = Vec::with_capacity(batch.enrolments.len());
    for enrolment in batch.enrolments {
        let nonce = enrolment.nonce.clone();
        let savepoint = tx.savepoint()?;
        let outcome = record_one(&savepoint, enrolment, now, resign)?;
        match outcome {
            Ok(_) => savepoint.commit()?,
            Err(Refusal::CodeAlreadyUsed) => {
                // Rolled back: nothing of this enrolment remains but that its nonce is used up.
                drop(savepoint);
                tx.prepare_cached("DELETE FROM nonces WHERE nonce = ?1")?
                    .execute([&nonce])?;
            }
            Err(Refusal::NonceUnknownOrUsed) => drop(savepoint),
        }
        outcomes.push(outcome);
    }
    tx.commit()?;
    Ok(outcomes)
}

fn record_one(
    conn: &Connection,
    enrolment: Enrolment,
    now: i64,
    resign: &Resign,
) -> StoreResult<Outcome> {
    let consumed = conn
        .prepare_cached("DELETE FROM nonces WHERE nonce = ?1 AND expires_at > ?2")?
        .execute(params![enrolment.nonce, now])?;
    if consumed == 0 {
        return Ok(Err(Refusal::NonceUnknownOrUsed));
    }
    if let Some(code) = enrolment.code {
        let marked = conn
            .prepare_cached(
                "UPDATE citizens SET code_used_at = coalesce(code_used_at, ?3), code_used_by = ?4
                 WHERE code_hash = ?1 AND id = ?2 AND (code_used_at IS NULL OR code_used_by = ?4)",
            )?
            .execute(params![
                &code.0[..],
                enrolment.citizen.0,
                now,
                &enrolment.device.0[..]
            ])?;
        if marked == 0 {
            return Ok(Err(Refusal::CodeAlreadyUsed));
        }
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO issued (credential_id, kid, issued_at, expires, citizen_id)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (credential_id) DO NOTHING",
    )?;
    let mut credentials = Vec::with_capacity(enrolment.credentials.len());
    for (request, mut signed) in enrolment.credentials {
        let mut attempts = 1;
        while insert.execute(params![
            &signed.issued.id.0[..],
            &signed.kid[..],
            now,
            request.expires.timestamp(),
            enrolment.citizen.0
        ])? == 0
        {
            if attempts == MAX_ID_ATTEMPTS {
                return Err(StoreError::IdSpaceExhausted);
            }
            attempts += 1;
            signed = resign(&request)?;
        }
        credentials.push(signed.issued.bytes);
    }
    Ok(Ok(credentials))
}

/// A registry write that would give two citizens one code hash.
fn code_conflict(e: rusqlite::Error) -> StoreError {
    if matches!(&e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
    {
        StoreError::Conflict("an enrolment code or subject is already in the registry")
    } else {
        e.into()
    }
}

fn add_citizens(conn: &mut Connection, citizens: Vec<NewCitizen>) -> StoreResult<Vec<CitizenId>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut ids = Vec::with_capacity(citizens.len());
    {
        let mut citizen = tx.prepare_cached(
            "INSERT INTO citizens (code_hash, name, birth_date, subject_hash)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut event = tx.prepare_cached(
            "INSERT INTO events (citizen_id, pass_no, seq, event) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for c in &citizens {
            citizen
                .execute(params![
                    &c.code.0[..],
                    c.person.name,
                    c.person.date_of_birth.to_string(),
                    c.subject.as_ref().map(|s| &s.0[..]),
                ])
                .map_err(code_conflict)?;
            let id = tx.last_insert_rowid();
            for (pass_no, events) in c.passes.iter().enumerate() {
                for (seq, e) in events.iter().enumerate() {
                    event.execute(params![
                        id,
                        pass_no as i64,
                        seq as i64,
                        crate::registry::format_event(e)
                    ])?;
                }
            }
            ids.push(CitizenId(id));
        }
    }
    tx.commit()?;
    Ok(ids)
}

fn passes_of(conn: &Connection, citizen: CitizenId) -> StoreResult<Option<Vec<PassData>>> {
    let person = conn
        .prepare_cached("SELECT name, birth_date FROM citizens WHERE id = ?1")?
        .query_row([citizen.0], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    let Some((name, birth)) = person else {
        return Ok(None);
    };
    let date_of_birth = NaiveDate::parse_from_str(&birth, "%Y-%m-%d")
        .map_err(|_| StoreError::Corrupt("birth date"))?;
    let mut query = conn.prepare_cached(
        "SELECT pass_no, event FROM events WHERE citizen_id = ?1 ORDER BY pass_no, seq",
    )?;
    let rows = query
        .query_map([citizen.0], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    assemble_passes(
        Person {
            name,
            date_of_birth,
        },
        rows,
    )
    .map(Some)
}

fn insert_active_key(conn: &Connection, key: &SigningKey) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO issuer_keys (kid, public_key, not_before, not_after, active)
         VALUES (?1, ?2, ?3, ?4, 1)",
        params![
            &key.kid()[..],
            &key.public_key[..],
            key.not_before.timestamp(),
            key.not_after.timestamp()
        ],
    )?;
    Ok(())
}

fn publish_next(
    conn: &mut Connection,
    now: DateTime<Utc>,
    kinds: &[ListKind],
    sign: SignLists,
) -> StoreResult<Vec<PublishedList>> {
    // IMMEDIATE takes the write lock first: publishers, in any process, take turns.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = {
        // Only the rules list is signed again from its content; a revocation list may be large.
        let mut query = tx.prepare_cached(
            "SELECT kind, sequence, CASE WHEN kind = 'rules' THEN bytes END FROM lists",
        )?;
        let rows = query.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<Vec<u8>>>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (kind, sequence, bytes) = row?;
            let kind = ListKind::parse(&kind).ok_or(StoreError::Corrupt("list kind"))?;
            Ok((kind, sequence as u64, bytes))
        })
        .collect::<StoreResult<Vec<_>>>()?
    };
    let lists = signed_publication(kinds, current, sign, now)?;
    for list in &lists {
        tx.execute(
            "INSERT INTO list_history (kind, sequence, etag, published_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                list.kind.as_str(),
                list.sequence as i64,
                list.etag,
                now.timestamp()
            ],
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => {
                StoreError::Conflict("a list with this sequence was already published")
            }
            _ => e.into(),
        })?;
        tx.execute(
            "INSERT INTO lists (kind, sequence, bytes, etag, published_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (kind) DO UPDATE SET sequence = excluded.sequence, bytes = excluded.bytes,
                 etag = excluded.etag, published_at = excluded.published_at",
            params![
                list.kind.as_str(),
                list.sequence as i64,
                list.bytes,
                list.etag,
                now.timestamp()
            ],
        )?;
    }
    tx.commit()?;
    Ok(lists)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn record_batch(&self, batch: Batch, resign: Resign) -> StoreResult<Vec<Outcome>> {
        self.write(move |conn| record(conn, batch, &resign)).await
    }

    async fn nonce_usable(&self, nonce: &[u8], now: DateTime<Utc>) -> StoreResult<bool> {
        let nonce = nonce.to_vec();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT 1 FROM nonces WHERE nonce = ?1 AND expires_at > ?2")?
                .query_row(params![nonce, now.timestamp()], |_| Ok(()))
                .optional()?
                .is_some())
        })
        .await
    }

    async fn restore_citizen(
        &self,
        citizen: CitizenId,
        new_code: CodeHash,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<CredentialId>>> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx
                .execute(
                    "UPDATE citizens SET code_hash = ?2, code_used_at = NULL, code_used_by = NULL
                     WHERE id = ?1",
                    params![citizen.0, &new_code.0[..]],
                )
                .map_err(code_conflict)?;
            if changed == 0 {
                return Ok(None);
            }
            let revoked = {
                let mut revoke = tx.prepare_cached(
                    "INSERT INTO revoked (credential_id, revoked_at, expires)
                     SELECT credential_id, ?2, expires FROM issued
                     WHERE citizen_id = ?1 AND expires > ?2
                     ON CONFLICT (credential_id) DO NOTHING RETURNING credential_id",
                )?;
                let rows = revoke.query_map(params![citizen.0, now.timestamp()], |r| {
                    r.get::<_, Vec<u8>>(0)
                })?;
                rows.map(|id| credential_id(&id?))
                    .collect::<StoreResult<Vec<_>>>()?
            };
            tx.commit()?;
            Ok(Some(revoked))
        })
        .await
    }

    async fn sweep_nonces(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |conn| {
            Ok(conn.execute(
                "DELETE FROM nonces WHERE expires_at <= ?1",
                [now.timestamp()],
            )? as u64)
        })
        .await
    }

    async fn code_status(&self, code: &CodeHash) -> StoreResult<Option<CodeStatus>> {
        let code = *code;
        self.read(move |conn| {
            let row = conn
                .prepare_cached("SELECT id, code_used_by FROM citizens WHERE code_hash = ?1")?
                .query_row([&code.0[..]], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
                })
                .optional()?;
            row.map(|(id, used_by)| {
                Ok(CodeStatus {
                    citizen: CitizenId(id),
                    used_by: used_by.map(|d| hash32(&d).map(DeviceHash)).transpose()?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn citizen_by_subject(&self, subject: &SubjectHash) -> StoreResult<Option<CitizenId>> {
        let subject = *subject;
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT id FROM citizens WHERE subject_hash = ?1")?
                .query_row([&subject.0[..]], |r| r.get::<_, i64>(0))
                .optional()?
                .map(CitizenId))
        })
        .await
    }

    async fn passes_of(&self, citizen: CitizenId) -> StoreResult<Option<Vec<PassData>>> {
        self.read(move |conn| passes_of(conn, citizen)).await
    }

    async fn add_citizens(&self, citizens: Vec<NewCitizen>) -> StoreResult<Vec<CitizenId>> {
        self.write(move |conn| add_citizens(conn, citizens)).await
    }

    async fn revoke(&self, id: CredentialId, now: DateTime<Utc>) -> StoreResult<Revoked> {
        self.write(move |conn| {
            let added = conn.execute(
                "INSERT INTO revoked (credential_id, revoked_at, expires)
                 SELECT credential_id, ?2, expires FROM issued WHERE credential_id = ?1
                 ON CONFLICT (credential_id) DO NOTHING",
                params![&id.0[..], now.timestamp()],
            )?;
            if added == 1 {
                return Ok(Revoked::Now);
            }
            let issued = conn
                .query_row(
                    "SELECT 1 FROM issued WHERE credential_id = ?1",
                    [&id.0[..]],
                    |_| Ok(()),
                )
                .optional()?;
            Ok(if issued.is_some() {
                Revoked::Already
            } else {
                Revoked::NotIssued
            })
        })
        .await
    }

    async fn revoked_ids(&self, now: DateTime<Utc>) -> StoreResult<Vec<CredentialId>> {
        self.read(move |conn| {
            let mut query = conn.prepare_cached(
                "SELECT credential_id FROM revoked WHERE expires > ?1 ORDER BY credential_id",
            )?;
            let rows = query.query_map([now.timestamp()], |r| r.get::<_, Vec<u8>>(0))?;
            rows.map(|id| credential_id(&id?)).collect()
        })
        .await
    }

    async fn audit_entry(&self, id: CredentialId) -> StoreResult<Option<AuditEntry>> {
        self.read(move |conn| {
            let row = conn
                .prepare_cached(
                    "SELECT kid, issued_at, expires, citizen_id FROM issued WHERE credential_id = ?1",
                )?
                .query_row([&id.0[..]], |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .optional()?;
            row.map(|(k, issued_at, expires, citizen)| {
                Ok(AuditEntry {
                    id,
                    kid: kid(&k)?,
                    issued_at: timestamp(issued_at),
                    expires: timestamp(expires),
                    citizen: CitizenId(citizen),
                })
            })
            .transpose()
        })
        .await
    }

    async fn publish_next(
        &self,
        now: DateTime<Utc>,
        kinds: &[ListKind],
        sign: SignLists,
    ) -> StoreResult<Vec<PublishedList>> {
        let kinds = kinds.to_vec();
        self.write(move |conn| publish_next(conn, now, &kinds, sign))
            .await
    }

    async fn published_heads(&self) -> StoreResult<Vec<ListHead>> {
        self.read(|conn| {
            let mut query = conn.prepare_cached("SELECT kind, sequence, etag FROM lists")?;
            let rows = query.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            rows.map(|row| {
                let (kind, sequence, etag) = row?;
                Ok(ListHead {
                    kind: ListKind::parse(&kind).ok_or(StoreError::Corrupt("list kind"))?,
                    sequence: sequence as u64,
                    etag,
                })
            })
            .collect()
        })
        .await
    }

    async fn published(&self, kind: ListKind) -> StoreResult<Option<PublishedList>> {
        self.read(move |conn| {
            let row = conn
                .prepare_cached(
                    "SELECT sequence, bytes, etag, published_at FROM lists WHERE kind = ?1",
                )?
                .query_row([kind.as_str()], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .optional()?;
            Ok(row.map(|(sequence, bytes, etag, at)| PublishedList {
                kind,
                sequence: sequence as u64,
                bytes,
                etag,
                published_at: timestamp(at),
            }))
        })
        .await
    }

    async fn record_anchor(&self, anchor: NewAnchor) -> StoreResult<AnchorRecorded> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let count = i64::try_from(anchor.count).map_err(|_| StoreError::Corrupt("count"))?;
            let inserted = tx.execute(
                "INSERT INTO check_anchors (shop_key, count, hash, signed, received_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                rusqlite::params![anchor.shop_key, count, &anchor.hash[..], anchor.signed, anchor.received_at.timestamp()],
            )?;
            let held: Vec<u8> = tx.query_row(
                "SELECT hash FROM check_anchors WHERE shop_key = ?1 AND count = ?2",
                rusqlite::params![anchor.shop_key, count],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok(AnchorRecorded::of(inserted > 0, &held, &anchor.hash))
        })
        .await
    }

    async fn latest_anchor(&self, shop_key: Vec<u8>) -> StoreResult<Option<StoredAnchor>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT signed, received_at FROM check_anchors WHERE shop_key = ?1 ORDER BY count DESC LIMIT 1",
                )?
                .query_row([shop_key], |r| {
                    Ok(StoredAnchor {
                        signed: r.get(0)?,
                        received_at: timestamp(r.get(1)?),
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn counts(&self) -> StoreResult<Counts> {
        self.read(|conn| {
            let count = |sql: &str| -> StoreResult<u64> {
                Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
            };
            Ok(Counts {
                nonces: count("SELECT count(*) FROM nonces")?,
                citizens: count("SELECT count(*) FROM citizens")?,
                codes_used: count("SELECT count(*) FROM citizens WHERE code_used_at IS NOT NULL")?,
                issued: count("SELECT count(*) FROM issued")?,
                revoked: count("SELECT count(*) FROM revoked")?,
                lists: count("SELECT count(*) FROM lists")?,
            })
        })
        .await
    }

    async fn authority(&self) -> StoreResult<Option<AuthorityRecord>> {
        self.read(|conn| {
            let row: Option<(String, Vec<u8>)> = conn
                .query_row(
                    "SELECT issuer, root_public_key FROM authority WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            row.map(|(issuer, root)| {
                Ok(AuthorityRecord {
                    issuer,
                    root_public_key: hash32(&root).map_err(|_| StoreError::Corrupt("root key"))?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn init_authority(
        &self,
        authority: AuthorityRecord,
        first_key: SigningKey,
    ) -> StoreResult<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let created = tx.execute(
                "INSERT INTO authority (id, issuer, root_public_key) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO NOTHING",
                params![authority.issuer, &authority.root_public_key[..]],
            )?;
            if created == 0 {
                return Err(StoreError::Conflict("the store already holds an authority"));
            }
            insert_active_key(&tx, &first_key)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn issuer_keys(&self) -> StoreResult<Vec<StoredIssuerKey>> {
        self.read(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT public_key, not_before, not_after, revoked_after, active FROM issuer_keys
                 ORDER BY not_before, kid",
            )?;
            let rows = query.query_map([], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            rows.map(|row| {
                let (public_key, from, to, revoked, active) = row?;
                stored_key(&public_key, from, to, revoked, active == 1)
            })
            .collect()
        })
        .await
    }

    async fn rotate_issuer_key(&self, new_key: SigningKey) -> StoreResult<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE issuer_keys SET not_after = min(not_after, ?1), active = 0 WHERE active = 1",
                [new_key.not_before.timestamp()],
            )?;
            insert_active_key(&tx, &new_key)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn mark_compromised(&self, kid: Kid, revoked_after: DateTime<Utc>) -> StoreResult<bool> {
        self.write(move |conn| {
            Ok(conn.execute(
                "UPDATE issuer_keys SET revoked_after = min(coalesce(revoked_after, ?2), ?2),
                     active = 0 WHERE kid = ?1",
                params![&kid[..], revoked_after.timestamp()],
            )? == 1)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn migration_6_keeps_the_published_lists_and_admits_the_rules_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issuer.sqlite");
        {
            // A store as the previous version left it: schema 5, one list published.
            let conn = connect(&path).unwrap();
            for sql in &MIGRATIONS[..5] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 5).unwrap();
            conn.execute(
                "INSERT INTO lists (kind, sequence, bytes, etag, published_at)
                 VALUES ('trust', 7, x'01', 'e', 1)",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO list_history (kind, sequence, etag, published_at)
                 VALUES ('trust', 7, 'e', 1)",
                [],
            )
            .unwrap();
            let refused = conn.execute(
                "INSERT INTO lists (kind, sequence, bytes, etag, published_at)
                 VALUES ('rules', 1, x'01', 'e', 1)",
                [],
            );
            assert!(refused.is_err(), "schema 5 has no rules list");
        }
        let store = SqliteStore::open(&path).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let heads = rt.block_on(store.published_heads()).unwrap();
        assert_eq!(
            heads,
            vec![ListHead {
                kind: ListKind::Trust,
                sequence: 7,
                etag: "e".into()
            }]
        );
        let sign: SignLists = Box::new(|allocated| {
            Ok(allocated
                .iter()
                .map(|a| (a.kind, vec![a.sequence as u8]))
                .collect())
        });
        let published = rt
            .block_on(store.publish_next(Utc::now(), &ListKind::ALL, sign))
            .unwrap();
        let sequences: Vec<(ListKind, u64)> =
            published.iter().map(|l| (l.kind, l.sequence)).collect();
        assert_eq!(
            sequences,
            [
                (ListKind::Trust, 8),
                (ListKind::Revocation, 1),
                (ListKind::Rules, 1)
            ]
        );
    }
}
