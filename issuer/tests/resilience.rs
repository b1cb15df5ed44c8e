//! Overload and crashes: past the concurrency limit requests get 429 at once, a full batcher queue
//! gives 503, SIGTERM drains and exits cleanly, and SIGKILL loses no acknowledged issuance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{bundle_ids, try_request, Env, Server};
use vaxpass::{CredentialId, Ed25519KeyPair, EnrolmentRequest, SoftwareEd25519Signer};

on_both_backends!(
    slow_uploads_hold_no_slot_that_legitimate_enrolments_need,
    sigkill_loses_no_acknowledged_issuance,
    sigterm_drains_and_exits
);

/// Fires `n` nonce requests at once; returns (status, Retry-After, seconds taken) of each.
fn burst(server: &Server, n: usize) -> Vec<(u16, Option<u32>, f64)> {
    let barrier = Arc::new(Barrier::new(n));
    let addr = server.addr;
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                let started = Instant::now();
                let reply = try_request(addr, "POST", "/v1/enrolment/nonce", &[], &[]).unwrap();
                let retry = reply.header("retry-after").map(|v| v.parse().unwrap());
                (reply.status, retry, started.elapsed().as_secs_f64())
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn past_the_concurrency_limit_429_comes_at_once() {
    let env = Env::new(common::Backend::Sqlite).unwrap();
    env.init_with_citizens(&[]);
    // One slot, and each admitted request holds it for a full second (the batch delay).
    let server = env.start(&[
        "--concurrency",
        "1",
        "--batch-size",
        "100",
        "--batch-delay-ms",
        "1000",
    ]);
    let results = burst(&server, 24);
    let ok = results.iter().filter(|r| r.0 == 200).count();
    let refused: Vec<_> = results.iter().filter(|r| r.0 == 429).collect();
    assert!(ok >= 1, "{results:?}");
    assert!(refused.len() >= 10, "{results:?}");
    assert_eq!(ok + refused.len(), results.len(), "{results:?}");
    for (_, retry, seconds) in &refused {
        let retry = retry.expect("429 carries Retry-After");
        assert!((1..=5).contains(&retry), "{retry}");
        // The admitted request holds the only slot for 1 s: a 429 must not wait for it.
        assert!(*seconds < 0.8, "a 429 waited {seconds}s");
    }
    // Refusals leave nothing behind; the admitted ones were recorded.
    assert_eq!(env.counts().nonces, ok as u64);
    assert_eq!(server.get("/healthz", &[]).status, 200);
}

#[test]
fn a_full_batcher_queue_gives_503() {
    let env = Env::new(common::Backend::Sqlite).unwrap();
    env.init_with_citizens(&[]);
    let server = env.start(&[
        "--concurrency",
        "1000",
        "--queue",
        "1",
        "--batch-size",
        "2",
        "--batch-delay-ms",
        "1000",
    ]);
    let results = burst(&server, 24);
    let full: Vec<_> = results.iter().filter(|r| r.0 == 503).collect();
    assert!(!full.is_empty(), "{results:?}");
    for (_, retry, seconds) in &full {
        assert!((1..=5).contains(&retry.expect("503 carries Retry-After")));
        assert!(*seconds < 0.8, "a 503 waited {seconds}s");
    }
    let ok = results.iter().filter(|r| r.0 == 200).count();
    assert_eq!(ok + full.len(), results.len(), "{results:?}");
    assert_eq!(env.counts().nonces, ok as u64);
}

/// Seeds `n` citizens by CSV import; returns their codes.
fn seed(env: &Env, n: usize) -> Vec<String> {
    let codes: Vec<String> = (0..n as u64).map(common::code).collect();
    let mut csv = String::from("code,name,birth_date,events\n");
    for (i, code) in codes.iter().enumerate() {
        csv.push_str(&format!(
            "{code},\"Citizen {i}\",1980-01-01,{};{}\n",
            common::dose(1, 60),
            common::dose(2, 30)
        ));
    }
    let file = env.dir.path().join("citizens.csv");
    std::fs::write(&file, csv).unwrap();
    env.cli_ok(&["init"]);
    env.cli_ok(&["registry", "import", file.to_str().unwrap()]);
    codes
}

/// Enrols `codes` one after another from several threads until the server stops answering or
/// `stop` is set; returns the credential ids the server acknowledged.
fn drive(
    server: &Server,
    codes: Vec<String>,
    threads: usize,
    stop: Arc<AtomicBool>,
) -> (Arc<Mutex<Vec<CredentialId>>>, Vec<thread::JoinHandle<()>>) {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let codes = Arc::new(codes);
    let handles = (0..threads)
        .map(|t| {
            let (acked, codes, stop, addr) =
                (acked.clone(), codes.clone(), stop.clone(), server.addr);
            thread::spawn(move || {
                for code in codes.iter().skip(t).step_by(threads) {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let Ok(nonce) = try_request(addr, "POST", "/v1/enrolment/nonce", &[], &[])
                    else {
                        return;
                    };
                    if nonce.status != 200 {
                        continue;
                    }
                    let signer = SoftwareEd25519Signer(Ed25519KeyPair::generate());
                    let proof = common::proof(code, "1980-01-01");
                    let body = EnrolmentRequest::create(&nonce.body, &proof, &signer).unwrap();
                    let Ok(reply) = try_request(addr, "POST", "/v1/enrolment", &[], &body) else {
                        return;
                    };
                    if reply.status == 200 {
                        acked.lock().unwrap().extend(bundle_ids(&reply.body));
                    }
                }
            })
        })
        .collect();
    (acked, handles)
}

fn sigkill_loses_no_acknowledged_issuance(env: &Env) {
    let codes = seed(env, 400);
    let mut server = env.start(&[]);
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, threads) = drive(&server, codes, 8, stop.clone());
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 60 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    // SIGKILL in the middle of the traffic.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 60, "only {} acknowledged", acked.len());
    let missing = env.missing_from_audit(&acked);
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged credentials are not in the audit log",
        missing.len(),
        acked.len()
    );
    let counts = env.counts();
    assert!(counts.issued >= acked.len() as u64);
    eprintln!(
        "SIGKILL: {} acknowledged, {} recorded, all acknowledged present",
        acked.len(),
        counts.issued
    );
    // The store reopens and the service starts again on it.
    let again = env.start(&[]);
    assert_eq!(again.get("/healthz", &[]).status, 200);
}

