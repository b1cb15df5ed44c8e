//! What the service counts and measures, served on `GET /metrics` in the Prometheus text format
//! (version 0.0.4) through the `prometheus-client` crate. The counters carry the precise cause of
//! each refusal, which the client is never told; no label carries personal data or client input
//! (every label value is one of a fixed set, so the series are bounded too).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::identity::RefusalCause;
use crate::store::ListKind;

/// A set of labels, each value one of a fixed set.
type Labels<const N: usize> = [(&'static str, &'static str); N];

/// The error codes answered with 429 or 503, present in the metrics from the start.
const OVERLOAD_ERRORS: [(u16, &str); 8] = [
    (429, "overloaded"),
    (429, "too_many_failed_attempts"),
    (503, "queue_full"),
    (503, "store_unavailable"),
    (503, "issuer_unavailable"),
    (503, "identity_unavailable"),
    (503, "shutting_down"),
    (503, "not_published"),
];

/// The service's metrics. Counters are cheap to bump from any task.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub enrolled: Counter,
    pub proofs_checked: Counter,
    refused_proof: Family<Labels<1>, Counter>,
    pub refused_nonce: Counter,
    /// Enrolments answered 503 because the identity provider could not be asked.
    pub identity_unavailable: Counter,
    pub refused_address_limit: Counter,
    pub refused_global_limit: Counter,
    /// Times a failed-attempt limit ran out; [`crate::attempts::Attempts`] counts into these.
    pub trips: LimitCounters,
    errors: Family<Labels<2>, Counter>,
    /// Items (nonces, burns, enrolments) in each group commit.
    batch_items: Histogram,
    /// How long the store took to record one group commit.
    commit_seconds: Histogram,
    queued: Gauge,
    in_flight: Gauge,
    concurrency_limit: Gauge,
    list_age: Family<Labels<1>, Gauge<f64, AtomicU64>>,
    list_valid_for: Family<Labels<1>, Gauge<f64, AtomicU64>>,
    list_sequence: Family<Labels<1>, Gauge>,
}

/// What the gauges show, read when `/metrics` is asked.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub queued: usize,
    pub in_flight: usize,
    pub concurrency_limit: usize,
    pub lists: Vec<ListSnapshot>,
}

/// One published list as served.
#[derive(Debug, Clone)]
pub struct ListSnapshot {
    pub kind: ListKind,
    pub sequence: u64,
    /// Seconds since the list was issued.
    pub age: f64,
    /// Seconds until its next-update time (negative once past it).
    pub valid_for: f64,
}

