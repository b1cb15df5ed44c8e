//! The shop's verifier, and the trust list as a checked object.

use std::sync::Arc;
use std::time::SystemTime;

use crate::convert::time;
use crate::error::VaxpassError;
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
    /// Verifies signed trust-list bytes against the authority's root public key.
    #[uniffi::constructor]
    pub fn verify(bytes: Vec<u8>, root_public_key: Vec<u8>) -> Result<Arc<Self>, VaxpassError> {
        Ok(Arc::new(Self(vaxpass::TrustList::verify(
            &bytes,
            &root_key(root_public_key)?,
        )?)))
    }

    /// The list's sequence number.
    pub fn sequence(&self) -> u64 {
        self.0.sequence
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
    #[uniffi::constructor]
    pub fn open(
        path: String,
        root_public_key: Vec<u8>,
        config: VerifierConfig,
    ) -> Result<Arc<Self>, VaxpassError> {
        Ok(Arc::new(Self(vaxpass::Verifier::open(
            path,
            root_key(root_public_key)?,
            config.try_into()?,
        )?)))
    }

    /// Offers signed trust-list bytes: held if they verify against the pinned root key and are
    /// newer than the list held. An older list throws `Rollback`, other content under the same
    /// sequence `Equivocation`, a forged one `BadSignature`.
    pub fn apply_trust_list(
        &self,
        bytes: Vec<u8>,
        now: SystemTime,
    ) -> Result<Applied, VaxpassError> {
        Ok(self.0.apply_trust_list(&bytes, time(now)?)?)
    }

    /// Offers signed revocation-list bytes, under the same rules as `applyTrustList`.
    pub fn apply_revocation_list(
        &self,
        bytes: Vec<u8>,
        now: SystemTime,
    ) -> Result<Applied, VaxpassError> {
        Ok(self.0.apply_revocation_list(&bytes, time(now)?)?)
    }

    /// How current the lists are at `now`, for the shop's status screen.
    pub fn freshness(&self, now: SystemTime) -> Result<Freshness, VaxpassError> {
        Ok(self.0.freshness(time(now)?).into())
    }

    /// Judges a scanned QR text. A pass that is not valid is a verdict, not an exception.
    pub fn verify(&self, text: String, now: SystemTime) -> Result<Verdict, VaxpassError> {
        Ok(self.0.verify(&text, time(now)?)?.into())
    }
}

fn root_key(bytes: Vec<u8>) -> Result<[u8; 32], VaxpassError> {
    bytes.try_into().map_err(|_| VaxpassError::InvalidArgument {
        detail: "a root public key is 32 bytes".into(),
    })
}
