//! Liveness, readiness and metrics. `GET /livez`: the process answers (restart it if not).
//! `GET /readyz`: it can do its work now (send it traffic only if so): the store answers a cheap
//! query in time, an issuer key is valid, both lists are published, verify and are within their
//! validity, and the batcher runs; otherwise 503 with the reasons as short codes. `GET /healthz`
//! is the older liveness answer with a few details, kept for the clients that use it.

use std::time::Duration;

use chrono::Utc;
use hyper::StatusCode;

use super::{bytes_response, json, AppState, Resp};
use crate::metrics::{ListSnapshot, Snapshot};
use crate::store::ListKind;

/// How long the store may take to answer the readiness query.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn livez() -> Resp {
    bytes_response("text/plain; charset=utf-8", "ok\n")
}

pub fn healthz(state: &AppState) -> Resp {
    let body = serde_json::json!({
        "status": "ok",
        "store": state.store.backend(),
        "in_flight": state.limiter.in_flight(),
        "limit": state.limiter.limit(),
    });
    json(StatusCode::OK, &body)
}

/// Why the service is not ready, as the short codes `/readyz` answers.
pub async fn unready_reasons(state: &AppState) -> Vec<&'static str> {
    let mut reasons = Vec::new();
    match tokio::time::timeout(STORE_TIMEOUT, state.store.published_heads()).await {
        Ok(Ok(_)) => {}
        Ok(Err(_)) => reasons.push("store_unavailable"),
        Err(_) => reasons.push("store_timeout"),
    }
    // The store's word where it answers, not this replica's last reload: a rotation or a
    // compromise made through another replica or the CLI shows at once. Where it does not, the
    // store is the reason and the key last read stands.
    let _ = tokio::time::timeout(STORE_TIMEOUT, state.authority.reload_keys()).await;
    if !state.authority.signs_at(Utc::now()) {
        reasons.push("no_valid_issuer_key");
    }
    let now = Utc::now();
    for kind in ListKind::ALL {
        // Not yet published: a fault for the trust and revocation lists only (the rules list
        // exists once a rules file is published; expired or invalid it is a fault like them).
        let reason = match state.lists.get(kind) {
            None if kind == ListKind::Rules => None,
            None => Some("not_published"),
            Some(served) => match served.validity {
                None => Some("invalid"),
                Some(v) if v.next_update <= now => Some("expired"),
                Some(_) => None,
            },
        };
        if let Some(reason) = reason {
            reasons.push(match (kind, reason) {
                (ListKind::Trust, "not_published") => "trust_list_not_published",
                (ListKind::Trust, "invalid") => "trust_list_invalid",
                (ListKind::Trust, _) => "trust_list_expired",
                (ListKind::Revocation, "not_published") => "revocation_list_not_published",
                (ListKind::Revocation, "invalid") => "revocation_list_invalid",
                (ListKind::Revocation, _) => "revocation_list_expired",
                (ListKind::Rules, "invalid") => "rules_list_invalid",
                (ListKind::Rules, _) => "rules_list_expired",
            });
        }
    }
    if !state.batcher.is_running() {
        reasons.push("batcher_stopped");
    }
    reasons
}

pub async fn readyz(state: &AppState) -> Resp {
    let reasons = unready_reasons(state).await;
    if reasons.is_empty() {
        json(StatusCode::OK, &serde_json::json!({ "status": "ready" }))
    } else {
        tracing::debug!(reasons = ?reasons, "not ready");
        json(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({ "status": "not_ready", "reasons": reasons }),
        )
    }
}

/// `GET /metrics`: the Prometheus text format, version 0.0.4.
pub fn metrics(state: &AppState) -> Resp {
    let now = Utc::now();
    let lists = ListKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let served = state.lists.get(kind)?;
            let validity = served.validity?;
            let seconds = |d: chrono::Duration| d.num_milliseconds() as f64 / 1e3;
            Some(ListSnapshot {
                kind,
                sequence: served.sequence,
                age: seconds(now - validity.issued_at),
                valid_for: seconds(validity.next_update - now),
            })
        })
        .collect();
    let snapshot = Snapshot {
        queued: state.batcher.queued(),
        in_flight: state.limiter.in_flight(),
        concurrency_limit: state.limiter.limit(),
        lists,
    };
    bytes_response(
        "text/plain; version=0.0.4; charset=utf-8",
        state.metrics.render(&snapshot),
    )
}
