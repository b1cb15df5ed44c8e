//! The things an app plugs in: a key protector (Android Keystore, iOS Keychain) for the software
//! device key, a device signer for a platform P-256 key (Secure Enclave, StrongBox), and the
//! platform's monotonic clock. Each is a foreign trait adapted to the core's trait of the same
//! name.

use std::sync::Arc;
use std::time::Duration;

use crate::error::VaxpassError;
use crate::time_span::TimeSpan;

/// Wraps and unwraps the wallet's software device key before it is stored.
#[uniffi::export(with_foreign)]
pub trait KeyProtector: Send + Sync {
    /// Wraps the 32-byte secret (e.g. with an Android Keystore or Keychain key); the result is
    /// stored as is.
    fn wrap(&self, secret: Vec<u8>) -> Result<Vec<u8>, VaxpassError>;
    /// Unwraps what `wrap` returned, when the wallet opens.
    fn unwrap(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, VaxpassError>;
}

/// Signs presentations with a platform key.
#[uniffi::export(with_foreign)]
pub trait DeviceSigner: Send + Sync {
    /// SEC1 P-256 point (65 bytes uncompressed or 33 compressed), or a 32-byte Ed25519 key.
    fn public_key(&self) -> Result<Vec<u8>, VaxpassError>;
    /// ES256: ECDSA P-256 over SHA-256 of `message`, as 64 bytes `r || s` (IEEE P1363, not DER).
    /// Ed25519: the 64-byte signature of `message`.
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, VaxpassError>;
}

/// The platform's monotonic clock, which the wallet carries its last trusted time forward with
/// (it signs no presentation ahead of that time by more than a few minutes). It must count deep
/// sleep and must not be settable by the user: Android `SystemClock.elapsedRealtime()`, iOS
/// `clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW)` (not `ProcessInfo.systemUptime`, which stops
/// while the phone sleeps), Linux `CLOCK_BOOTTIME`.
#[uniffi::export(with_foreign)]
pub trait MonotonicClock: Send + Sync {
    /// Time since the device booted. Called on the thread of the wallet call that needs it; it
    /// should return at once.
    fn elapsed_since_boot(&self) -> Result<TimeSpan, VaxpassError>;
}

/// An ES256 signer whose key lives in software: for tests and hosts without secure hardware
/// (Swift on Linux has no P-256 in Foundation). Phones should use their platform key.
#[uniffi::export]
pub fn software_p256_signer() -> Arc<dyn DeviceSigner> {
    Arc::new(CoreSigner(vaxpass::SoftwareP256Signer::generate()))
}

struct CoreSigner<S>(S);

impl<S: vaxpass::DeviceSigner> DeviceSigner for CoreSigner<S> {
    fn public_key(&self) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.public_key()?.as_bytes().to_vec())
    }
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.sign(&message)?)
    }
}

/// The app's protector, seen by the core.
pub(crate) struct ForeignProtector(pub Arc<dyn KeyProtector>);

impl vaxpass::KeyProtector for ForeignProtector {
    fn wrap(&self, secret: Vec<u8>) -> vaxpass::Result<Vec<u8>> {
        self.0
            .wrap(secret)
            .map_err(|e| from_app(e, vaxpass::Error::KeyProtection))
    }
    fn unwrap(&self, wrapped: Vec<u8>) -> vaxpass::Result<Vec<u8>> {
        self.0
            .unwrap(wrapped)
            .map_err(|e| from_app(e, vaxpass::Error::KeyProtection))
    }
}

/// An error an app callback threw, for the core: what the callback declares (`declared`, e.g.
/// the key protector failed) keeps its message; an exception of another type, which uniffi hands
/// over as `Internal`, stays internal, so the app is told of a bug rather than to re-enrol.
fn from_app(error: VaxpassError, declared: fn(String) -> vaxpass::Error) -> vaxpass::Error {
    match error {
        VaxpassError::Internal { .. } => {
            vaxpass::Error::Internal("an app callback threw an unexpected exception")
        }
        other => declared(other.to_string()),
    }
}

/// The app's clock, seen by the core.
pub(crate) struct ForeignClock(pub Arc<dyn MonotonicClock>);

impl vaxpass::MonotonicClock for ForeignClock {
    fn elapsed_since_boot(&self) -> vaxpass::Result<Duration> {
        self.0
            .elapsed_since_boot()
            .and_then(TimeSpan::to_std)
            .map_err(|e| {
                from_app(e, |e| {
                    vaxpass::Error::InvalidArgument(format!("the monotonic clock: {e}"))
                })
            })
    }
}

/// The app's signer, seen by the core.
pub(crate) struct ForeignSigner(pub Arc<dyn DeviceSigner>);

impl vaxpass::DeviceSigner for ForeignSigner {
    fn public_key(&self) -> vaxpass::Result<vaxpass::DevicePublicKey> {
        let bytes = self
            .0
            .public_key()
            .map_err(|e| from_app(e, vaxpass::Error::Signer))?;
        vaxpass::DevicePublicKey::from_bytes(&bytes)
    }
    fn sign(&self, message: &[u8]) -> vaxpass::Result<Vec<u8>> {
        self.0
            .sign(message.to_vec())
            .map_err(|e| from_app(e, vaxpass::Error::Signer))
    }
}
