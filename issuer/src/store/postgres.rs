//! The PostgreSQL backend, for several stateless replicas behind a load balancer.
//!
//! tokio-postgres with a deadpool pool, not the sync `postgres` crate: the sync client drives its
//! own runtime and must not run inside ours, so it would need a dedicated thread per connection;
//! the async client multiplexes on the service's runtime and lets the batcher's transaction run
//! without parking a thread. A batch takes a fixed number of round trips whatever its size: the
//! checks and writes are set-based (`= ANY($1)`, `UNNEST`), and rows are locked in a fixed order
//! (`ORDER BY … FOR UPDATE`) so two replicas' batches cannot deadlock.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;
use vaxpass::keys::Kid;
use vaxpass::{CredentialId, IssueRequest, PassData, Person, SigningKey};

use super::{
    assemble_passes, batch_kids, credential_id, hash32, kid, signed_publication, stored_key,
    timestamp, AnchorRecorded, AuditEntry, AuthorityRecord, Batch, CitizenId, CodeHash, CodeStatus,
    Counts, DeviceHash, ListHead, ListKind, NewAnchor, NewCitizen, Outcome, PublishedList, Refusal,
    Resign, Revoked, SignLists, SignedCredential, Store, StoreError, StoreResult, StoredAnchor,
    StoredIssuerKey, SubjectHash, MAX_ID_ATTEMPTS,
};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/0001_init.sql"),
    include_str!("migrations/postgres/0002_keyed_codes.sql"),
    include_str!("migrations/postgres/0003_list_history.sql"),
    include_str!("migrations/postgres/0004_issuer_keys.sql"),
    include_str!("migrations/postgres/0005_oidc_subjects.sql"),
    include_str!("migrations/postgres/0006_rules_list.sql"),
    include_str!("migrations/postgres/0007_check_anchors.sql"),
];
/// Serialises migrations across replicas starting together.
const MIGRATION_LOCK: i64 = 0x7661_7870_6173_7331;
const POOL_SIZE: usize = 16;
const IMPORT_CHUNK: usize = 2000;

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never print it.
        f.debug_struct("PostgresStore")
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

