//! `lunch-rush guessing`: the enrolment peak with and without a code guesser, in one run.
//!
//! Citizens enrol from 127.0.0.3 (the baseline, after a two-second warm-up), then go on for the
//! same time while a guesser with a thousand connections from 127.0.0.2 fetches nonces and sends
//! random codes and birth dates as fast as the service answers, never honouring `Retry-After`;
//! the two alternate in a few rounds so that other load on the machine weighs on both alike.
//! Two loopback source addresses, because the service limits failed attempts per client address
//! and the guesser must not be mistaken for the citizens (nor they for it). Printed: the
//! citizens' enrolments per second in both phases and their ratio, and the guesses the service
//! checked per minute (answered 401, not refused by a limit first).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use vaxpass::enrolment_code::{identity_proof, EnrolmentCode};
use vaxpass::{Ed25519KeyPair, EnrolmentRequest, SoftwareEd25519Signer};

use crate::service::Citizen;

const CITIZENS_FROM: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
const GUESSER_FROM: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const WARM_UP: Duration = Duration::from_secs(2);

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub phase_secs: f64,
    pub clients: usize,
    pub guesser_connections: usize,
    pub baseline_per_sec: f64,
    pub attacked_per_sec: f64,
    pub ratio: f64,
    pub guesses_checked: u64,
    pub guesses_checked_per_minute: f64,
    pub guesser_requests: u64,
    pub guesser_refused_by_limit: u64,
    pub citizen_failures: u64,
}

impl Outcome {
    /// The targets: under 100 checked guesses a minute, at least 90 % of the rate.
    pub fn ok(&self) -> bool {
        self.guesses_checked_per_minute < 100.0 && self.ratio >= 0.9
    }

    pub fn print(&self, json: bool) {
        if json {
            let value = serde_json::json!({
                "phase_secs": self.phase_secs,
                "clients": self.clients,
                "guesser_connections": self.guesser_connections,
                "baseline_per_sec": self.baseline_per_sec,
                "attacked_per_sec": self.attacked_per_sec,
                "ratio": self.ratio,
                "guesses_checked": self.guesses_checked,
                "guesses_checked_per_minute": self.guesses_checked_per_minute,
                "guesser_requests": self.guesser_requests,
                "guesser_refused_by_limit": self.guesser_refused_by_limit,
                "citizen_failures": self.citizen_failures,
                "ok": self.ok(),
            });
            println!("{value}");
            return;
        }
        println!(
            "Enrolment with a code guesser, on loopback ({:.0} s per phase)",
            self.phase_secs
        );
        println!(
            "  citizens ({} connections from {CITIZENS_FROM}), alone    {:>8.0} enrolments/s",
            self.clients, self.baseline_per_sec
        );
        println!(
            "  citizens, beside the guesser                   {:>8.0} enrolments/s  ({:.1} % of alone)",
            self.attacked_per_sec,
            self.ratio * 100.0
        );
        println!(
            "  guesser ({} connections from {GUESSER_FROM})   {:>8.1} guesses checked/min  ({} checked, {} requests, {} refused by a limit)",
            self.guesser_connections,
            self.guesses_checked_per_minute,
            self.guesses_checked,
            self.guesser_requests,
            self.guesser_refused_by_limit
        );
        println!(
            "  citizens refused or failed                     {:>8}",
            self.citizen_failures
        );
        println!(
            "  targets: < 100 guesses/min {}, >= 90 % of the rate {}",
            if self.guesses_checked_per_minute < 100.0 {
                "met"
            } else {
                "MISSED"
            },
            if self.ratio >= 0.9 { "met" } else { "MISSED" }
        );
    }
}

#[derive(Debug, Default)]
struct Counters {
    enrolled: AtomicU64,
    citizen_failures: AtomicU64,
    checked: AtomicU64,
    requests: AtomicU64,
    limited: AtomicU64,
}

