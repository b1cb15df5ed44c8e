//! The one online step: `POST /v1/enrolment/nonce` hands out a single-use nonce, and
//! `POST /v1/enrolment` answers a wallet's signed request with its credentials.
//!
//! An enrolment is checked in an order that makes guessing codes useless: an address over its
//! failed-attempt limit is refused before anything; the body is read apart from the concurrency
//! limit (a slow upload holds no slot); then the proof of possession; then the nonce, which must
//! be one this service issued, unexpired and unused, before the identity proof is looked at at
//! all. A refused proof uses up its nonce, and unknown, wrong and already-used codes get one and
//! the same answer after the same work. Nothing is acknowledged before it is durable.

use std::net::IpAddr;

use chrono::{Duration, Utc};
use hyper::body::Incoming;
use hyper::Request;
use vaxpass::enrolment::{encode_issued, new_nonce, MAX_ISSUED};
use vaxpass::EnrolmentRequest;

use super::errors::ApiError;
use super::{bytes_response, read_public_body, AppState, Resp};
use crate::attempts::{Limited, Reservation};
use crate::batcher::{EnrolJob, Failure};
use crate::identity::{Enrolling, IdentityError, RefusalCause};
use crate::metrics::Metrics;
use crate::store::{DeviceHash, Refusal};

/// How long a nonce may be used.
pub const NONCE_LIFETIME: Duration = Duration::minutes(5);

/// Longest a refused address is kept waiting for its 429: a flood of refused requests then costs
/// the service a timer per connection, not CPU.
const TARPIT_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// `POST /v1/enrolment/nonce` → 32 random bytes, recorded before they are handed out.
pub async fn nonce(
    state: &AppState,
    peer: IpAddr,
    _request: Request<Incoming>,
) -> Result<Resp, ApiError> {
    check_address(state, peer).await?;
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
pub async fn enrol(
    state: &AppState,
    peer: IpAddr,
    request: Request<Incoming>,
) -> Result<Resp, ApiError> {
    check_address(state, peer).await?;
    let body = read_public_body(state, request, state.config.body_limit).await?;
    let _admitted = state.limiter.try_admit().ok_or_else(ApiError::overloaded)?;
    // The core's one check: signed by the device key it carries, over the nonce it carries.
    let request = EnrolmentRequest::verify_possession(&body).map_err(|e| match e {
        vaxpass::Error::BadSignature(_) => ApiError::bad_request(
            "bad_proof_of_possession",
            "the request is not signed by the device key it carries",
        ),
        _ => ApiError::bad_request(
            "malformed_request",
            "the body is not a well-formed enrolment request",
        ),
    })?;

    // No identity proof is looked at without a nonce this service issued, unexpired and unused,
    // and held by no other request in progress.
    let usable = match state.nonce_claims.claim(&request.nonce) {
        None => None,
        Some(claim) => state
            .store
            .nonce_usable(&request.nonce, Utc::now())
            .await
            .map_err(|_| ApiError::store())?
            .then_some(claim),
    };
    let Some(_claim) = usable else {
        Metrics::count(&state.metrics.refused_nonce);
        state.attempts.record_failure(peer);
        return Err(ApiError::nonce_unknown_or_used());
    };
    if let Err(limited) = state.attempts.check_global(peer) {
        return Err(refuse_limited(state, limited, false).await);
    }
    // A failed attempt is reserved before the proof is looked at, and given back on success.
    let reservation = match state.attempts.reserve(peer).await {
        Ok(reservation) => reservation,
        Err(limited) => return Err(refuse_limited(state, limited, false).await),
    };

    Metrics::count(&state.metrics.proofs_checked);
    let device = DeviceHash::of(&request.device_key);
    let enrolling = Enrolling {
        nonce: &request.nonce,
        device_key: &request.device_key,
        device,
    };
    let identified = match state
        .identity
        .identify(&request.identity_proof, &enrolling)
        .await
    {
        Ok(identified) => identified,
        Err(IdentityError::Refused(cause)) => {
            return Err(refuse_proof(state, reservation, request.nonce, cause).await)
        }
        // Retrying later helps: a 503, the nonce kept and no failed attempt counted.
        Err(e @ IdentityError::Unavailable) => {
            Metrics::count(&state.metrics.identity_unavailable);
            tracing::warn!("enrolment not answered: identity provider unavailable");
            return Err(e.into());
        }
    };
    let passes = state
        .store
        .passes_of(identified.citizen)
        .await
        .map_err(|_| ApiError::store())?
        .filter(|passes| !passes.is_empty());
    let Some(passes) = passes else {
        return Err(refuse_proof(state, reservation, request.nonce, RefusalCause::NoPasses).await);
    };
    // Accepted: the attempt is given back before the commit, so successes never wait on it.
    reservation.succeeded();
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
    let credentials = match wait(state, state.batcher.enrol(job)).await? {
        Ok(credentials) => credentials,
        // Another device used the code between the lookup and the commit; the nonce is burned.
        Err(Failure::Refused(Refusal::CodeAlreadyUsed)) => {
            let cause = RefusalCause::UsedByOtherDevice;
            state.metrics.refused_proof(cause);
            state
                .attempts
                .reserve(peer)
                .await
                .map(Reservation::failed)
                .ok();
            log_refusal(cause);
            return Err(ApiError::identity_refused());
        }
        Err(failure) => return Err(failure.into()),
    };
    Metrics::count(&state.metrics.enrolled);
    let bundle = encode_issued(&credentials)
        .map_err(|_| ApiError::internal("encoding_failed", "the answer could not be encoded"))?;
    Ok(bytes_response("application/cbor", bundle))
}

/// Refuses a request from an address over its failed-attempt limit, before any work.
pub(crate) async fn check_address(state: &AppState, peer: IpAddr) -> Result<(), ApiError> {
    match state.attempts.check_address(peer) {
        Ok(()) => Ok(()),
        Err(limited) => Err(refuse_limited(state, limited, true).await),
    }
}

/// A 429 for a limited address, closing the connection; answered late (up to [`TARPIT_MAX`]) if
/// `tarpit`, which only a request that holds no slot of the concurrency limit may be.
async fn refuse_limited(state: &AppState, limited: Limited, tarpit: bool) -> ApiError {
    let wait = match limited {
        Limited::Address(wait) => {
            Metrics::count(&state.metrics.refused_address_limit);
            wait
        }
        Limited::Global(wait) => {
            Metrics::count(&state.metrics.refused_global_limit);
            wait
        }
    };
    if tarpit {
        tokio::time::sleep(wait.min(TARPIT_MAX)).await;
    }
    ApiError::rate_limited(wait)
}

/// The one answer for every refused proof, after using up its nonce; the cause goes to the
/// metrics and the log only.
async fn refuse_proof(
    state: &AppState,
    reservation: Reservation<'_>,
    nonce: Vec<u8>,
    cause: RefusalCause,
) -> ApiError {
    reservation.failed();
    let burned = wait(state, state.batcher.burn_nonce(nonce)).await;
    state.metrics.refused_proof(cause);
    log_refusal(cause);
    match burned {
        Ok(Ok(())) => ApiError::identity_refused(),
        // Not burned: answer as the store failure it is, so the client retries with a new nonce.
        Ok(Err(failure)) => failure.into(),
        Err(e) => e,
    }
}

/// One event per refused proof: its cause, within the request's span (its id), nothing else.
fn log_refusal(cause: RefusalCause) {
    tracing::info!(cause = cause.as_str(), "enrolment refused: identity proof");
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
