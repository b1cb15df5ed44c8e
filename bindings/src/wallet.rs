//! The citizen's wallet.

use std::sync::Arc;
use std::time::SystemTime;

use crate::convert::{credential_id, time};
use crate::error::VaxpassError;
use crate::keys::{
    DeviceSigner, ForeignClock, ForeignProtector, ForeignSigner, KeyProtector, MonotonicClock,
};
use crate::qr::Shown;
use crate::sync::{Backoff, Fetched, HttpResponse, ListKind};
use crate::types::{Applied, PassStatus, PassSummary};
use crate::verifier::{root_key, TrustList};

/// The citizen's wallet: the device key and the passes, in its own SQLite file, and the
/// rotating QR codes. Safe to call from any thread; never touches the network.
#[derive(Debug, uniffi::Object)]
pub struct Wallet(vaxpass::Wallet);

#[uniffi::export]
impl Wallet {
    /// Opens or creates a wallet with a software Ed25519 device key. Pass the platform's key
    /// protector; without one the key is stored unwrapped (fine for tests, not for phones).
    /// The clock is the platform's monotonic clock: presentations are signed only at times the
    /// wallet can trust (see `presentation`).
    /// Blocking: opens (or creates) the SQLite file and calls the key protector; call it off the
    /// main thread.
    #[uniffi::constructor]
    pub fn open(
        path: String,
        key_protector: Option<Arc<dyn KeyProtector>>,
        clock: Arc<dyn MonotonicClock>,
    ) -> Result<Arc<Self>, VaxpassError> {
        let source = match key_protector {
            Some(protector) => {
                vaxpass::DeviceKeySource::Software(Arc::new(ForeignProtector(protector)))
            }
            None => vaxpass::DeviceKeySource::default(),
        };
        Self::with_clock(vaxpass::Wallet::open(path, source)?, clock)
    }

    /// Opens or creates a wallet whose device key is a platform key the app signs with.
    /// Blocking: opens (or creates) the SQLite file and asks the signer for its public key; call
    /// it off the main thread.
    #[uniffi::constructor]
    pub fn open_with_signer(
        path: String,
        signer: Arc<dyn DeviceSigner>,
        clock: Arc<dyn MonotonicClock>,
    ) -> Result<Arc<Self>, VaxpassError> {
        let source = vaxpass::DeviceKeySource::Platform(Arc::new(ForeignSigner(signer)));
        Self::with_clock(vaxpass::Wallet::open(path, source)?, clock)
    }

    /// Records that the real time is at least `time`, as the authority vouched for it: the
    /// `Date` of an answer from the issuer over its authenticated connection, or a verified
    /// list's `issued_at`. Importing with a trust list does this on its own.
    /// Blocking: reads or writes the wallet's SQLite file; call it off the main thread.
    pub fn observe_trusted_time(&self, time: SystemTime) -> Result<(), VaxpassError> {
        Ok(self.0.observe_trusted_time(crate::convert::time(time)?)?)
    }

    /// The device public key credentials are bound to: 32 bytes (Ed25519) or the 33-byte
    /// compressed SEC1 point (P-256), whatever form the signer gave.
    pub fn device_public_key(&self) -> Vec<u8> {
        self.0.device_key().as_bytes().to_vec()
    }

    /// The `nonce` of the OpenID Connect login that enrols this wallet with the issuer's
    /// enrolment nonce: it binds the ID token to that nonce and this device key (docs/format.md,
    /// "Identity proofs"). Send the token as `oidc_identity_proof(id_token)`.
    pub fn oidc_nonce(&self, nonce: Vec<u8>) -> String {
        vaxpass::enrolment::oidc_nonce(&nonce, self.0.device_key())
    }

