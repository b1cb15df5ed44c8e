//! The HTTP/1.1 front: the accept loop (connection limit, header timeout, graceful drain), the
//! shared state of the handlers, the router, and small helpers for bodies and answers.

pub mod admin;
pub mod anchors;
pub mod enrolment;
pub mod errors;
pub mod health;
pub mod lists;

use std::collections::HashSet;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rand_core::{OsRng, RngCore};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::attempts::Attempts;
use crate::batcher::Batcher;
use crate::config::ServiceConfig;
use crate::identity::IdentityProvider;
use crate::metrics::Metrics;
use crate::overload::Limiter;
use crate::store::{ListKind, Store};

use self::errors::ApiError;

pub type Resp = Response<Full<Bytes>>;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    pub config: ServiceConfig,
    pub store: Arc<dyn Store>,
    pub authority: Arc<crate::authority::ServiceAuthority>,
    pub identity: Arc<dyn IdentityProvider>,
    /// The key of the registry's code hashes (for restoring a citizen).
    pub code_key: crate::identity::CodeKey,
    pub batcher: Batcher,
    pub limiter: Limiter,
    /// Bodies being read, apart from the concurrency limit: a slow upload holds one of these,
    /// never a slot of `limiter` (which is taken only for the work).
    pub body_readers: Arc<Semaphore>,
    pub attempts: Attempts,
    pub metrics: Metrics,
    pub nonce_claims: NonceClaims,
    pub lists: Arc<lists::ListCache>,
    pub admin: admin::AdminAuth,
    /// One publish at a time from this process (list sequences must only grow).
    pub publishing: tokio::sync::Mutex<()>,
}

/// Nonces of the enrolments in progress in this process: one attempt per nonce at a time, so
/// concurrent requests cannot get several proofs checked on one nonce before it is burned.
#[derive(Debug, Default)]
pub struct NonceClaims(Mutex<HashSet<Vec<u8>>>);

/// Held while an enrolment uses its nonce; released when dropped.
#[derive(Debug)]
pub struct NonceClaim<'a> {
    claims: &'a NonceClaims,
    nonce: Vec<u8>,
}

impl NonceClaims {
    /// `None` if another request in progress already uses this nonce.
    pub fn claim(&self, nonce: &[u8]) -> Option<NonceClaim<'_>> {
        let mut claims = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        claims.insert(nonce.to_vec()).then(|| NonceClaim {
            claims: self,
            nonce: nonce.to_vec(),
        })
    }
}

impl Drop for NonceClaim<'_> {
    fn drop(&mut self) {
        let mut claims = self.claims.0.lock().unwrap_or_else(PoisonError::into_inner);
        claims.remove(&self.nonce);
    }
}

/// Serves connections from `listener` until `shutdown` resolves, then stops accepting and waits
/// (up to the drain timeout) for the requests in progress to be answered.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(state.config.max_connections));
    let drain_timeout = state.config.drain_timeout;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, peer.ip()),
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let service = service_fn(move |request| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(route(&state, peer, request).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(drain_timeout) => {
            tracing::warn!("drain timed out, closing the remaining connections");
        }
    }
}

/// The fixed name of a path's route, for logs (never the client's text).
fn route_name(path: &str) -> &'static str {
    match path {
        "/v1/enrolment/nonce" => "nonce",
        "/v1/enrolment" => "enrolment",
        "/v1/trust-list" => "trust_list",
        "/v1/revocation-list" => "revocation_list",
        "/v1/rules-list" => "rules_list",
        "/livez" => "livez",
        "/readyz" => "readyz",
        "/healthz" => "healthz",
        "/metrics" => "metrics",
        "/v1/anchors" => "anchors",
        _ if path.starts_with("/v1/anchors/") => "anchor",
        _ if path.starts_with("/v1/admin/") => "admin",
        _ => "unknown",
    }
}

/// Answers one request within a span carrying a random id and its route, and gives the id back
/// in `X-Request-Id` so an answer can be matched with its log lines.
pub async fn route(state: &AppState, peer: IpAddr, request: Request<Incoming>) -> Resp {
    // Random, not a counter: an answer tells nothing of the service's traffic.
    // Hex text: JSON log readers lose digits of a 64-bit number.
    let id = format!("{:016x}", OsRng.next_u64());
    let name = route_name(request.uri().path());
    let span = tracing::info_span!("request", request_id = %id, route = name);
    let started = std::time::Instant::now();
    let mut response = answer(state, peer, request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1e3,
            "answered"
        );
    });
    if let Ok(id) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

