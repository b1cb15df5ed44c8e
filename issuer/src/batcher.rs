//! Group commit. Handlers hand their work (a nonce to record, a nonce to burn after a refused
//! attempt, or a checked enrolment with the citizen's passes) to one batcher task through a bounded channel. The batcher takes up to
//! `max_items`, waiting at most `max_delay` after the first, signs all credentials of the batch
//! with one call to the vault (`ServiceAuthority::sign`), records the whole batch in one store transaction (one
//! fsync), and only then answers each waiting handler: acknowledged means durable.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use vaxpass::{DevicePublicKey, IssueRequest, PassData};

use crate::authority::ServiceAuthority;

use crate::metrics::BatchMetrics;
use crate::store::{Batch, CitizenId, CodeHash, DeviceHash, Enrolment, Refusal, Store, StoreError};

/// How often nonces that expired unused are deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct BatchConfig {
    pub max_items: usize,
    pub max_delay: Duration,
    /// Jobs that may wait for the batcher; past it, submitting fails at once.
    pub queue: usize,
    pub credential_validity: chrono::Duration,
    /// Where batch sizes and commit latencies are recorded.
    pub metrics: BatchMetrics,
}

/// An enrolment ready to sign: request parsed, proof of possession and identity checked.
#[derive(Debug)]
pub struct EnrolJob {
    pub nonce: Vec<u8>,
    pub citizen: CitizenId,
    pub code: Option<CodeHash>,
    pub device: DeviceHash,
    pub device_key: DevicePublicKey,
    pub passes: Vec<PassData>,
}

/// Why a job got no result. Nothing was recorded for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Refused(Refusal),
    /// The channel to the batcher is full.
    QueueFull,
    ShuttingDown,
    /// The authority could not sign (e.g. no valid issuer key).
    Signing,
    /// The store failed; the whole batch was rolled back.
    Store,
}

#[derive(Debug)]
enum Job {
    Nonce {
        nonce: Vec<u8>,
        expires: DateTime<Utc>,
        reply: oneshot::Sender<Result<(), Failure>>,
    },
    Burn {
        nonce: Vec<u8>,
        reply: oneshot::Sender<Result<(), Failure>>,
    },
    Enrol {
        job: Box<EnrolJob>,
        reply: oneshot::Sender<Result<Vec<Vec<u8>>, Failure>>,
    },
}

impl Job {
    /// The handler gave up (its client went away): skip the job, record nothing.
    fn abandoned(&self) -> bool {
        match self {
            Job::Nonce { reply, .. } | Job::Burn { reply, .. } => reply.is_closed(),
            Job::Enrol { reply, .. } => reply.is_closed(),
        }
    }
}

/// The handlers' side of the batcher. Dropping every clone stops the batcher once it has
/// finished what was queued.
#[derive(Debug, Clone)]
pub struct Batcher {
    tx: mpsc::Sender<Job>,
}

impl Batcher {
    pub fn start(
        store: Arc<dyn Store>,
        authority: Arc<ServiceAuthority>,
        config: BatchConfig,
    ) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let task = tokio::spawn(run(rx, store, authority, config));
        (Self { tx }, task)
    }

    /// Records a nonce handed out; returns once it is committed.
    pub async fn new_nonce(&self, nonce: Vec<u8>, expires: DateTime<Utc>) -> Result<(), Failure> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Nonce {
            nonce,
            expires,
            reply,
        })?;
        answer.await.unwrap_or(Err(Failure::ShuttingDown))
    }

    /// Uses up the nonce of a refused attempt; returns once that is committed.
    pub async fn burn_nonce(&self, nonce: Vec<u8>) -> Result<(), Failure> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Burn { nonce, reply })?;
        answer.await.unwrap_or(Err(Failure::ShuttingDown))
    }

    /// Signs and records an enrolment; returns its credentials once they are committed.
    pub async fn enrol(&self, job: EnrolJob) -> Result<Vec<Vec<u8>>, Failure> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Enrol {
            job: Box::new(job),
            reply,
        })?;
        answer.await.unwrap_or(Err(Failure::ShuttingDown))
    }

    /// Jobs waiting for the batcher.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Whether the batcher task still takes jobs (it ends only on shutdown or a panic).
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    fn submit(&self, job: Job) -> Result<(), Failure> {
        self.tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => Failure::QueueFull,
            TrySendError::Closed(_) => Failure::ShuttingDown,
        })
    }
}

async fn run(
    mut rx: mpsc::Receiver<Job>,
    store: Arc<dyn Store>,
    authority: Arc<ServiceAuthority>,
    config: BatchConfig,
) {
    let max = config.max_items.max(1);
    let mut next_sweep = Instant::now() + SWEEP_EVERY;
    let mut jobs = Vec::with_capacity(max);
    loop {
        tokio::select! {
            received = rx.recv_many(&mut jobs, max) => if received == 0 { break },
            () = tokio::time::sleep_until(next_sweep) => {}
        }
        if !jobs.is_empty() && jobs.len() < max && !config.max_delay.is_zero() {
            let deadline = Instant::now() + config.max_delay;
            while jobs.len() < max {
                let room = max - jobs.len();
                match tokio::time::timeout_at(deadline, rx.recv_many(&mut jobs, room)).await {
                    Ok(received) if received > 0 => {}
                    _ => break,
                }
            }
        }
        if !jobs.is_empty() {
            process(&store, &authority, &config, std::mem::take(&mut jobs)).await;
        }
        if Instant::now() >= next_sweep {
            if let Err(e) = store.sweep_nonces(Utc::now()).await {
                tracing::warn!(error = %e, "sweeping expired nonces failed");
            }
            next_sweep = Instant::now() + SWEEP_EVERY;
        }
    }
}