fn pool_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/database`), creates or
    /// migrates the schema.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|_| StoreError::Url("not a PostgreSQL connection URL".into()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name("vaxpass-issuer");
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(5)))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(pool_error)?;
        let mut client = pool.get().await.map_err(pool_error)?;
        migrate(&mut client).await?;
        drop(client);
        Ok(Self { pool })
    }

    async fn client(&self) -> StoreResult<Object> {
        self.pool.get().await.map_err(pool_error)
    }
}

async fn migrate(client: &mut Object) -> StoreResult<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS vaxpass_schema (version INTEGER NOT NULL)")
        .await?;
    let current: i64 = tx
        .query_opt("SELECT version FROM vaxpass_schema", &[])
        .await?
        .map(|r| i64::from(r.get::<_, i32>(0)))
        .unwrap_or(0);
    let supported = MIGRATIONS.len() as i64;
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for sql in MIGRATIONS.iter().skip(current as usize) {
        tx.batch_execute(sql).await?;
    }
    tx.execute("DELETE FROM vaxpass_schema", &[]).await?;
    tx.execute(
        "INSERT INTO vaxpass_schema (version) VALUES ($1)",
        &[&(supported as i32)],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A registry write that would give two citizens one code hash.
fn code_conflict(e: tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict("an enrolment code or subject is already in the registry")
    } else {
        e.into()
    }
}

/// A credential waiting for its audit row: (enrolment index, credential index, request, signed).
type Pending = (usize, usize, IssueRequest, SignedCredential);

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn record_batch(&self, batch: Batch, resign: Resign) -> StoreResult<Vec<Outcome>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = batch.now.timestamp();
        // The signing key must still be the active one; FOR SHARE holds a rotation or a
        // compromise (which update the row) until this batch is committed.
        for kid in batch_kids(&batch) {
            let active = tx
                .query_opt(
                    "SELECT active FROM issuer_keys WHERE kid = $1 FOR SHARE",
                    &[&&kid[..]],
                )
                .await?
                .map(|r| r.get::<_, bool>(0));
            if active != Some(true) {
                return Err(StoreError::KeyRetired);
            }
        }
        if !batch.new_nonces.is_empty() {
            let nonces: Vec<&[u8]> = batch.new_nonces.iter().map(|(n, _)| n.as_slice()).collect();
            let expiries: Vec<i64> = batch
                .new_nonces
                .iter()
                .map(|(_, e)| e.timestamp())
                .collect();
            let insert = tx
                .prepare_cached(
                    "INSERT INTO nonces (nonce, expires_at)
                     SELECT * FROM UNNEST($1::bytea[], $2::bigint[]) ON CONFLICT DO NOTHING",
                )
                .await?;
            tx.execute(&insert, &[&nonces, &expiries]).await?;
        }
        if !batch.burned_nonces.is_empty() {
            let burned: Vec<&[u8]> = batch.burned_nonces.iter().map(Vec::as_slice).collect();
            let burn = tx
                .prepare_cached("DELETE FROM nonces WHERE nonce = ANY($1)")
                .await?;
            tx.execute(&burn, &[&burned]).await?;
        }
        let enrolments = batch.enrolments;
        if enrolments.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }

        // 1. Lock the rows the enrolments need, in a fixed order.
        let wanted: Vec<&[u8]> = enrolments.iter().map(|e| e.nonce.as_slice()).collect();
        let lock_nonces = tx
            .prepare_cached(
                "SELECT nonce FROM nonces WHERE nonce = ANY($1) AND expires_at > $2
                 ORDER BY nonce FOR UPDATE",
            )
            .await?;
        let mut nonces: HashSet<Vec<u8>> = tx
            .query(&lock_nonces, &[&wanted, &now])
            .await?
            .iter()
            .map(|r| r.get::<_, Vec<u8>>(0))
            .collect();
        let wanted: Vec<&[u8]> = enrolments
            .iter()
            .filter_map(|e| e.code.as_ref().map(|c| &c.0[..]))
            .collect();
        let mut codes: HashMap<[u8; 32], (i64, Option<[u8; 32]>)> = HashMap::new();
        if !wanted.is_empty() {
            let lock_codes = tx
                .prepare_cached(
                    "SELECT code_hash, id, code_used_by FROM citizens WHERE code_hash = ANY($1)
                     ORDER BY code_hash FOR UPDATE",
                )
                .await?;
            for row in tx.query(&lock_codes, &[&wanted]).await? {
                let used_by = row
                    .get::<_, Option<Vec<u8>>>(2)
                    .map(|d| hash32(&d))
                    .transpose()?;
                codes.insert(hash32(row.get(0))?, (row.get(1), used_by));
            }
        }

        // 2. Decide in batch order, exactly as one-by-one savepoints would.
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(enrolments.len());
        let mut used_nonces: Vec<&[u8]> = Vec::new();
        let mut marked: Vec<(&[u8], &[u8])> = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        for (index, e) in enrolments.iter().enumerate() {
            if !nonces.remove(&e.nonce) {
                outcomes.push(Err(Refusal::NonceUnknownOrUsed));
                continue;
            }
            if let Some(code) = &e.code {
                match codes.get_mut(&code.0) {
                    Some((id, used_by))
                        if *id == e.citizen.0 && used_by.is_none_or(|d| d == e.device.0) =>
                    {
                        if used_by.is_none() {
                            *used_by = Some(e.device.0);
                            marked.push((&code.0[..], &e.device.0[..]));
                        }
                    }
                    _ => {
                        used_nonces.push(&e.nonce); // refused: its nonce is used up all the same
                        outcomes.push(Err(Refusal::CodeAlreadyUsed));
                        continue;
                    }
                }
            }
            used_nonces.push(&e.nonce);
            for (n, (request, signed)) in e.credentials.iter().enumerate() {
                pending.push((index, n, request.clone(), signed.clone()));
            }
            outcomes.push(Ok(vec![Vec::new(); e.credentials.len()]));
        }

        // 3. Apply: consume nonces, mark codes.
        if !used_nonces.is_empty() {
            let delete = tx
                .prepare_cached("DELETE FROM nonces WHERE nonce = ANY($1)")
                .await?;
            tx.execute(&delete, &[&used_nonces]).await?;
        }
        if !marked.is_empty() {
            let (code_hashes, devices): (Vec<&[u8]>, Vec<&[u8]>) = marked.into_iter().unzip();
            let mark = tx
                .prepare_cached(
                    "UPDATE citizens SET code_used_at = $3, code_used_by = u.device
                     FROM UNNEST($1::bytea[], $2::bytea[]) AS u(code, device)
                     WHERE citizens.code_hash = u.code AND citizens.code_used_at IS NULL",
                )
                .await?;
            tx.execute(&mark, &[&code_hashes, &devices, &now]).await?;
        }

        // 4. Audit rows; an id already taken (or twice in this batch) is signed again.
        let insert = tx
            .prepare_cached(
                "INSERT INTO issued (credential_id, kid, issued_at, expires, citizen_id)
                 SELECT u.id, u.kid, $3, u.expires, u.citizen
                 FROM UNNEST($1::bytea[], $2::bytea[], $4::bigint[], $5::bigint[])
                     AS u(id, kid, expires, citizen)
                 ON CONFLICT (credential_id) DO NOTHING RETURNING credential_id",
            )
            .await?;
        let mut attempt = 1;
        while !pending.is_empty() {
            let mut seen = HashSet::new();
            let (round, mut retry): (Vec<Pending>, Vec<Pending>) = pending
                .into_iter()
                .partition(|(_, _, _, s)| seen.insert(s.issued.id));
            let ids: Vec<&[u8]> = round.iter().map(|p| &p.3.issued.id.0[..]).collect();
            let kids: Vec<&[u8]> = round.iter().map(|p| &p.3.kid[..]).collect();
            let expires: Vec<i64> = round.iter().map(|p| p.2.expires.timestamp()).collect();
            let citizens: Vec<i64> = round.iter().map(|p| enrolments[p.0].citizen.0).collect();
            let inserted: HashSet<Vec<u8>> = tx
                .query(&insert, &[&ids, &kids, &now, &expires, &citizens])
                .await?
                .iter()
                .map(|r| r.get::<_, Vec<u8>>(0))
                .collect();
            for (index, n, request, signed) in round {
                if inserted.contains(&signed.issued.id.0[..]) {
                    if let Some(Ok(credentials)) = outcomes.get_mut(index) {
                        credentials[n] = signed.issued.bytes;
                    }
                } else {
                    retry.push((index, n, request, signed));
                }
            }
            if !retry.is_empty() && attempt == MAX_ID_ATTEMPTS {
                return Err(StoreError::IdSpaceExhausted);
            }
            attempt += 1;
            pending = retry
                .into_iter()
                .map(|(index, n, request, _)| {
                    let signed = resign(&request)?;
                    Ok((index, n, request, signed))
                })
                .collect::<StoreResult<_>>()?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn nonce_usable(&self, nonce: &[u8], now: DateTime<Utc>) -> StoreResult<bool> {
        let client = self.client().await?;
        let query = client
            .prepare_cached("SELECT 1 FROM nonces WHERE nonce = $1 AND expires_at > $2")
            .await?;
        Ok(client
            .query_opt(&query, &[&nonce, &now.timestamp()])
            .await?
            .is_some())
    }

    async fn restore_citizen(
        &self,
        citizen: CitizenId,
        new_code: CodeHash,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<CredentialId>>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let changed = tx
            .execute(
                "UPDATE citizens SET code_hash = $2, code_used_at = NULL, code_used_by = NULL
                 WHERE id = $1",
                &[&citizen.0, &&new_code.0[..]],
            )
            .await
            .map_err(code_conflict)?;
        if changed == 0 {
            return Ok(None);
        }
        let revoked = tx
            .query(
                "INSERT INTO revoked (credential_id, revoked_at, expires)
                 SELECT credential_id, $2, expires FROM issued
                 WHERE citizen_id = $1 AND expires > $2
                 ON CONFLICT (credential_id) DO NOTHING RETURNING credential_id",
                &[&citizen.0, &now.timestamp()],
            )
            .await?
            .iter()
            .map(|r| credential_id(r.get(0)))
            .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().await?;
        Ok(Some(revoked))
    }

    async fn sweep_nonces(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let client = self.client().await?;
        Ok(client
            .execute(
                "DELETE FROM nonces WHERE expires_at <= $1",
                &[&now.timestamp()],
            )
            .await?)
    }

    async fn code_status(&self, code: &CodeHash) -> StoreResult<Option<CodeStatus>> {
        let client = self.client().await?;
        let query = client
            .prepare_cached("SELECT id, code_used_by FROM citizens WHERE code_hash = $1")
            .await?;
        let row = client.query_opt(&query, &[&&code.0[..]]).await?;
        row.map(|r| {
            Ok(CodeStatus {
                citizen: CitizenId(r.get(0)),
                used_by: r
                    .get::<_, Option<Vec<u8>>>(1)
                    .map(|d| hash32(&d).map(DeviceHash))
                    .transpose()?,
            })
        })
        .transpose()
    }

    async fn citizen_by_subject(&self, subject: &SubjectHash) -> StoreResult<Option<CitizenId>> {
        let client = self.client().await?;
        let query = client
            .prepare_cached("SELECT id FROM citizens WHERE subject_hash = $1")
            .await?;
        let row = client.query_opt(&query, &[&&subject.0[..]]).await?;
        Ok(row.map(|r| CitizenId(r.get(0))))
    }

    async fn passes_of(&self, citizen: CitizenId) -> StoreResult<Option<Vec<PassData>>> {
        let client = self.client().await?;
        let query = client
            .prepare_cached(
                "SELECT c.name, c.birth_date, e.pass_no, e.event
                 FROM citizens c LEFT JOIN events e ON e.citizen_id = c.id
                 WHERE c.id = $1 ORDER BY e.pass_no, e.seq",
            )
            .await?;
        let rows = client.query(&query, &[&citizen.0]).await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let date_of_birth = NaiveDate::parse_from_str(first.get(1), "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt("birth date"))?;
        let person = Person {
            name: first.get(0),
            date_of_birth,
        };
        let events = rows.iter().filter_map(|r| {
            let pass_no: Option<i32> = r.get(2);
            let event: Option<String> = r.get(3);
            Some((i64::from(pass_no?), event?))
        });
        assemble_passes(person, events).map(Some)
    }

    async fn add_citizens(&self, citizens: Vec<NewCitizen>) -> StoreResult<Vec<CitizenId>> {
        let mut distinct = HashSet::new();
        if !citizens.iter().all(|c| distinct.insert(c.code)) {
            return Err(StoreError::Conflict(
                "the same enrolment code appears twice",
            ));
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let insert_citizens = tx
            .prepare_cached(
                "INSERT INTO citizens (code_hash, name, birth_date, subject_hash)
                 SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::bytea[])
                 RETURNING id, code_hash",
            )
            .await?;
        let insert_events = tx
            .prepare_cached(
                "INSERT INTO events (citizen_id, pass_no, seq, event)
                 SELECT * FROM UNNEST($1::bigint[], $2::int[], $3::int[], $4::text[])",
            )
            .await?;
        let mut ids = Vec::with_capacity(citizens.len());
        for chunk in citizens.chunks(IMPORT_CHUNK) {
            let codes: Vec<&[u8]> = chunk.iter().map(|c| &c.code.0[..]).collect();
            let names: Vec<&str> = chunk.iter().map(|c| c.person.name.as_str()).collect();
            let births: Vec<String> = chunk
                .iter()
                .map(|c| c.person.date_of_birth.to_string())
                .collect();
            let subjects: Vec<Option<&[u8]>> = chunk
                .iter()
                .map(|c| c.subject.as_ref().map(|s| &s.0[..]))
                .collect();
            let rows = tx
                .query(&insert_citizens, &[&codes, &names, &births, &subjects])
                .await
                .map_err(code_conflict)?;
            let mut by_code = HashMap::with_capacity(rows.len());
            for row in &rows {
                by_code.insert(hash32(row.get(1))?, row.get::<_, i64>(0));
            }
            let (mut e_ids, mut e_pass, mut e_seq, mut e_text) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for c in chunk {
                let id = *by_code
                    .get(&c.code.0)
                    .ok_or(StoreError::Corrupt("inserted citizen"))?;
                for (pass_no, events) in c.passes.iter().enumerate() {
                    for (seq, event) in events.iter().enumerate() {
                        e_ids.push(id);
                        e_pass.push(pass_no as i32);
                        e_seq.push(seq as i32);
                        e_text.push(crate::registry::format_event(event));
                    }
                }
                ids.push(CitizenId(id));
            }
            tx.execute(&insert_events, &[&e_ids, &e_pass, &e_seq, &e_text])
                .await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn revoke(&self, id: CredentialId, now: DateTime<Utc>) -> StoreResult<Revoked> {
        let client = self.client().await?;
        let added = client
            .execute(
                "INSERT INTO revoked (credential_id, revoked_at, expires)
                 SELECT credential_id, $2, expires FROM issued WHERE credential_id = $1
                 ON CONFLICT (credential_id) DO NOTHING",
                &[&&id.0[..], &now.timestamp()],
            )
            .await?;
        if added == 1 {
            return Ok(Revoked::Now);
        }
        let issued = client
            .query_opt(
                "SELECT 1 FROM issued WHERE credential_id = $1",
                &[&&id.0[..]],
            )
            .await?;
        Ok(if issued.is_some() {
            Revoked::Already
        } else {
            Revoked::NotIssued
        })
    }

    async fn revoked_ids(&self, now: DateTime<Utc>) -> StoreResult<Vec<CredentialId>> {
        let client = self.client().await?;
        client
            .query(
                "SELECT credential_id FROM revoked WHERE expires > $1 ORDER BY credential_id",
                &[&now.timestamp()],
            )
            .await?
            .iter()
            .map(|r| credential_id(r.get(0)))
            .collect()
    }

    async fn record_anchor(&self, anchor: NewAnchor) -> StoreResult<AnchorRecorded> {
        let client = self.client().await?;
        let count = i64::try_from(anchor.count).map_err(|_| StoreError::Corrupt("count"))?;
        let inserted = client
            .execute(
                "INSERT INTO check_anchors (shop_key, count, hash, signed, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&anchor.shop_key, &count, &&anchor.hash[..], &anchor.signed, &anchor.received_at.timestamp()],
            )
            .await?;
        let held: Vec<u8> = client
            .query_one(
                "SELECT hash FROM check_anchors WHERE shop_key = $1 AND count = $2",
                &[&anchor.shop_key, &count],
            )
            .await?
            .get(0);
        Ok(AnchorRecorded::of(inserted > 0, &held, &anchor.hash))
    }

    async fn latest_anchor(&self, shop_key: Vec<u8>) -> StoreResult<Option<StoredAnchor>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT signed, received_at FROM check_anchors WHERE shop_key = $1 ORDER BY count DESC LIMIT 1",
                &[&shop_key],
            )
            .await?;
        Ok(row.map(|r| StoredAnchor {
            signed: r.get(0),
            received_at: timestamp(r.get(1)),
        }))
    }

    async fn audit_entry(&self, id: CredentialId) -> StoreResult<Option<AuditEntry>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT kid, issued_at, expires, citizen_id FROM issued WHERE credential_id = $1",
                &[&&id.0[..]],
            )
            .await?;
        row.map(|r| {
            Ok(AuditEntry {
                id,
                kid: kid(r.get(0))?,
                issued_at: timestamp(r.get(1)),
                expires: timestamp(r.get(2)),
                citizen: CitizenId(r.get(3)),
            })
        })
        .transpose()
    }

    async fn publish_next(
        &self,
        now: DateTime<Utc>,
        kinds: &[ListKind],
        sign: SignLists,
    ) -> StoreResult<Vec<PublishedList>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // This mode conflicts with itself and not with readers: publishers, in any replica, take
        // turns, and each sees the lists the one before it committed.
        tx.batch_execute("LOCK TABLE lists IN SHARE ROW EXCLUSIVE MODE")
            .await?;
        let current = tx
            // Only the rules list is signed again from its content; a revocation list may be large.
            .query(
                "SELECT kind, sequence, CASE WHEN kind = 'rules' THEN bytes END FROM lists",
                &[],
            )
            .await?
            .iter()
            .map(|r| {
                let kind = ListKind::parse(r.get(0)).ok_or(StoreError::Corrupt("list kind"))?;
                Ok((
                    kind,
                    r.get::<_, i64>(1) as u64,
                    r.get::<_, Option<Vec<u8>>>(2),
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let lists = signed_publication(kinds, current, sign, now)?;
        for list in &lists {
            tx.execute(
                "INSERT INTO list_history (kind, sequence, etag, published_at)
                 VALUES ($1, $2, $3, $4)",
                &[
                    &list.kind.as_str(),
                    &(list.sequence as i64),
                    &list.etag,
                    &now.timestamp(),
                ],
            )
            .await
            .map_err(|e| {
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                    StoreError::Conflict("a list with this sequence was already published")
                } else {
                    e.into()
                }
            })?;
            tx.execute(
                "INSERT INTO lists (kind, sequence, bytes, etag, published_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (kind) DO UPDATE SET sequence = excluded.sequence,
                     bytes = excluded.bytes, etag = excluded.etag,
                     published_at = excluded.published_at",
                &[
                    &list.kind.as_str(),
                    &(list.sequence as i64),
                    &list.bytes,
                    &list.etag,
                    &now.timestamp(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(lists)
    }

    async fn published_heads(&self) -> StoreResult<Vec<ListHead>> {
        let client = self.client().await?;
        let query = client
            .prepare_cached("SELECT kind, sequence, etag FROM lists")
            .await?;
        client
            .query(&query, &[])
            .await?
            .iter()
            .map(|r| {
                Ok(ListHead {
                    kind: ListKind::parse(r.get(0)).ok_or(StoreError::Corrupt("list kind"))?,
                    sequence: r.get::<_, i64>(1) as u64,
                    etag: r.get(2),
                })
            })
            .collect()
    }

    async fn published(&self, kind: ListKind) -> StoreResult<Option<PublishedList>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT sequence, bytes, etag, published_at FROM lists WHERE kind = $1",
                &[&kind.as_str()],
            )
            .await?;
        Ok(row.map(|r| PublishedList {
            kind,
            sequence: r.get::<_, i64>(0) as u64,
            bytes: r.get(1),
            etag: r.get(2),
            published_at: timestamp(r.get(3)),
        }))
    }

    async fn counts(&self) -> StoreResult<Counts> {
        let client = self.client().await?;
        let r = client
            .query_one(
                "SELECT (SELECT count(*) FROM nonces), (SELECT count(*) FROM citizens),
                        (SELECT count(*) FROM citizens WHERE code_used_at IS NOT NULL),
                        (SELECT count(*) FROM issued), (SELECT count(*) FROM revoked),
                        (SELECT count(*) FROM lists)",
                &[],
            )
            .await?;
        let n = |i: usize| r.get::<_, i64>(i) as u64;
        Ok(Counts {
            nonces: n(0),
            citizens: n(1),
            codes_used: n(2),
            issued: n(3),
            revoked: n(4),
            lists: n(5),
        })
    }

    async fn authority(&self) -> StoreResult<Option<AuthorityRecord>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT issuer, root_public_key FROM authority WHERE id = 1",
                &[],
            )
            .await?;
        row.map(|r| {
            Ok(AuthorityRecord {
                issuer: r.get(0),
                root_public_key: hash32(r.get(1)).map_err(|_| StoreError::Corrupt("root key"))?,
            })
        })
        .transpose()
    }

    async fn init_authority(
        &self,
        authority: AuthorityRecord,
        first_key: SigningKey,
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let created = tx
            .execute(
                "INSERT INTO authority (id, issuer, root_public_key) VALUES (1, $1, $2)
                 ON CONFLICT (id) DO NOTHING",
                &[&authority.issuer, &&authority.root_public_key[..]],
            )
            .await?;
        if created == 0 {
            return Err(StoreError::Conflict("the store already holds an authority"));
        }
        insert_active_key(&tx, &first_key).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn issuer_keys(&self) -> StoreResult<Vec<StoredIssuerKey>> {
        let client = self.client().await?;
        client
            .query(
                "SELECT public_key, not_before, not_after, revoked_after, active FROM issuer_keys
                 ORDER BY not_before, kid",
                &[],
            )
            .await?
            .iter()
            .map(|r| stored_key(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect()
    }

    async fn rotate_issuer_key(&self, new_key: SigningKey) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "UPDATE issuer_keys SET not_after = least(not_after, $1), active = FALSE
             WHERE active",
            &[&new_key.not_before.timestamp()],
        )
        .await?;
        insert_active_key(&tx, &new_key).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mark_compromised(&self, kid: Kid, revoked_after: DateTime<Utc>) -> StoreResult<bool> {
        let client = self.client().await?;
        Ok(client
            .execute(
                "UPDATE issuer_keys SET revoked_after = least(coalesce(revoked_after, $2), $2),
                     active = FALSE WHERE kid = $1",
                &[&&kid[..], &revoked_after.timestamp()],
            )
            .await?
            == 1)
    }
}

async fn insert_active_key(
    tx: &deadpool_postgres::Transaction<'_>,
    key: &SigningKey,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO issuer_keys (kid, public_key, not_before, not_after, active)
         VALUES ($1, $2, $3, $4, TRUE)",
        &[
            &&key.kid()[..],
            &&key.public_key[..],
            &key.not_before.timestamp(),
            &key.not_after.timestamp(),
        ],
    )
    .await?;
    Ok(())
}
