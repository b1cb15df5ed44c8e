//! The one online step: `POST /v1/enrolment/nonce` hands out a single-use nonce, and
//! `POST /v1/enrolment` answers a wallet's signed request with its credentials. Both pass the
//! concurrency limit first and go through the group commit; nothing is acknowledged before it is
//! durable, and a refused request changes nothing.

use chrono::{Duration, Utc};
use hyper::body::Incoming;
use hyper::Request;
use vaxpass::enrolment::{encode_issued, new_nonce, MAX_ISSUED};
use vaxpass::EnrolmentRequest;

use super::errors::ApiError;
use super::{bytes_response, read_body, AppState, Resp};
use crate::batcher::EnrolJob;
use crate::identity::IdentityError;
use crate::store::DeviceHash;

/// How long a nonce may be used.
pub const NONCE_LIFETIME: Duration = Duration::minutes(5);

/// `POST /v1/enrolment/nonce` → 32 random bytes, recorded before they are handed out.
pub async fn nonce(state: &AppState, _request: Request<Incoming>) -> Result<Resp, ApiError> {
    let _admitted = state
        .limiter
        .try_admit_new()
        .ok_or_else(ApiError::overloaded)?;
    let nonce = new_nonce();
    let expires = Utc::now() + NONCE_LIFETIME;
    wait(state, state.batcher.new_nonce(nonce.to_vec(), expires)).await??;
    Ok(bytes_response("application/octet-stream", nonce.to_vec()))
}

/// `POST /v1/enrolment` → the issued bundle (`encode_issued`), one credential per registry pass.
pub async fn enrol(state: &AppState, request: Request<Incoming>) -> Result<Resp, ApiError> {
    let _admitted = state.limiter.try_admit().ok_or_else(ApiError::overloaded)?;
    let body = read_body(
        request,
        state.config.body_limit,
        state.config.commit_timeout,
    )
    .await?;
    let request = EnrolmentRequest::from_bytes(&body).map_err(|_| {
        ApiError::bad_request(
            "malformed_request",
            "the body is not a well-formed enrolment request",
        )
    })?;
    // The signature must cover the nonce it carries; that the nonce is ours and unused is checked
    // when the enrolment is recorded.
    request.verify(&request.nonce).map_err(|_| {
        ApiError::bad_request(
            "bad_proof_of_possession",
            "the request is not signed by the device key it carries",
        )
    })?;
    let device = DeviceHash::of(&request.device_key);
    let identified = state
        .identity
        .identify(&request.identity_proof, device)
        .await?;
    let passes = state
        .store
        .passes_of(identified.citizen)
        .await
        .map_err(|_| ApiError::store())?
        .filter(|passes| !passes.is_empty())
        .ok_or(IdentityError::UnknownCitizen)?;
    if passes.len() > MAX_ISSUED {
        return Err(ApiError::internal(
            "registry_entry_invalid",
            "the registry entry has more passes than one enrolment can carry",
        ));
    }
    let job = EnrolJob {
        nonce: request.nonce,
        citizen: identified.citizen,
        code: identified.one_time_code,
        device,
        device_key: request.device_key,
        passes,
    };
    let credentials = wait(state, state.batcher.enrol(job)).await??;
    let bundle = encode_issued(&credentials)
        .map_err(|_| ApiError::internal("encoding_failed", "the answer could not be encoded"))?;
    Ok(bytes_response("application/cbor", bundle))
}

/// Waits for the group commit, but not forever: a stuck store must not hold the slot.
async fn wait<T>(
    state: &AppState,
    commit: impl std::future::Future<Output = T>,
) -> Result<T, ApiError> {
    tokio::time::timeout(state.config.commit_timeout, commit)
        .await
        .map_err(|_| ApiError::store())
}