pub fn run(
    base: &str,
    citizens: &[Citizen],
    clients: usize,
    guessers: usize,
    phase: Duration,
    rounds: u32,
) -> Result<Outcome, String> {
    let addr: SocketAddr = base
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .ok_or("the service address is not host:port")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // Phones have their keys before the peak.
    let signers: Arc<Vec<SoftwareEd25519Signer>> = Arc::new(
        citizens
            .iter()
            .map(|_| SoftwareEd25519Signer(Ed25519KeyPair::generate()))
            .collect(),
    );
    let proofs: Arc<Vec<Vec<u8>>> =
        Arc::new(citizens.iter().map(Citizen::identity_proof).collect());
    let next = Arc::new(AtomicUsize::new(0));
    runtime.block_on(async move {
        // Warm up (caches, connections), uncounted.
        let warm = Arc::new(Counters::default());
        let warm_up = Instant::now() + WARM_UP;
        citizens_phase(addr, clients, &signers, &proofs, &next, &warm, warm_up).await;

        // Alone and beside the guesser in turns, so that whatever else the machine does weighs
        // on both alike.
        let (baseline, attacked) = (Arc::new(Counters::default()), Arc::new(Counters::default()));
        let (mut baseline_secs, mut attacked_secs) = (0.0, 0.0);
        let slice = phase / rounds.max(1);
        for _ in 0..rounds.max(1) {
            let started = Instant::now();
            citizens_phase(
                addr,
                clients,
                &signers,
                &proofs,
                &next,
                &baseline,
                started + slice,
            )
            .await;
            baseline_secs += started.elapsed().as_secs_f64();

            let started = Instant::now();
            let end = started + slice;
            let guessing: Vec<_> = (0..guessers)
                .map(|_| tokio::spawn(guess(addr, attacked.clone(), end)))
                .collect();
            citizens_phase(addr, clients, &signers, &proofs, &next, &attacked, end).await;
            attacked_secs += started.elapsed().as_secs_f64();
            for task in guessing {
                task.abort(); // mid-request: its connection is dropped
            }
        }
        if next.load(Ordering::Relaxed) >= proofs.len() {
            return Err(format!(
                "the {} citizens ran out before the phases ended: give more with --citizens",
                proofs.len()
            ));
        }
        let baseline_per_sec = baseline.enrolled.load(Ordering::Relaxed) as f64 / baseline_secs;
        let attacked_per_sec = attacked.enrolled.load(Ordering::Relaxed) as f64 / attacked_secs;
        let checked = attacked.checked.load(Ordering::Relaxed);
        Ok(Outcome {
            phase_secs: phase.as_secs_f64(),
            clients,
            guesser_connections: guessers,
            baseline_per_sec,
            attacked_per_sec,
            ratio: attacked_per_sec / baseline_per_sec.max(1e-9),
            guesses_checked: checked,
            guesses_checked_per_minute: checked as f64 * 60.0 / attacked_secs,
            guesser_requests: attacked.requests.load(Ordering::Relaxed),
            guesser_refused_by_limit: attacked.limited.load(Ordering::Relaxed),
            citizen_failures: baseline.citizen_failures.load(Ordering::Relaxed)
                + attacked.citizen_failures.load(Ordering::Relaxed),
        })
    })
}