fn sigterm_drains_and_exits(env: &Env) {
    let codes = seed(env, 200);
    let server = env.start(&[]);
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, threads) = drive(&server, codes, 4, stop.clone());
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 20 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(env.missing_from_audit(&acked).is_empty());
}

fn slow_uploads_hold_no_slot_that_legitimate_enrolments_need(env: &Env) {
    let codes = seed(env, 10);
    let server = env.start(&["--concurrency", "8"]);
    // Three times the concurrency limit in clients that send an enrolment body one byte every
    // 200 ms, as long as the legitimate clients below need.
    let stop = Arc::new(AtomicBool::new(false));
    let trickling: Vec<_> = (0..24)
        .map(|_| {
            let (stop, addr) = (stop.clone(), server.addr);
            thread::spawn(move || {
                let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
                    return;
                };
                let head = format!(
                    "POST /v1/enrolment HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 400\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(8) {
                    if stream.write_all(&[0xa4]).is_err() {
                        return;
                    }
                    thread::sleep(Duration::from_millis(200));
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(500));

    // Every citizen gets a nonce and enrols at the first try.
    for code in &codes {
        let nonce = server.post("/v1/enrolment/nonce", &[], &[]);
        assert_eq!(nonce.status, 200, "nonce: {}", nonce.text());
        let signer = SoftwareEd25519Signer(Ed25519KeyPair::generate());
        let proof = common::proof(code, "1980-01-01");
        let body = EnrolmentRequest::create(&nonce.body, &proof, &signer).unwrap();
        let reply = server.post("/v1/enrolment", &[], &body);
        assert_eq!(reply.status, 200, "enrolment: {}", reply.text());
    }
    stop.store(true, Ordering::Relaxed);
    for t in trickling {
        t.join().unwrap();
    }
}
