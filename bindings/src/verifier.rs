//! The shop's verifier, and the trust list as a checked object.

use std::sync::Arc;
use std::time::SystemTime;

use crate::convert::{sequence, time};
use crate::error::VaxpassError;
use crate::sync::{Backoff, Fetched, HttpResponse, ListKind};
use crate::types::{Applied, Freshness, Verdict, VerifierConfig};

/// A trust list whose signature has been checked against a root key.
#[derive(Debug, uniffi::Object)]
pub struct TrustList(vaxpass::TrustList);

impl TrustList {
    pub(crate) fn inner(&self) -> &vaxpass::TrustList {
        &self.0
    }
}

#[uniffi::export]
impl TrustList {
    /// Verifies signed trust-list bytes against the authority's root public key. A sequence
    /// number above 2^63 - 1 is refused as malformed, as the verifier refuses it.
    #[uniffi::constructor]
    pub fn verify(bytes: Vec<u8>, root_public_key: Vec<u8>) -> Result<Arc<Self>, VaxpassError> {
        let root = root_key(root_public_key)?;
        let list = vaxpass::TrustList::verify(&bytes, &root).map_err(VaxpassError::from_list)?;
        if i64::try_from(list.sequence).is_err() {
            return Err(VaxpassError::from_list(vaxpass::Error::Malformed {
                what: "list",
                why: "sequence out of range",
            }));
        }
        Ok(Arc::new(Self(list)))
    }

    /// The list's sequence number: each list the authority signs has a higher one.
    pub fn sequence(&self) -> i64 {
        sequence(self.0.sequence)
    }

    /// When the authority signed this list: a time to pass to `Wallet.observe_trusted_time`.
    pub fn issued_at(&self) -> SystemTime {
        crate::convert::system_time(self.0.issued_at)
    }
}

/// The shop's verifier: the lists it last applied, in its own SQLite file, and the
/// verdict for each scanned code. Safe to call from any thread; never touches the network.
#[derive(Debug, uniffi::Object)]
pub struct Verifier(vaxpass::Verifier);

#[uniffi::export]
impl Verifier {
    /// Opens or creates the shop's store, pinned to the authority's root key.
    /// Blocking: opens (or creates) the SQLite file and checks the lists stored in it; call it off
    /// the main thread.
    #[uniffi::constructor]
    pub fn open(
        path: String,
        root_public_key: Vec<u8>,
        config: VerifierConfig,
    ) -> Result<Arc<Self>, VaxpassError> {
        // Offline rules that do not verify are a refused list, as `applyRulesList` says.
        Ok(Arc::new(Self(
            vaxpass::Verifier::open(path, root_key(root_public_key)?, config.try_into()?)
                .map_err(VaxpassError::from_list)?,
        )))
    }

    /// Offers signed trust-list bytes: held if they verify against the pinned root key and are
    /// newer than the list held. An older list throws `Rollback`, other content under the same
    /// sequence `Equivocation`, a forged one `BadSignature`.
    /// Blocking: reads or writes the verifier's SQLite file; call it off the main thread.
    pub fn apply_trust_list(
        &self,
        bytes: Vec<u8>,
        now: SystemTime,
    ) -> Result<Applied, VaxpassError> {
        self.0
            .apply_trust_list(&bytes, time(now)?)
            .map(Into::into)
            .map_err(VaxpassError::from_list)
    }

    /// Offers signed revocation-list bytes, under the same rules as `applyTrustList`.
    /// Blocking: reads or writes the verifier's SQLite file; call it off the main thread.
    pub fn apply_revocation_list(
        &self,
        bytes: Vec<u8>,
        now: SystemTime,
    ) -> Result<Applied, VaxpassError> {
        self.0
            .apply_revocation_list(&bytes, time(now)?)
            .map(Into::into)
            .map_err(VaxpassError::from_list)
    }

    /// Offers signed rules-list bytes, under the same rules as `applyTrustList`. A list in a
    /// newer rules format throws `UpdateRequired` and changes nothing.
    /// Blocking: reads or writes the verifier's SQLite file; call it off the main thread.
    pub fn apply_rules_list(
        &self,
        bytes: Vec<u8>,
        now: SystemTime,
    ) -> Result<Applied, VaxpassError> {
        self.0
            .apply_rules_list(&bytes, time(now)?)
            .map(Into::into)
            .map_err(VaxpassError::from_list)
    }

    /// Picks the shop's venue mode (e.g. `restaurant_cafe`), kept across restarts. A mode the
    /// rules held do not define throws `NotFound` and changes nothing.
    /// Blocking: writes the verifier's SQLite file; call it off the main thread.
    pub fn set_venue_mode(&self, mode: String) -> Result<(), VaxpassError> {
        Ok(self.0.set_venue_mode(&mode)?)
    }

    /// The venue mode picked; `None` if none was (the rule set's first mode applies).
    pub fn venue_mode(&self) -> Option<String> {
        self.0.venue_mode()
    }

    /// The venue modes of the rule set in force at `now`, the default first: what the shop's
    /// mode picker offers.
    pub fn venue_modes(&self, now: SystemTime) -> Result<Vec<String>, VaxpassError> {
        Ok(self.0.venue_modes(time(now)?))
    }

    /// The `ETag` of the list held, to send as `If-None-Match` when fetching it next.
    pub fn list_etag(&self, kind: ListKind) -> Result<Option<String>, VaxpassError> {
        Ok(self.0.list_etag(kind)?)
    }

    /// Reads the app's HTTP answer to a list request (`GET` base URL + `list_path(kind)`, with
    /// `list_etag(kind)` as `If-None-Match`): a 200 is applied and its ETag kept, a 304 keeps the
    /// list held, and 429, 503 or another 5xx gives the delay before trying again, from the
    /// server's `Retry-After` and `backoff`. Any other status throws.
    pub fn apply_fetched(
        &self,
        kind: ListKind,
        response: HttpResponse,
        backoff: Arc<Backoff>,
        now: SystemTime,
    ) -> Result<Fetched, VaxpassError> {
        let fetched =
            self.0
                .apply_fetched(kind, response.as_core()?, &mut backoff.lock(), time(now)?)?;
        Ok(fetched.into())
    }

    /// How current the lists held are at `now`, for the shop's status screen. In memory: no
    /// storage.
    pub fn freshness(&self, now: SystemTime) -> Result<Freshness, VaxpassError> {
        Ok(self.0.freshness(time(now)?).into())
    }

    /// Judges a scanned QR text. A pass that is not valid is a verdict, not an exception.
    /// Blocking: one indexed read of the SQLite file (the revocation list), and it waits for a
    /// list update in progress; call it off the main thread.
    pub fn verify(&self, text: String, now: SystemTime) -> Result<Verdict, VaxpassError> {
        Ok(self.0.verify(&text, time(now)?)?.into())
    }
}

pub(crate) fn root_key(bytes: Vec<u8>) -> Result<[u8; 32], VaxpassError> {
    bytes.try_into().map_err(|_| VaxpassError::InvalidArgument {
        detail: "a root public key is 32 bytes".into(),
    })
}