    /// The enrolment request for the issuer's nonce, signed by the device key.
    /// Blocking: calls the device signer (which may wait for the user); call it off the main
    /// thread.
    pub fn enrolment_request(
        &self,
        nonce: Vec<u8>,
        identity_proof: Vec<u8>,
    ) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.enrolment_request(&nonce, &identity_proof)?)
    }

    /// Stores the credentials of an enrolment answer, all or none; with a trust list, each is
    /// checked as a verifier would.
    /// Named `import_passes`, not `import`: `import` is a keyword in Python and Swift.
    /// Blocking: reads or writes the wallet's SQLite file; call it off the main thread.
    pub fn import_passes(
        &self,
        issued: Vec<u8>,
        trust_list: Option<Arc<TrustList>>,
        now: SystemTime,
    ) -> Result<Vec<PassSummary>, VaxpassError> {
        let imported = self.0.import(
            &issued,
            trust_list.as_deref().map(TrustList::inner),
            time(now)?,
        )?;
        Ok(imported.into_iter().map(Into::into).collect())
    }

    /// The passes in the wallet, oldest first, for the app's list screen.
    /// Blocking: reads or writes the wallet's SQLite file; call it off the main thread.
    pub fn passes(&self) -> Result<Vec<PassSummary>, VaxpassError> {
        Ok(self.0.passes()?.into_iter().map(Into::into).collect())
    }

    /// A rotating presentation signed at `now` (the device clock); show a fresh one at
    /// `refresh_at`. Throws `ClockNotTrusted` when `now` is more than a few minutes ahead of the
    /// last trusted time carried forward by the monotonic clock (after a reboot: of the last
    /// trusted time the wallet stored), or when the wallet has seen no trusted time yet.
    /// Blocking: writes the wallet's SQLite file and calls the clock and the device signer (which
    /// may wait for the user); call it off the main thread.
    pub fn presentation(
        &self,
        pass_id: String,
        now: SystemTime,
    ) -> Result<Arc<Shown>, VaxpassError> {
        Ok(Shown::new(
            self.0.presentation(&credential_id(&pass_id)?, time(now)?)?,
        ))
    }

    /// The bare credential for printing; the shop will check an ID document.
    /// Blocking: reads or writes the wallet's SQLite file; call it off the main thread.
    pub fn paper(&self, pass_id: String) -> Result<Arc<Shown>, VaxpassError> {
        Ok(Shown::new(self.0.paper(&credential_id(&pass_id)?)?))
    }

    /// When to go online to renew the passes: a random moment between 01:00 and 05:00 local time
    /// (`utc_offset_minutes` east of UTC) in the month before the earliest pass expires, or as
    /// soon as possible off-peak if that is past; `None` without passes.
    pub fn next_renewal(
        &self,
        now: SystemTime,
        utc_offset_minutes: i32,
    ) -> Result<Option<SystemTime>, VaxpassError> {
        let renewal = self.0.next_renewal(time(now)?, utc_offset_minutes)?;
        Ok(renewal.map(crate::convert::system_time))
    }

    /// Offers signed rules-list bytes, checked against the authority's root public key: kept if
    /// newer than the list held. An older list throws `Rollback`, other content under the same
    /// sequence `Equivocation`, a forged one `ListRefused`, a newer format `UpdateRequired`.
    /// Blocking: reads or writes the wallet's SQLite file; call it off the main thread.
    pub fn apply_rules_list(
        &self,
        bytes: Vec<u8>,
        root_public_key: Vec<u8>,
    ) -> Result<Applied, VaxpassError> {
        self.0
            .apply_rules_list(&bytes, &root_key(root_public_key)?)
            .map(Into::into)
            .map_err(VaxpassError::from_list)
    }

    /// Reads the app's HTTP answer to a rules-list request (`listPath(ListKind.RULES)`, with
    /// `listEtag(ListKind.RULES)` as `If-None-Match`), as `Verifier.applyFetched` does. The
    /// wallet keeps only the rules list: another kind throws `InvalidArgument`.
    /// Blocking: reads or writes the wallet's SQLite file; call it off the main thread.
    pub fn apply_fetched(
        &self,
        kind: ListKind,
        response: HttpResponse,
        root_public_key: Vec<u8>,
        backoff: Arc<Backoff>,
        now: SystemTime,
    ) -> Result<Fetched, VaxpassError> {
        let fetched = self.0.apply_fetched(
            kind,
            response.as_core()?,
            &root_key(root_public_key)?,
            &mut backoff.lock(),
            time(now)?,
        )?;
        Ok(fetched.into())
    }

    /// The `ETag` of the rules list held (`None` for another kind), to send as `If-None-Match`.
    pub fn list_etag(&self, kind: ListKind) -> Result<Option<String>, VaxpassError> {
        Ok(self.0.list_etag(kind)?)
    }

    /// When a pass is valid under the rules list held, for venue mode `mode` (`None`: the rule
    /// set's first), seen from `now`: valid now (until when), valid from a date (the wait after
    /// the primary series), or not valid and why. Later rule sets in the list count.
    /// Blocking: reads the wallet's SQLite file; call it off the main thread.
    pub fn pass_status(
        &self,
        pass_id: String,
        mode: Option<String>,
        now: SystemTime,
    ) -> Result<PassStatus, VaxpassError> {
        let status = self
            .0
            .pass_status(&credential_id(&pass_id)?, mode.as_deref(), time(now)?)?;
        Ok(status.into())
    }

    /// Removes a pass; `false` if there was none.
    /// Blocking: reads or writes the wallet's SQLite file; call it off the main thread.
    pub fn remove(&self, pass_id: String) -> Result<bool, VaxpassError> {
        Ok(self.0.remove(&credential_id(&pass_id)?)?)
    }
}

impl Wallet {
    fn with_clock(
        wallet: vaxpass::Wallet,
        clock: Arc<dyn MonotonicClock>,
    ) -> Result<Arc<Self>, VaxpassError> {
        Ok(Arc::new(Self(
            wallet.with_clock(Arc::new(ForeignClock(clock))),
        )))
    }
}
