//! List sync and renewal scheduling, with the transport left to the app: what to send for a list
//! (`Verifier.list_etag` as `If-None-Match`), how to read the answer (`Verifier.apply_fetched`),
//! when to try again ([`Backoff`]) and when to fetch next ([`next_refresh`]). The SDK never opens
//! a socket; each call delegates to the core's `sync` module.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::convert::{system_time, time};
use crate::error::VaxpassError;
use crate::time_span::TimeSpan;
use crate::types::Applied;

pub use vaxpass::ListKind;

#[uniffi::remote(Enum)]
pub enum ListKind {
    Trust,
    Revocation,
    Rules,
}

/// The path the issuer service serves a list at, e.g. `/v1/trust-list`: append it to the
/// service's (or its CDN's) base URL.
#[uniffi::export]
pub fn list_path(kind: ListKind) -> String {
    kind.path().to_owned()
}

/// The path the issuer service takes the check log's anchor at (`POST`, body
/// `Verifier.anchor(now)`, content type `application/cbor`; a 200 means the authority holds it):
/// append it to the service's base URL.
#[uniffi::export]
pub fn anchor_path() -> String {
    vaxpass::sync::ANCHOR_PATH.to_owned()
}

/// What the app's HTTP client received for a list request, headers as sent (absent: `None`).
#[derive(uniffi::Record)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: i32,
    /// The `ETag` header.
    pub etag: Option<String>,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
    /// The body (the signed list, for a 200; anything else is not read).
    pub body: Vec<u8>,
}

/// What a list fetch came to.
#[derive(uniffi::Enum)]
pub enum Fetched {
    /// 200: the list was offered to the verifier's store (it may have been the one already held).
    /// (Not named `Applied`: in Kotlin the variant would hide the type of its field.)
    Received {
        /// What offering the list did.
        applied: Applied,
    },
    /// 304: the list held is still the current one.
    NotModified,
    /// The server is busy (429, 503) or failing (5xx): try again after `delay`, which honours the
    /// server's `Retry-After` and the backoff.
    RetryAfter {
        /// How long to wait.
        delay: TimeSpan,
    },
}

impl From<vaxpass::Fetched> for Fetched {
    fn from(fetched: vaxpass::Fetched) -> Self {
        match fetched {
            vaxpass::Fetched::Applied(applied) => Self::Received {
                applied: applied.into(),
            },
            vaxpass::Fetched::NotModified => Self::NotModified,
            vaxpass::Fetched::RetryAfter(delay) => Self::RetryAfter {
                delay: delay.to_std().unwrap_or_default().into(),
            },
        }
    }
}

impl HttpResponse {
    /// The core's view of the response, borrowing its headers and body.
    pub(crate) fn as_core(&self) -> Result<vaxpass::HttpResponse<'_>, VaxpassError> {
        let status = u16::try_from(self.status)
            .map_err(|_| vaxpass::Error::InvalidArgument("an HTTP status is 100 to 599".into()))?;
        Ok(vaxpass::HttpResponse {
            status,
            etag: self.etag.as_deref(),
            retry_after: self.retry_after.as_deref(),
            body: &self.body,
        })
    }
}

/// Exponential backoff with full jitter between failed attempts, never shorter than the server's
/// `Retry-After`. Keep one per thing retried (a list, the enrolment); a success resets it.
#[derive(Debug, Default, uniffi::Object)]
pub struct Backoff(Mutex<vaxpass::Backoff>);

#[uniffi::export]
impl Backoff {
    /// A backoff with no failures yet.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// After a refused or failed request: the delay before the next attempt, given the
    /// `Retry-After` header as sent (or `None`), at `now`.
    pub fn after_refusal(
        &self,
        retry_after: Option<String>,
        now: SystemTime,
    ) -> Result<TimeSpan, VaxpassError> {
        let delay = self
            .lock()
            .after_refusal(retry_after.as_deref(), time(now)?);
        Ok(delay.to_std().unwrap_or_default().into())
    }

    /// After a success: the next failure starts from the shortest delay again.
    pub fn reset(&self) {
        self.lock().reset();
    }

    /// Failures since the last success.
    pub fn failures(&self) -> i64 {
        self.lock().failures().into()
    }
}

impl Backoff {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, vaxpass::Backoff> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// When to fetch a list again, given its `next_update` (`Freshness.trust_list.next_update`): a
/// random moment between half and nine tenths of the time left, and not sooner than a minute from
/// `now`, so a country's phones do not all call at once.
#[uniffi::export]
pub fn next_refresh(now: SystemTime, next_update: SystemTime) -> Result<SystemTime, VaxpassError> {
    Ok(system_time(vaxpass::sync::next_refresh(
        time(now)?,
        time(next_update)?,
        vaxpass::sync::jitter(),
    )))
}
