//! Check log anchors: `POST /v1/anchors` keeps the chain head a shop's verifier signed (its shop
//! key, a count and 32 bytes: no personal data), and `GET /v1/anchors/<shop key, hex>` gives an
//! inspector the latest one back, so a report whose newest entries were cut is caught
//! (docs/architecture.md, "The check log").
//!
//! Public like the enrolment endpoints, and limited like them: an address over its
//! failed-attempt limit is refused first, the body is read apart from the concurrency limit and
//! bounded, and an anchor that does not verify counts as a failed attempt.

use std::net::IpAddr;

use chrono::Utc;
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use vaxpass::report::MAX_ANCHOR_BYTES;
use vaxpass::Anchor;

use super::enrolment::check_address;
use super::errors::ApiError;
use super::{bytes_response, json, read_public_body, AppState, Resp};
use crate::store::{AnchorRecorded, NewAnchor};

/// `POST /v1/anchors` with a signed anchor (`Verifier::anchor`) → 200 `{"count": n}`, also for
/// one already held; 409 `anchor_conflict` if another hash is held at that count (the first one
/// stays).
pub async fn post(
    state: &AppState,
    peer: IpAddr,
    request: Request<Incoming>,
) -> Result<Resp, ApiError> {
    check_address(state, peer).await?;
    let body = read_public_body(state, request, MAX_ANCHOR_BYTES).await?;
    let _admitted = state.limiter.try_admit().ok_or_else(ApiError::overloaded)?;
    let Ok(anchor) = Anchor::verify(&body) else {
        state.attempts.record_failure(peer);
        return Err(ApiError::bad_request(
            "bad_anchor",
            "the body is not an anchor signed by the shop key it carries",
        ));
    };
    let recorded = state
        .store
        .record_anchor(NewAnchor {
            shop_key: anchor.shop_key,
            count: anchor.head.count,
            hash: anchor.head.hash,
            signed: body.to_vec(),
            received_at: Utc::now(),
        })
        .await
        .map_err(|_| ApiError::store())?;
    match recorded {
        AnchorRecorded::New | AnchorRecorded::AlreadyHeld => Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "count": anchor.head.count }),
        )),
        AnchorRecorded::Conflict => Err(ApiError::new(
            StatusCode::CONFLICT,
            "anchor_conflict",
            "another chain head is anchored at this count",
        )),
    }
}

/// `GET /v1/anchors/<shop key in hex>` → the signed anchor with the highest count, and when it
/// arrived (`X-Anchor-Received-At`, RFC 3339); 404 if the shop never anchored.
pub async fn get(state: &AppState, peer: IpAddr, shop_key: &str) -> Result<Resp, ApiError> {
    check_address(state, peer).await?;
    let _admitted = state.limiter.try_admit().ok_or_else(ApiError::overloaded)?;
    let key = (shop_key.len() <= 66)
        .then(|| hex::decode(shop_key).ok())
        .flatten()
        .filter(|k| k.len() == 32 || k.len() == 33)
        .ok_or_else(|| ApiError::bad_request("bad_shop_key", "not a shop key in hex"))?;
    let stored = state
        .store
        .latest_anchor(key)
        .await
        .map_err(|_| ApiError::store())?
        .ok_or_else(ApiError::not_found)?;
    let mut response = bytes_response("application/cbor", stored.signed);
    if let Ok(at) = hyper::header::HeaderValue::from_str(&stored.received_at.to_rfc3339()) {
        response.headers_mut().insert("x-anchor-received-at", at);
    }
    Ok(response)
}