type EnrolReply = oneshot::Sender<Result<Vec<Vec<u8>>, Failure>>;

async fn process(
    store: &Arc<dyn Store>,
    authority: &Arc<ServiceAuthority>,
    config: &BatchConfig,
    jobs: Vec<Job>,
) {
    // Whole seconds, and nbf = iat, so the credential carries no separate nbf (docs/format.md).
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_default();
    let expires = now + config.credential_validity;
    let mut new_nonces = Vec::new();
    let mut burned_nonces = Vec::new();
    let mut nonce_replies = Vec::new();
    let mut enrolments = Vec::new();
    let mut requests = Vec::new();
    for job in jobs {
        if job.abandoned() {
            continue;
        }
        match job {
            Job::Nonce {
                nonce,
                expires,
                reply,
            } => {
                new_nonces.push((nonce, expires));
                nonce_replies.push(reply);
            }
            Job::Burn { nonce, reply } => {
                burned_nonces.push(nonce);
                nonce_replies.push(reply);
            }
            Job::Enrol { job, reply } => {
                let count = job.passes.len();
                for pass in job.passes {
                    requests.push(IssueRequest {
                        pass,
                        device_key: job.device_key.clone(),
                        not_before: now,
                        expires,
                    });
                }
                let meta = (job.nonce, job.citizen, job.code, job.device);
                enrolments.push((meta, count, reply));
            }
        }
    }

    // Sign the whole batch at once, off the async workers.
    let signer = authority.clone();
    let signed = tokio::task::spawn_blocking(move || {
        let signed = signer.sign_recorded(&requests, now);
        (requests, signed)
    })
    .await;
    let (requests, signed) = match signed {
        Ok((requests, Ok(signed))) => (requests, signed),
        Ok((_, Err(e))) => {
            tracing::error!(error = %e, "signing a batch failed");
            fail_all(take_replies(&mut enrolments), Failure::Signing);
            (Vec::new(), Vec::new())
        }
        Err(_) => {
            fail_all(take_replies(&mut enrolments), Failure::Signing);
            (Vec::new(), Vec::new())
        }
    };

    let mut pairs = requests.into_iter().zip(signed);
    let mut batch = Batch {
        now,
        new_nonces,
        burned_nonces,
        enrolments: Vec::new(),
    };
    let mut enrol_replies: Vec<EnrolReply> = Vec::new();
    for ((nonce, citizen, code, device), count, reply) in enrolments {
        let mut credentials = Vec::with_capacity(count);
        let mut failed = false;
        for (request, result) in pairs.by_ref().take(count) {
            match result {
                Ok(signed) => credentials.push((request, signed)),
                Err(_) => failed = true,
            }
        }
        if failed || credentials.len() != count {
            let _ = reply.send(Err(Failure::Signing));
            continue;
        }
        batch.enrolments.push(Enrolment {
            nonce,
            citizen,
            code,
            device,
            credentials,
        });
        enrol_replies.push(reply);
    }
    if batch.new_nonces.is_empty() && batch.burned_nonces.is_empty() && batch.enrolments.is_empty()
    {
        return;
    }

    let resign = authority.resigner(now);
    let items = batch.new_nonces.len() + batch.burned_nonces.len() + batch.enrolments.len();
    let started = std::time::Instant::now();
    let recorded = store.record_batch(batch, resign).await;
    let latency = started.elapsed();
    config.metrics.observe(items, latency);
    tracing::debug!(
        batch_size = items,
        latency_ms = latency.as_secs_f64() * 1e3,
        ok = recorded.is_ok(),
        "group commit"
    );
    match recorded {
        Ok(outcomes) => {
            for reply in nonce_replies {
                let _ = reply.send(Ok(()));
            }
            for (reply, outcome) in enrol_replies.into_iter().zip(outcomes) {
                let _ = reply.send(outcome.map_err(Failure::Refused));
            }
        }
        Err(StoreError::KeyRetired) => {
            // Another replica rotated or marked the key: nothing was kept, every nonce is still
            // usable, and the next batch signs with the key the store holds now.
            eprintln!("vaxpass-issuer: the issuer key changed under a batch; reloading it");
            if let Err(e) = authority.reload_keys().await {
                eprintln!("vaxpass-issuer: reloading the issuer keys failed: {e}");
            }
            fail_all(nonce_replies, Failure::Signing);
            fail_all(enrol_replies, Failure::Signing);
        }
        Err(e) => {
            tracing::error!(error = %e, "recording a batch failed, nothing of it was kept");
            fail_all(nonce_replies, Failure::Store);
            fail_all(enrol_replies, Failure::Store);
        }
    }
}

fn take_replies<M>(enrolments: &mut Vec<(M, usize, EnrolReply)>) -> Vec<EnrolReply> {
    std::mem::take(enrolments)
        .into_iter()
        .map(|(_, _, reply)| reply)
        .collect()
}

fn fail_all<T>(replies: impl IntoIterator<Item = oneshot::Sender<Result<T, Failure>>>, f: Failure) {
    for reply in replies {
        let _ = reply.send(Err(f));
    }
}
