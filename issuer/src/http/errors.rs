//! Error answers: JSON `{"error": "<code>", "message": "<text>"}` with a status code, a stable
//! machine-readable code, and a message that never carries personal data or echoes input.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{
    HeaderValue, CACHE_CONTROL, CONNECTION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use hyper::{Response, StatusCode};

use crate::batcher::Failure;
use crate::identity::IdentityError;
use crate::overload::retry_after_secs;
use crate::store::Refusal;

use super::Resp;

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    pub retry_after: Option<u32>,
    /// Close the connection after this answer.
    pub close: bool,
}

impl ApiError {
    pub const fn new(status: StatusCode, code: &'static str, message: &'static str) -> Self {
        Self {
            status,
            code,
            message,
            retry_after: None,
            close: false,
        }
    }

    fn retry_later(mut self) -> Self {
        self.retry_after = Some(retry_after_secs());
        self
    }

    pub fn bad_request(code: &'static str, message: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this resource does not answer that method",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid admin bearer token is required",
        )
    }

    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the request body is larger than 16 KiB",
        )
    }

    pub fn overloaded() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "overloaded",
            "too many enrolments in progress, retry after the given delay",
        )
        .retry_later()
    }

    /// The one answer for a refused identity proof, whatever was wrong with it.
    pub fn identity_refused() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "identity_refused",
            "the enrolment code and date of birth were not accepted",
        )
    }

    pub fn nonce_unknown_or_used() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "nonce_unknown_or_used",
            "the nonce is unknown, expired or already used: fetch a new one",
        )
    }

    /// Too many failed attempts from this address (or everywhere): retry after `wait`.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failed_attempts",
            "too many failed enrolment attempts, retry after the given delay",
        );
        error.retry_after = Some(u32::try_from(wait.as_secs().clamp(1, 3600)).unwrap_or(3600));
        error.close = true;
        error
    }

    pub fn unavailable(code: &'static str, message: &'static str) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message).retry_later()
    }

    pub fn internal(code: &'static str, message: &'static str) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, code, message)
    }

    pub fn store() -> Self {
        Self::unavailable("store_unavailable", "the service's store is unavailable")
    }

    pub fn into_response(self) -> Resp {
        let body = serde_json::json!({ "error": self.code, "message": self.message }).to_string();
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.close {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        if self.status == StatusCode::UNAUTHORIZED && self.code == "unauthorized" {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused(Refusal::NonceUnknownOrUsed) => Self::nonce_unknown_or_used(),
            Failure::Refused(Refusal::CodeAlreadyUsed) => Self::identity_refused(),
            Failure::QueueFull => Self::unavailable(
                "queue_full",
                "the issuer is saturated, retry after the given delay",
            ),
            Failure::ShuttingDown => {
                Self::unavailable("shutting_down", "the service is restarting")
            }
            Failure::Signing => Self::unavailable(
                "issuer_unavailable",
                "the issuer cannot sign right now (no valid issuer key)",
            ),
            Failure::Store => Self::store(),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Refused(_) => Self::identity_refused(),
            IdentityError::Unavailable => Self::unavailable(
                "identity_unavailable",
                "the identity service is unavailable",
            ),
        }
    }
}
