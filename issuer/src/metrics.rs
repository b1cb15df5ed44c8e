//! Counters of the enrolment path, served as Prometheus text on `GET /metrics`. They carry the
//! precise cause of each refusal, which the client is never told; no personal data.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::attempts::Attempts;
use crate::identity::RefusalCause;

#[derive(Debug, Default)]
pub struct Metrics {
    pub enrolled: AtomicU64,
    pub proofs_checked: AtomicU64,
    refused_proof: [AtomicU64; RefusalCause::ALL.len()],
    pub refused_nonce: AtomicU64,
    pub identity_unavailable: AtomicU64,
    pub refused_address_limit: AtomicU64,
    pub refused_global_limit: AtomicU64,
}

fn add(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    pub fn count(counter: &AtomicU64) {
        add(counter);
    }

    pub fn refused_proof(&self, cause: RefusalCause) {
        let index = RefusalCause::ALL
            .iter()
            .position(|c| *c == cause)
            .unwrap_or(0);
        add(&self.refused_proof[index]);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, attempts: &Attempts) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, rows: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, value) in rows {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        counter(
            "vaxpass_enrolments_total",
            "Enrolments answered with credentials.",
            &[("", get(&self.enrolled))],
        );
        counter(
            "vaxpass_enrolment_proofs_checked_total",
            "Identity proofs looked at (after a usable nonce and within the limits).",
            &[("", get(&self.proofs_checked))],
        );
        let causes: Vec<(String, u64)> = RefusalCause::ALL
            .iter()
            .zip(&self.refused_proof)
            .map(|(cause, c)| (format!("{{cause=\"{}\"}}", cause.as_str()), get(c)))
            .collect();
        let causes: Vec<(&str, u64)> = causes.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        counter(
            "vaxpass_enrolment_proofs_refused_total",
            "Identity proofs refused, by cause (the client gets one answer for all).",
            &causes,
        );
        counter(
            "vaxpass_enrolment_nonce_refused_total",
            "Enrolments whose nonce was unknown, expired or used; their proof was not looked at.",
            &[("", get(&self.refused_nonce))],
        );
        counter(
            "vaxpass_enrolment_identity_unavailable_total",
            "Enrolments answered 503 because the identity provider could not be asked.",
            &[("", get(&self.identity_unavailable))],
        );
        counter(
            "vaxpass_enrolment_limited_total",
            "Requests refused by the failed-attempt limits before any proof was looked at.",
            &[
                ("{limit=\"address\"}", get(&self.refused_address_limit)),
                ("{limit=\"global\"}", get(&self.refused_global_limit)),
            ],
        );
        counter(
            "vaxpass_enrolment_limit_trips_total",
            "Times a failed-attempt limit ran out.",
            &[
                ("{limit=\"address\"}", get(&attempts.address_trips)),
                ("{limit=\"global\"}", get(&attempts.global_trips)),
            ],
        );
        out
    }
}