/// Routes one request. Every answer, error or not, is built here or below.
async fn answer(state: &AppState, peer: IpAddr, request: Request<Incoming>) -> Resp {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let result = match path.as_str() {
        "/v1/enrolment/nonce" => match method {
            Method::POST => enrolment::nonce(state, peer, request).await,
            _ => Err(ApiError::method_not_allowed()),
        },
        "/v1/enrolment" => match method {
            Method::POST => enrolment::enrol(state, peer, request).await,
            _ => Err(ApiError::method_not_allowed()),
        },
        "/v1/trust-list" | "/v1/revocation-list" | "/v1/rules-list" => match method {
            Method::GET | Method::HEAD => {
                let kind = match path.as_str() {
                    "/v1/trust-list" => ListKind::Trust,
                    "/v1/revocation-list" => ListKind::Revocation,
                    _ => ListKind::Rules,
                };
                lists::serve(state, kind, &request)
            }
            _ => Err(ApiError::method_not_allowed()),
        },
        "/livez" => match method {
            Method::GET | Method::HEAD => Ok(health::livez()),
            _ => Err(ApiError::method_not_allowed()),
        },
        "/readyz" => match method {
            Method::GET | Method::HEAD => Ok(health::readyz(state).await),
            _ => Err(ApiError::method_not_allowed()),
        },
        "/healthz" => match method {
            Method::GET | Method::HEAD => Ok(health::healthz(state)),
            _ => Err(ApiError::method_not_allowed()),
        },
        "/metrics" => match method {
            Method::GET | Method::HEAD => Ok(health::metrics(state)),
            _ => Err(ApiError::method_not_allowed()),
        },
        "/v1/anchors" => match method {
            Method::POST => anchors::post(state, peer, request).await,
            _ => Err(ApiError::method_not_allowed()),
        },
        _ if path.starts_with("/v1/anchors/") => match method {
            Method::GET | Method::HEAD => {
                anchors::get(state, peer, &path["/v1/anchors/".len()..]).await
            }
            _ => Err(ApiError::method_not_allowed()),
        },
        _ => match path.strip_prefix("/v1/admin/") {
            Some(operation) => {
                let operation = operation.to_owned();
                admin::handle(state, &operation, request).await
            }
            None => Err(ApiError::not_found()),
        },
    };
    let mut response = match result {
        Ok(response) => response,
        Err(e) => {
            state.metrics.error(e.status.as_u16(), e.code);
            e.into_response()
        }
    };
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        let allow = match path.as_str() {
            "/v1/trust-list"
            | "/v1/revocation-list"
            | "/v1/rules-list"
            | "/livez"
            | "/readyz"
            | "/healthz"
            | "/metrics" => "GET, HEAD",
            _ if path.starts_with("/v1/anchors/") => "GET, HEAD",
            _ => "POST",
        };
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
    }
    // hyper sends no body for HEAD itself, keeping the GET's Content-Length.
    response
}

/// Reads a public endpoint's body of at most `limit` bytes while holding one of the body
/// readers (none free: the overload answer), so a slow upload never holds a work slot.
pub async fn read_public_body(
    state: &AppState,
    request: Request<Incoming>,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let _reading = state
        .body_readers
        .try_acquire()
        .map_err(|_| ApiError::overloaded())?;
    read_body(request, limit, state.config.body_timeout).await
}

/// Reads a request body of at most `limit` bytes: 413 at once if `Content-Length` says more,
/// 413 as soon as more arrives, 408 if it does not arrive in time.
pub async fn read_body(
    request: Request<Incoming>,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::too_large());
    }
    let body = Limited::new(request.into_body(), limit);
    match tokio::time::timeout(timeout, body.collect()).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            "the request body did not arrive in time",
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::too_large()),
        Ok(Err(_)) => Err(ApiError::bad_request(
            "body_unreadable",
            "the request body could not be read",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// An answer with a body of the given type, not to be cached.
pub fn bytes_response(content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut response = Response::new(Full::new(body.into()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub fn json(status: StatusCode, value: &serde_json::Value) -> Resp {
    let mut response = bytes_response("application/json", value.to_string());
    *response.status_mut() = status;
    response
}
