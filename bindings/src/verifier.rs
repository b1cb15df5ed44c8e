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
        let root = root_key(root_public_key)?;
        let list = vaxpass::TrustList::verify(&bytes, &root).map_err(VaxpassError::from_list)?;
        Ok(Arc::new(Self(list)))
    }

    pub fn sequence(&self) -> u64 {
        self.0.sequence
    }

    /// When the authority signed this list: a time to pass to `Wallet.observe_trusted_time`.
    pub fn issued_at(&self) -> SystemTime {
        crate::convert::system_time(self.0.issued_at)
    }
}

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

    pub fn apply_trust_list(
        &self,
        bytes: Vec<u8>,
        now: SystemTime,
    ) -> Result<Applied, VaxpassError> {
        self.0
            .apply_trust_list(&bytes, time(now)?)
            .map_err(VaxpassError::from_list)
    }

    pub fn apply_revocation_list(
        &self,
        bytes: Vec<u8>,
        now: SystemTime,
    ) -> Result<Applied, VaxpassError> {
        self.0
            .apply_revocation_list(&bytes, time(now)?)
            .map_err(VaxpassError::from_list)
    }

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
