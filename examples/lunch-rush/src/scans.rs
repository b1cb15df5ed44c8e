//! The outage hour: shops that synced the signed lists before 11:40 verify rotating QR codes with
//! no network. The mix has live codes, screenshots replayed later, revoked passes and forgeries.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use vaxpass::{
    qr_text, Ed25519KeyPair, Presentation, SoftwareEd25519Signer, Verifier, VerifierConfig,
};
use vaxpass::{Backoff, Fetched, HttpResponse, ListKind};

use crate::arrivals::{self, Rng};
use crate::enrol::Enrolled;
use crate::service::Service;

/// The shops, each with its own verifier store.
#[derive(Debug)]
pub struct Shops(Vec<Verifier>);

impl Shops {
    /// Each shop syncs both lists from the service while it is still up.
    pub fn sync(dir: &std::path::Path, service: &Service, count: usize) -> Result<Self, String> {
        let now = Utc::now();
        let rules = service.rules_list(now)?;
        let mut shops = Vec::with_capacity(count);
        for i in 0..count {
            let verifier = Verifier::open(
                dir.join(format!("shop-{i}.sqlite")),
                service.root_key,
                VerifierConfig::default(),
            )
            .map_err(|e| e.to_string())?;
            for kind in [ListKind::Trust, ListKind::Revocation] {
                let (status, etag, body) = service.get(kind.path())?;
                let response = HttpResponse {
                    status,
                    etag: etag.as_deref(),
                    retry_after: None,
                    body: &body,
                };
                match verifier
                    .apply_fetched(kind, response, &mut Backoff::default(), now)
                    .map_err(|e| e.to_string())?
                {
                    Fetched::Applied(_) | Fetched::NotModified => {}
                    Fetched::RetryAfter(_) => {
                        return Err(format!("shop {i}: the list server was busy"))
                    }
                }
            }
            verifier
                .apply_rules_list(&rules, now)
                .map_err(|e| format!("shop {i}: the rules list: {e}"))?;
            shops.push(verifier);
        }
        Ok(Self(shops))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Every shop's verifier.
    pub fn all(&self) -> &[Verifier] {
        &self.0
    }
}

/// What was shown at the doors, and what the shops said.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub scans: usize,
    /// Scans that could not be judged because something needed the network: always 0 here.
    pub network_failures: usize,
    pub live_accepted: usize,
    pub live_refused: usize,
    pub screenshots_refused: usize,
    pub screenshots_accepted: usize,
    pub revoked_refused: usize,
    pub revoked_accepted: usize,
    pub forgeries_refused: usize,
    pub forgeries_accepted: usize,
    /// The busiest second of the hour: what a server-per-display model must serve.
    pub peak_scans_per_second: usize,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Live,
    Screenshot,
    Revoked,
    Forgery,
}

/// Doors scanning at once. Each verdict returns only once its check log entry is on disk, so a
/// door mostly waits for its fsync: like real doors, many wait at once (each shop's store is its
/// own file), and the machine's two cores stay the limit, not the disk's latency.
const DOORS: usize = 16;

