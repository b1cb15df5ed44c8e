//! `GET /v1/trust-list`, `GET /v1/revocation-list` and `GET /v1/rules-list`: the signed lists, served from memory with
//! a strong ETag (hex SHA-256 of the bytes) and a public cache lifetime, so a CDN can carry them.
//! The cache is reloaded from the store after a publish and periodically, so every replica serves
//! what any replica published.

use std::sync::{Arc, PoisonError, RwLock};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use hyper::{Request, Response, StatusCode};

use super::errors::ApiError;
use super::{AppState, Resp};
use crate::store::{ListKind, Store, StoreResult};
use vaxpass::{ListInfo, RevocationList, RulesList, TrustList};

/// The lists a service serves before it is ready: the rules list is served once a rules file is
/// published, and re-signed with these two from then on.
pub const REQUIRED: [ListKind; 2] = [ListKind::Trust, ListKind::Revocation];

/// One list as served.
#[derive(Debug)]
pub struct Served {
    pub sequence: u64,
    pub bytes: Bytes,
    /// The ETag header value, quoted.
    pub etag: HeaderValue,
    /// When the list was issued and when it must be replaced, from its verified payload; `None`
    /// if it does not verify under the root key (then readiness fails).
    pub validity: Option<ListInfo>,
}

/// The numbers and times of `bytes`, a list of `kind` signed under `root`; `None` if it does not
/// verify.
fn verified_info(kind: ListKind, bytes: &[u8], root: &[u8; 32]) -> Option<ListInfo> {
    match kind {
        ListKind::Trust => TrustList::verify(bytes, root).ok().map(|l| l.info()),
        ListKind::Revocation => RevocationList::verify(bytes, root).ok().map(|l| l.info()),
        ListKind::Rules => RulesList::verify(bytes, root).ok().map(|l| l.info()),
    }
}

/// The lists currently served.
#[derive(Debug)]
pub struct ListCache {
    /// The root key the lists are verified under (for their times).
    root: [u8; 32],
    trust: RwLock<Option<Arc<Served>>>,
    revocation: RwLock<Option<Arc<Served>>>,
    rules: RwLock<Option<Arc<Served>>>,
}

impl ListCache {
    pub fn new(root: [u8; 32]) -> Self {
        Self {
            root,
            trust: RwLock::default(),
            revocation: RwLock::default(),
            rules: RwLock::default(),
        }
    }

    fn slot(&self, kind: ListKind) -> &RwLock<Option<Arc<Served>>> {
        match kind {
            ListKind::Trust => &self.trust,
            ListKind::Revocation => &self.revocation,
            ListKind::Rules => &self.rules,
        }
    }

    pub fn get(&self, kind: ListKind) -> Option<Arc<Served>> {
        self.slot(kind)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Loads from the store the lists whose sequence differs from the cached one (only their
    /// heads are read otherwise). Returns how many changed.
    pub async fn reload(&self, store: &dyn Store) -> StoreResult<usize> {
        let mut changed = 0;
        for head in store.published_heads().await? {
            if self
                .get(head.kind)
                .is_some_and(|s| s.sequence == head.sequence)
            {
                continue;
            }
            let Some(list) = store.published(head.kind).await? else {
                continue;
            };
            let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", list.etag)) else {
                continue;
            };
            let validity = verified_info(head.kind, &list.bytes, &self.root);
            if validity.is_none() {
                tracing::error!(
                    kind = head.kind.as_str(),
                    sequence = list.sequence,
                    "the published list does not verify under the root key"
                );
            }
            *self
                .slot(head.kind)
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(Served {
                sequence: list.sequence,
                bytes: Bytes::from(list.bytes),
                etag,
                validity,
            }));
            changed += 1;
        }
        Ok(changed)
    }
}

/// Answers a list request from memory.
pub fn serve<B>(state: &AppState, kind: ListKind, request: &Request<B>) -> Result<Resp, ApiError> {
    let served = state.lists.get(kind).ok_or_else(|| match kind {
        // Not a wait: this service serves rules once its authority publishes a rules file.
        ListKind::Rules => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_published",
            "no rules file has been published",
        ),
        _ => ApiError::unavailable("not_published", "no list has been published yet"),
    })?;
    let unchanged = request
        .headers()
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| matches_etag(v, &served.etag));
    let mut response = if unchanged {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(Full::new(served.bytes.clone()));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/cbor"));
        r
    };
    let headers = response.headers_mut();
    headers.insert(ETAG, served.etag.clone());
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

/// `If-None-Match`: `*`, or a comma-separated list of entity tags (weak ones compare weakly).
fn matches_etag(header: &str, etag: &HeaderValue) -> bool {
    let Ok(ours) = etag.to_str() else {
        return false;
    };
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        let ours = HeaderValue::from_static("\"abc\"");
        assert!(matches_etag("\"abc\"", &ours));
        assert!(matches_etag("\"x\", W/\"abc\"", &ours));
        assert!(matches_etag("*", &ours));
        assert!(!matches_etag("\"abd\"", &ours));
        assert!(!matches_etag("abc", &ours));
    }
}