fn as_i64(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// A counter per failed-attempt limit, sharing the series of one labelled family.
#[derive(Debug, Clone, Default)]
pub struct LimitCounters {
    pub address: Counter,
    pub global: Counter,
}

impl LimitCounters {
    fn of(family: &Family<Labels<1>, Counter>) -> Self {
        let get = |limit| family.get_or_create(&[("limit", limit)]).clone();
        Self {
            address: get("address"),
            global: get("global"),
        }
    }
}

/// The batcher's share of the metrics.
#[derive(Debug, Clone, Default)]
pub struct BatchMetrics {
    items: Option<(Histogram, Histogram)>,
}

impl BatchMetrics {
    /// Records one group commit of `items` items that took `latency` in the store.
    pub fn observe(&self, items: usize, latency: std::time::Duration) {
        if let Some((sizes, latencies)) = &self.items {
            sizes.observe(items as f64);
            latencies.observe(latency.as_secs_f64());
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let refused_proof = Family::default();
        // Every cause and every overload answer is a series from the start, at 0, so that a
        // rate() over them works before the first occurrence.
        for cause in RefusalCause::ALL {
            let _ = refused_proof.get_or_create(&[("cause", cause.as_str())]);
        }
        let errors = Family::default();
        for (status, error) in OVERLOAD_ERRORS {
            let _ = errors.get_or_create(&[("status", status_label(status)), ("error", error)]);
        }
        let limited = Family::default();
        let trip_family = Family::default();
        let refused = LimitCounters::of(&limited);
        let mut metrics = Self {
            registry: Registry::default(),
            enrolled: Counter::default(),
            proofs_checked: Counter::default(),
            refused_proof,
            refused_nonce: Counter::default(),
            identity_unavailable: Counter::default(),
            refused_address_limit: refused.address,
            refused_global_limit: refused.global,
            trips: LimitCounters::of(&trip_family),
            errors,
            // 1, 2, 4 … 2048 items.
            batch_items: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            // 0.25 ms … about 4 s.
            commit_seconds: Histogram::new(exponential_buckets(0.000_25, 2.0, 15)),
            queued: Gauge::default(),
            in_flight: Gauge::default(),
            concurrency_limit: Gauge::default(),
            list_age: Family::default(),
            list_valid_for: Family::default(),
            list_sequence: Family::default(),
        };
        let r = &mut metrics.registry;
        r.register(
            "vaxpass_enrolments",
            "Enrolments answered with credentials",
            metrics.enrolled.clone(),
        );
        r.register(
            "vaxpass_enrolment_proofs_checked",
            "Identity proofs looked at (after a usable nonce and within the limits)",
            metrics.proofs_checked.clone(),
        );
        r.register(
            "vaxpass_enrolment_proofs_refused",
            "Identity proofs refused, by cause (the client gets one answer for all)",
            metrics.refused_proof.clone(),
        );
        r.register(
            "vaxpass_enrolment_nonce_refused",
            "Enrolments whose nonce was unknown, expired or used; their proof was not looked at",
            metrics.refused_nonce.clone(),
        );
        r.register(
            "vaxpass_enrolment_identity_unavailable",
            "Enrolments answered 503 because the identity provider could not be asked",
            metrics.identity_unavailable.clone(),
        );
        r.register(
            "vaxpass_enrolment_limited",
            "Requests refused by the failed-attempt limits before any proof was looked at",
            limited,
        );
        r.register(
            "vaxpass_enrolment_limit_trips",
            "Times a failed-attempt limit ran out",
            trip_family,
        );
        r.register(
            "vaxpass_http_errors",
            "Error answers by status and error code (429 and 503 ones present from the start)",
            metrics.errors.clone(),
        );
        r.register(
            "vaxpass_batch_items",
            "Items (nonces recorded or burned, enrolments) in one group commit",
            metrics.batch_items.clone(),
        );
        r.register(
            "vaxpass_batch_commit_seconds",
            "Time the store took to record one group commit (one transaction)",
            metrics.commit_seconds.clone(),
        );
        r.register(
            "vaxpass_batch_queue_depth",
            "Items waiting for the batcher",
            metrics.queued.clone(),
        );
        r.register(
            "vaxpass_enrolment_in_flight",
            "Enrolment requests holding a slot of the concurrency limit",
            metrics.in_flight.clone(),
        );
        r.register(
            "vaxpass_enrolment_concurrency_limit",
            "The concurrency limit of enrolment requests",
            metrics.concurrency_limit.clone(),
        );
        r.register(
            "vaxpass_list_age_seconds",
            "Seconds since the served list was issued, by list kind",
            metrics.list_age.clone(),
        );
        r.register(
            "vaxpass_list_valid_for_seconds",
            "Seconds until the served list's next-update time (negative once past it)",
            metrics.list_valid_for.clone(),
        );
        r.register(
            "vaxpass_list_sequence",
            "Sequence number of the served list, by list kind",
            metrics.list_sequence.clone(),
        );
        metrics
    }

    /// The histograms the batcher fills.
    pub fn batch(&self) -> BatchMetrics {
        BatchMetrics {
            items: Some((self.batch_items.clone(), self.commit_seconds.clone())),
        }
    }

    pub fn count(counter: &Counter) {
        counter.inc();
    }

    pub fn refused_proof(&self, cause: RefusalCause) {
        self.refused_proof
            .get_or_create(&[("cause", cause.as_str())])
            .inc();
    }

    /// Counts an error answer. `code` is one of the service's fixed error codes.
    pub fn error(&self, status: u16, code: &'static str) {
        self.errors
            .get_or_create(&[("status", status_label(status)), ("error", code)])
            .inc();
    }

    /// The Prometheus text exposition, gauges set from `now`.
    pub fn render(&self, now: &Snapshot) -> String {
        self.queued.set(as_i64(now.queued));
        self.in_flight.set(as_i64(now.in_flight));
        self.concurrency_limit.set(as_i64(now.concurrency_limit));
        for list in &now.lists {
            let kind = [("kind", list.kind.as_str())];
            self.list_age.get_or_create(&kind).set(list.age);
            self.list_valid_for.get_or_create(&kind).set(list.valid_for);
            self.list_sequence
                .get_or_create(&kind)
                .set(as_i64(list.sequence));
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// The status label: only the codes the service answers, as static text.
fn status_label(status: u16) -> &'static str {
    match status {
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        413 => "413",
        429 => "429",
        500 => "500",
        503 => "503",
        _ => "other",
    }
}
