//! The enrolment peak: citizens arrive on the lunch curve, each on a phone with its own device key,
//! and enrol as the SDK's clients do — nonce, signed request, bundle — retrying after 429/503 with
//! the server's Retry-After and jittered backoff.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use vaxpass::enrolment::decode_issued;
use vaxpass::Backoff;
use vaxpass::{Credential, Ed25519KeyPair, EnrolmentRequest, SoftwareEd25519Signer};

use crate::service::{reply, Citizen, Reply, Service};

/// A phone that holds its pass.
#[derive(Debug)]
pub struct Enrolled {
    pub signer: SoftwareEd25519Signer,
    pub credential: Credential,
}

/// How the peak went.
#[derive(Debug, Default)]
pub struct Enrolment {
    pub enrolled: Vec<Enrolled>,
    pub elapsed: Duration,
    /// Round trip of each successful `POST /v1/enrolment` (the durable group commit included).
    pub latencies: Vec<Duration>,
    /// 429 and 503 answers received.
    pub busy_answers: u64,
    /// How long each 429/503 took to arrive: overload must be refused fast.
    pub busy_latencies: Vec<Duration>,
    /// Citizens who were told to come back at least once.
    pub turned_away: usize,
    /// Citizens who never enrolled, with why.
    pub failures: Vec<String>,
}

const MAX_ATTEMPTS: u32 = 40;

/// A phone and the bundle the service answered it with.
type Answered = (SoftwareEd25519Signer, Vec<u8>);

pub fn run(
    service: &Service,
    citizens: &[Citizen],
    schedule: &[Duration],
    clients: usize,
    deadline: Instant,
) -> Result<Enrolment, String> {
    // Phones have their device keys long before the peak: generate them outside the timed part.
    let signers: Vec<SoftwareEd25519Signer> = citizens
        .iter()
        .map(|_| SoftwareEd25519Signer(Ed25519KeyPair::generate()))
        .collect();
    let next = AtomicUsize::new(0);
    let busy = AtomicU64::new(0);
    let results = Mutex::new(Enrolment::default());
    // Bundles are kept as received and parsed after the clock stops, as a phone would at leisure.
    let answers: Mutex<Vec<Answered>> = Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..clients.min(citizens.len()).max(1) {
            scope.spawn(|| {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(30))
                    .build();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= citizens.len() || Instant::now() > deadline {
                        break;
                    }
                    if let Some(wait) = (start + schedule[i]).checked_duration_since(Instant::now())
                    {
                        std::thread::sleep(wait);
                    }
                    let mut busy_latencies = Vec::new();
                    // Citizens are spread over the replicas, as a load balancer would.
                    let bases = service.bases();
                    let outcome = enrol_one(
                        &agent,
                        &bases[i % bases.len()],
                        &citizens[i],
                        signers[i].clone(),
                        &busy,
                        &mut busy_latencies,
                        deadline,
                    );
                    let mut results = results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    results.busy_latencies.extend(busy_latencies);
                    match outcome {
                        Ok((answered, latency, was_busy)) => {
                            answers
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push(answered);
                            results.latencies.push(latency);
                            results.turned_away += usize::from(was_busy);
                        }
                        Err(why) => results.failures.push(why),
                    }
                }
            });
        }
    });
    let mut results = results
        .into_inner()
        .map_err(|_| "an enrolment client panicked".to_owned())?;
    results.elapsed = start.elapsed();
    for (signer, bundle) in answers
        .into_inner()
        .map_err(|_| "an enrolment client panicked".to_owned())?
    {
        match decode_issued(&bundle)
            .ok()
            .and_then(|c| c.into_iter().next())
            .and_then(|b| Credential::from_bytes(&b).ok())
        {
            Some(credential) => results.enrolled.push(Enrolled { signer, credential }),
            None => results.failures.push("the bundle did not parse".into()),
        }
    }
    results.busy_answers = busy.load(Ordering::Relaxed);
    Ok(results)
}

/// One citizen's enrolment. Returns the phone, the enrolment round trip, and whether they were
/// turned away (429/503) on the way.
fn enrol_one(
    agent: &ureq::Agent,
    base: &str,
    citizen: &Citizen,
    signer: SoftwareEd25519Signer,
    busy: &AtomicU64,
    busy_latencies: &mut Vec<Duration>,
    deadline: Instant,
) -> Result<(Answered, Duration, bool), String> {
    let mut backoff = Backoff::default();
    let mut was_busy = false;
    let post = |path: &str, body: &[u8]| -> Result<Reply, String> {
        let sent = agent
            .post(&format!("{base}{path}"))
            .set("Content-Type", "application/octet-stream")
            .send_bytes(body);
        reply(sent, "Retry-After", 1 << 20).map_err(|e| format!("{path}: {e}"))
    };
    for _ in 0..MAX_ATTEMPTS {
        if Instant::now() > deadline {
            break;
        }
        let asked = Instant::now();
        let (status, retry, nonce) = post("/v1/enrolment/nonce", &[])?;
        if matches!(status, 429 | 503) {
            busy_latencies.push(asked.elapsed());
        }
        if status == 200 {
            let request = EnrolmentRequest::create(&nonce, &citizen.identity_proof(), &signer)
                .map_err(|e| e.to_string())?;
            let sent = Instant::now();
            let (status, retry_enrol, body) = post("/v1/enrolment", &request)?;
            if status == 200 {
                let latency = sent.elapsed();
                return Ok(((signer, body), latency, was_busy));
            }
            if !matches!(status, 429 | 503) {
                return Err(format!(
                    "enrolment refused: HTTP {status} {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            wait_busy(&mut backoff, retry_enrol, busy, &mut was_busy);
        } else if matches!(status, 429 | 503) {
            wait_busy(&mut backoff, retry, busy, &mut was_busy);
        } else {
            return Err(format!("nonce refused: HTTP {status}"));
        }
    }
    Err(format!("still busy after {MAX_ATTEMPTS} attempts"))
}

fn wait_busy(
    backoff: &mut Backoff,
    retry_after: Option<String>,
    busy: &AtomicU64,
    was_busy: &mut bool,
) {
    busy.fetch_add(1, Ordering::Relaxed);
    *was_busy = true;
    std::thread::sleep(
        backoff
            .after_refusal(retry_after.as_deref(), chrono::Utc::now())
            .to_std()
            .unwrap_or_default(),
    );
}
