//! The shop's verifier, and the trust list as a checked object.

use std::sync::Arc;
use std::time::SystemTime;

use crate::check_log::{ChainHead, Counters, LogStatus};
use crate::convert::{sequence, time};
use crate::error::VaxpassError;
use crate::keys::{DeviceSigner, ForeignProtector, ForeignSigner, KeyProtector};
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
    /// Opens or creates the shop's store, pinned to the authority's root key. The shop key that
    /// signs the check log's reports and anchors is generated in the store on first use and kept
    /// as is (`openWithShopKeyProtector` wraps it, `openWithShopSigner` uses a platform key).
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

    /// Opens or creates the shop's store, as `open`, with the shop key (which signs the check
    /// log's reports and anchors) stored wrapped by `key_protector` (Android Keystore, iOS
    /// Keychain); `open` stores it as is, protected only by the app sandbox.
    /// Blocking: opens (or creates) the SQLite file; call it off the main thread.
    #[uniffi::constructor]
    pub fn open_with_shop_key_protector(
        path: String,
        root_public_key: Vec<u8>,
        config: VerifierConfig,
        key_protector: Arc<dyn KeyProtector>,
    ) -> Result<Arc<Self>, VaxpassError> {
        let source = vaxpass::DeviceKeySource::Software(Arc::new(ForeignProtector(key_protector)));
        let verifier =
            vaxpass::Verifier::open(path, root_key(root_public_key)?, config.try_into()?)?;
        Ok(Arc::new(Self(verifier.with_shop_key(source))))
    }

    /// Opens or creates the shop's store, as `open`, with a platform key (Secure Enclave,
    /// StrongBox) as the shop key: the same foreign trait as the wallet's device key.
    /// Blocking: opens (or creates) the SQLite file; call it off the main thread.
    #[uniffi::constructor]
    pub fn open_with_shop_signer(
        path: String,
        root_public_key: Vec<u8>,
        config: VerifierConfig,
        signer: Arc<dyn DeviceSigner>,
    ) -> Result<Arc<Self>, VaxpassError> {
        let source = vaxpass::DeviceKeySource::Platform(Arc::new(ForeignSigner(signer)));
        let verifier =
            vaxpass::Verifier::open(path, root_key(root_public_key)?, config.try_into()?)?;
        Ok(Arc::new(Self(verifier.with_shop_key(source))))
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

    /// Judges a scanned QR text and appends the verdict to the check log; it returns only once
    /// the entry is committed. A pass that is not valid is a verdict, not an exception.
    /// Blocking: one indexed read of the SQLite file (the revocation list) and one committed
    /// write (the log), and it waits for a list update in progress; call it off the main thread.
    pub fn verify(&self, text: String, now: SystemTime) -> Result<Verdict, VaxpassError> {
        Ok(self.0.verify(&text, time(now)?)?.into())
    }

    /// Scans this hour and today (in the policy's time zone), valid and refused by reason, from
    /// the check log's running totals: cheap enough to refresh on every scan.
    /// Blocking: a few rows of the SQLite file; call it off the main thread.
    pub fn check_counters(&self, now: SystemTime) -> Result<Counters, VaxpassError> {
        Ok(self.0.check_counters(time(now)?)?.into())
    }

    /// Whether the check log is whole: walks every entry. A damaged log is reported, not
    /// repaired, and verifying goes on regardless.
    /// Blocking: reads the whole log; call it off the main thread.
    pub fn check_log_status(&self) -> Result<LogStatus, VaxpassError> {
        Ok(self.0.check_log_status()?.into())
    }

    /// The check log's head as committed.
    /// Blocking: reads the SQLite file; call it off the main thread.
    pub fn check_log_head(&self) -> Result<ChainHead, VaxpassError> {
        Ok(self.0.check_log_head()?.into())
    }

    /// The check log's head signed by the shop key at `now`: the anchor to post to the
    /// authority (`anchorPath()`) whenever the app syncs, so that cutting the newest entries
    /// later is detected. 32 bytes, a count and a time, signed: no personal data.
    /// Blocking: reads the SQLite file and signs; call it off the main thread.
    pub fn anchor(&self, now: SystemTime) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.anchor(time(now)?)?)
    }

    /// Exports the verdicts from `from` to `to` (inclusive) as a report signed by the shop key,
    /// for an inspector to check offline with `verifyReport`.
    /// Blocking: reads the log and signs; call it off the main thread.
    pub fn export_report(
        &self,
        from: SystemTime,
        to: SystemTime,
        now: SystemTime,
    ) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.export_report(time(from)?, time(to)?, time(now)?)?)
    }

    /// The shop key's public key (32 bytes Ed25519, or 33 bytes P-256): what an inspector
    /// expects this shop's reports to be signed by.
    /// Blocking: may load (or create) the key; call it off the main thread.
    pub fn shop_public_key(&self) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.shop_public_key()?)
    }

    /// Cuts the entries older than the retention (`VerifierConfig.logRetention`) before `now`,
    /// leaving a checkpoint signed by the shop key so that the rest still verifies. Returns how
    /// many entries were cut.
    /// Blocking: writes the SQLite file; call it off the main thread.
    pub fn prune_check_log(&self, now: SystemTime) -> Result<i64, VaxpassError> {
        let cut = self.0.prune_check_log(time(now)?)?;
        Ok(i64::try_from(cut).unwrap_or(i64::MAX))
    }
}

pub(crate) fn root_key(bytes: Vec<u8>) -> Result<[u8; 32], VaxpassError> {
    bytes.try_into().map_err(|_| VaxpassError::InvalidArgument {
        detail: "a root public key is 32 bytes".into(),
    })
}