async fn citizens_phase(
    addr: SocketAddr,
    clients: usize,
    signers: &Arc<Vec<SoftwareEd25519Signer>>,
    proofs: &Arc<Vec<Vec<u8>>>,
    next: &Arc<AtomicUsize>,
    counters: &Arc<Counters>,
    end: Instant,
) {
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (signers, proofs, next, counters) = (
                signers.clone(),
                proofs.clone(),
                next.clone(),
                counters.clone(),
            );
            tokio::spawn(async move {
                let mut conn = Conn::new(CITIZENS_FROM, addr);
                while Instant::now() < end {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let (Some(signer), Some(proof)) = (signers.get(i), proofs.get(i)) else {
                        break;
                    };
                    match enrol_citizen(&mut conn, signer, proof, end).await {
                        Some(true) if Instant::now() < end => {
                            counters.enrolled.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(false) => {
                            counters.citizen_failures.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {} // cut off by the end of the phase
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}

/// Nonce, then the signed request, retrying after 429/503 as the SDK does (Retry-After).
/// `Some(true)` enrolled, `Some(false)` refused or failed, `None` still busy at `end`.
async fn enrol_citizen(
    conn: &mut Conn,
    signer: &SoftwareEd25519Signer,
    proof: &[u8],
    end: Instant,
) -> Option<bool> {
    while Instant::now() < end {
        let Ok(nonce) = conn.post("/v1/enrolment/nonce", &[]).await else {
            return Some(false);
        };
        if nonce.status == 200 {
            let Ok(request) = EnrolmentRequest::create(&nonce.body, proof, signer) else {
                return Some(false);
            };
            match conn.post("/v1/enrolment", &request).await {
                Ok(r) if r.status == 200 => return Some(true),
                Ok(r) if matches!(r.status, 429 | 503) => wait(r.retry_after).await,
                _ => return Some(false),
            }
        } else if matches!(nonce.status, 429 | 503) {
            wait(nonce.retry_after).await;
        } else {
            return Some(false);
        }
    }
    None
}

async fn wait(retry_after: Option<u64>) {
    tokio::time::sleep(Duration::from_secs(retry_after.unwrap_or(1).clamp(1, 5))).await;
}

/// One guesser connection: nonce, random guess, again, until `end`, ignoring Retry-After.
async fn guess(addr: SocketAddr, counters: Arc<Counters>, end: Instant) {
    let signer = SoftwareEd25519Signer(Ed25519KeyPair::generate());
    let mut conn = Conn::new(GUESSER_FROM, addr);
    let born = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let mut n: u64 = 0;
    while Instant::now() < end {
        n += 1;
        counters.requests.fetch_add(1, Ordering::Relaxed);
        let Ok(nonce) = conn.post("/v1/enrolment/nonce", &[]).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if nonce.status != 200 {
            counters
                .limited
                .fetch_add(u64::from(nonce.status == 429), Ordering::Relaxed);
            continue;
        }
        let date = born + chrono::Duration::days((n * 7919 % 20_000) as i64);
        let proof = identity_proof(&EnrolmentCode::generate(), date);
        let Ok(request) = EnrolmentRequest::create(&nonce.body, &proof, &signer) else {
            return;
        };
        counters.requests.fetch_add(1, Ordering::Relaxed);
        match conn.post("/v1/enrolment", &request).await {
            Ok(r) if r.status == 401 && Instant::now() <= end => {
                counters.checked.fetch_add(1, Ordering::Relaxed);
            }
            Ok(r) if r.status == 429 => {
                counters.limited.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Vec<u8>,
}

/// A keep-alive HTTP/1.1 connection from a chosen loopback source address.
struct Conn {
    source: IpAddr,
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn new(source: IpAddr, addr: SocketAddr) -> Self {
        Self {
            source,
            addr,
            stream: None,
        }
    }

    async fn post(&mut self, path: &str, body: &[u8]) -> io::Result<Answer> {
        for attempt in 0..2 {
            if self.stream.is_none() {
                let socket = TcpSocket::new_v4()?;
                socket.bind(SocketAddr::new(self.source, 0))?;
                let stream = socket.connect(self.addr).await?;
                stream.set_nodelay(true)?;
                self.stream = Some(BufReader::new(stream));
            }
            let Some(stream) = self.stream.as_mut() else {
                continue;
            };
            match exchange(stream, self.addr, path, body).await {
                Ok((answer, close)) => {
                    if close {
                        self.stream = None;
                    }
                    return Ok(answer);
                }
                Err(e) => {
                    self.stream = None;
                    if attempt == 1 {
                        return Err(e);
                    }
                }
            }
        }
        Err(io::Error::other("no connection"))
    }
}

async fn exchange(
    stream: &mut BufReader<TcpStream>,
    addr: SocketAddr,
    path: &str,
    body: &[u8],
) -> io::Result<(Answer, bool)> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream.get_mut().write_all(&request).await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other("not an HTTP answer"))?;
    let (mut length, mut retry_after, mut close) = (0usize, None, false);
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Err(io::Error::other("the answer ended early"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().unwrap_or(0),
            "retry-after" => retry_after = value.parse().ok(),
            "connection" => close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    stream.read_exact(&mut body).await?;
    Ok((
        Answer {
            status,
            retry_after,
            body,
        },
        close,
    ))
}