/// Runs `count` scans spread over the hour from `outage` (peaking around 12:00), at [`DOORS`]
/// doors at once.
pub fn run(
    shops: &Shops,
    enrolled: &[Enrolled],
    revoked: &[usize],
    count: usize,
    rng: &mut Rng,
    outage: DateTime<Utc>,
    deadline: Instant,
) -> Result<Outcome, String> {
    if enrolled.len() <= revoked.len() {
        return Err("nobody enrolled".into());
    }
    let mut plan = Vec::with_capacity(count);
    let mut fractions = Vec::with_capacity(count);
    for _ in 0..count {
        let at = arrivals::triangular(rng, 0.35);
        fractions.push(at);
        let kind = match rng.below(100) {
            0..=89 => Kind::Live,
            90..=93 => Kind::Screenshot,
            94..=96 if !revoked.is_empty() => Kind::Revoked,
            _ => Kind::Forgery,
        };
        let citizen = match kind {
            Kind::Revoked => revoked[rng.below(revoked.len())],
            _ => loop {
                let i = rng.below(enrolled.len());
                if !revoked.contains(&i) {
                    break i;
                }
            },
        };
        let time = outage + chrono::Duration::milliseconds((at * 3_600_000.0) as i64);
        plan.push((kind, citizen, rng.below(shops.len()), time, rng.next_u64()));
    }
    let started = Instant::now();
    let halves: Vec<Result<Outcome, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .chunks(count.div_ceil(DOORS).max(1))
            .map(|part| scope.spawn(move || judge(shops, enrolled, part, deadline)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a scanning thread panicked".into()))
            })
            .collect()
    });
    let mut outcome = Outcome::default();
    for half in halves {
        let h = half?;
        outcome.scans += h.scans;
        outcome.network_failures += h.network_failures;
        outcome.live_accepted += h.live_accepted;
        outcome.live_refused += h.live_refused;
        outcome.screenshots_refused += h.screenshots_refused;
        outcome.screenshots_accepted += h.screenshots_accepted;
        outcome.revoked_refused += h.revoked_refused;
        outcome.revoked_accepted += h.revoked_accepted;
        outcome.forgeries_refused += h.forgeries_refused;
        outcome.forgeries_accepted += h.forgeries_accepted;
    }
    outcome.elapsed = started.elapsed();
    outcome.peak_scans_per_second = arrivals::peak_per_second(fractions.into_iter(), 3600.0);
    Ok(outcome)
}

fn judge(
    shops: &Shops,
    enrolled: &[Enrolled],
    plan: &[(Kind, usize, usize, DateTime<Utc>, u64)],
    deadline: Instant,
) -> Result<Outcome, String> {
    let mut o = Outcome::default();
    for &(kind, citizen, shop, now, noise) in plan {
        if Instant::now() > deadline {
            return Err("the scans ran out of time".into());
        }
        let phone = &enrolled[citizen];
        let text = match kind {
            Kind::Live | Kind::Revoked => present(phone, now, &phone.signer)?,
            // Shown from a screenshot taken 2 to 30 minutes earlier.
            Kind::Screenshot => present(
                phone,
                now - chrono::Duration::seconds(120 + (noise % 1680) as i64),
                &phone.signer,
            )?,
            // Half: someone else's credential shown from another phone; half: a code edited by hand.
            Kind::Forgery if noise % 2 == 0 => present(
                phone,
                now,
                &SoftwareEd25519Signer(Ed25519KeyPair::generate()),
            )?,
            Kind::Forgery => {
                let mut bytes = vaxpass::base45::decode(&present(phone, now, &phone.signer)?[4..])
                    .map_err(|e| e.to_string())?;
                let i = (noise >> 8) as usize % bytes.len();
                bytes[i] ^= 1 << (noise % 8);
                qr_text::presentation_text(&bytes)
            }
        };
        o.scans += 1;
        let verdict = match shops.0[shop].verify(&text, now) {
            Ok(v) => v,
            Err(_) => {
                o.network_failures += 1;
                continue;
            }
        };
        let valid = verdict.is_valid();
        let counter = match (kind, valid) {
            (Kind::Live, true) => &mut o.live_accepted,
            (Kind::Live, false) => &mut o.live_refused,
            (Kind::Screenshot, false) => &mut o.screenshots_refused,
            (Kind::Screenshot, true) => &mut o.screenshots_accepted,
            (Kind::Revoked, false) => &mut o.revoked_refused,
            (Kind::Revoked, true) => &mut o.revoked_accepted,
            (Kind::Forgery, false) => &mut o.forgeries_refused,
            (Kind::Forgery, true) => &mut o.forgeries_accepted,
        };
        *counter += 1;
    }
    Ok(o)
}

fn present(
    phone: &Enrolled,
    at: DateTime<Utc>,
    signer: &SoftwareEd25519Signer,
) -> Result<String, String> {
    let bytes = Presentation::create(&phone.credential, at, signer).map_err(|e| e.to_string())?;
    Ok(qr_text::presentation_text(&bytes))
}
