//! The authority's keys in a hardware security module: a [`KeyVault`] over PKCS#11 (any token
//! with Ed25519, e.g. a network HSM's module, or SoftHSM2 for trying it).
//!
//! Keys are generated inside the token as token objects (`CKM_EC_EDWARDS_KEY_PAIR_GEN`,
//! Ed25519); the private key is sensitive and never extractable, so only public keys and
//! signatures ever leave it. A private key is found by `CKA_ID`, which holds its public key.
//! Signing uses `CKM_EDDSA` (pure Ed25519). Sessions come from a small pool, so concurrent batches
//! sign in parallel, and [`KeyVault::sign_all`] signs a whole batch on one session checkout.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use vaxpass::keys::verify_ed25519;
use vaxpass::KeyVault;

/// `CKA_EC_PARAMS` for Ed25519: the DER of the object identifier 1.3.101.112 (RFC 8410).
const ED25519_PARAMS: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];
/// The label given to the objects this vault generates, for operators listing the token.
const LABEL: &[u8] = b"vaxpass authority";
/// Sessions kept open at most when no size is configured.
pub const DEFAULT_SESSIONS: u16 = 4;
/// The fewest signatures worth a session of their own when a batch is split.
const MIN_PER_SESSION: usize = 32;

/// The environment variable holding the token's user PIN, unless `--hsm-pin-file` is given.
pub const PIN_VARIABLE: &str = "VAXPASS_HSM_PIN";

/// The command line's choice of where the authority's keys live: the key file (the default), or
/// the token named by `--hsm-module` and `--hsm-token`. The PIN never is a flag's value: it comes
/// from `VAXPASS_HSM_PIN` or the file `--hsm-pin-file`.
#[derive(Debug, Clone, clap::Args)]
pub struct HsmArgs {
    /// The PKCS#11 module (shared library) of the HSM holding the authority's keys; without it
    /// the keys are in the key file.
    #[arg(
        long,
        env = "VAXPASS_HSM_MODULE",
        global = true,
        requires = "hsm_token"
    )]
    pub hsm_module: Option<PathBuf>,
    /// The label of the token holding the authority's keys.
    #[arg(
        long,
        env = "VAXPASS_HSM_TOKEN",
        global = true,
        requires = "hsm_module"
    )]
    pub hsm_token: Option<String>,
    /// A file whose first line is the token's user PIN (default: the VAXPASS_HSM_PIN variable).
    #[arg(long, env = "VAXPASS_HSM_PIN_FILE", global = true)]
    pub hsm_pin_file: Option<PathBuf>,
    /// The most token sessions open at once; a large batch signs on several in parallel.
    #[arg(long, env = "VAXPASS_HSM_SESSIONS", default_value_t = DEFAULT_SESSIONS, global = true,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub hsm_sessions: u16,
}

impl HsmArgs {
    /// The token's configuration, or `None` when the keys are in the key file.
    pub fn config(&self) -> Result<Option<HsmConfig>, HsmError> {
        let (Some(module), Some(token)) = (&self.hsm_module, &self.hsm_token) else {
            return Ok(None);
        };
        let pin = match &self.hsm_pin_file {
            Some(path) => Pin::from_file(path)?,
            None => Pin::from_env(PIN_VARIABLE)?,
        };
        Ok(Some(HsmConfig {
            module: module.clone(),
            token: token.clone(),
            pin,
            sessions: usize::from(self.hsm_sessions),
        }))
    }
}

/// The vault the authority's keys are in, from the command line: `None` for the key file, or the
/// token, opened and logged in to (so a wrong module, label or PIN fails at start).
pub fn key_vault(args: &HsmArgs) -> Result<Option<Arc<dyn KeyVault>>, HsmError> {
    match args.config()? {
        None => Ok(None),
        Some(config) => Ok(Some(Arc::new(Pkcs11Vault::open(config)?))),
    }
}

/// Where the token is and how to log in to it. `Debug` does not show the PIN.
#[derive(Clone)]
pub struct HsmConfig {
    /// The vendor's PKCS#11 module (a shared library).
    pub module: PathBuf,
    /// The label of the token holding the authority's keys.
    pub token: String,
    /// The token's user PIN.
    pub pin: Pin,
    /// The most sessions open at once (the pool's size); at least 1.
    pub sessions: usize,
}

impl fmt::Debug for HsmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmConfig")
            .field("module", &self.module)
            .field("token", &self.token)
            .field("pin", &self.pin)
            .field("sessions", &self.sessions)
            .finish()
    }
}

/// A token's user PIN, read from the environment or a file, never from a flag's value (which
/// would show in the process list). `Debug` shows nothing of it.
#[derive(Clone)]
pub struct Pin(AuthPin);

impl Pin {
    /// The PIN in environment variable `name`.
    pub fn from_env(name: &str) -> Result<Self, HsmError> {
        let value = std::env::var(name).map_err(|_| HsmError::NoPin)?;
        Self::new(value)
    }

    /// The PIN in the first line of `path` (the rest of the file is ignored).
    pub fn from_file(path: &Path) -> Result<Self, HsmError> {
        let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            HsmError::PinFile {
                path: path.to_owned(),
                why: e.kind().to_string(),
            }
        })?);
        Self::new(text.lines().next().unwrap_or_default().to_owned())
    }

    fn new(value: String) -> Result<Self, HsmError> {
        let value = zeroize::Zeroizing::new(value);
        if value.is_empty() || value.len() > 255 {
            return Err(HsmError::NoPin);
        }
        Ok(Self(AuthPin::from(value.as_str())))
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// What can go wrong with the token. Messages name the operation and the PKCS#11 return code,
/// never the PIN.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HsmError {
    /// The module could not be loaded or initialised.
    #[error("cannot load the PKCS#11 module {path}: {why}")]
    Module { path: PathBuf, why: String },
    /// No slot holds a token with that label.
    #[error("no token labelled {0:?} in the PKCS#11 module")]
    NoToken(String),
    /// The token refused the PIN.
    #[error("the token refused the PIN (incorrect)")]
    WrongPin,
    /// The token locked the PIN after too many wrong tries.
    #[error("the token's user PIN is locked")]
    PinLocked,
    /// No PIN was given, or it is empty or too long.
    #[error("no token PIN: set VAXPASS_HSM_PIN or give --hsm-pin-file (1 to 255 bytes)")]
    NoPin,
    /// The PIN file could not be read.
    #[error("cannot read the PIN file {path}: {why}")]
    PinFile { path: PathBuf, why: String },
    /// The token holds no private key for that public key.
    #[error("the token holds no private key for that public key")]
    NotFound,
    /// The token holds several private keys with the same id: refused rather than guessed.
    #[error("the token holds several private keys for one public key")]
    Ambiguous,
    /// The token returned a public key or signature of the wrong form, or a key whose signature
    /// does not verify against the public key it is filed under.
    #[error("the token returned an invalid {0}")]
    Invalid(&'static str),
    /// Any other PKCS#11 failure.
    #[error("PKCS#11 {op} failed: {why}")]
    Pkcs11 { op: &'static str, why: String },
}

impl HsmError {
    fn pkcs11(op: &'static str) -> impl FnOnce(CkError) -> Self {
        move |e| match e {
            CkError::Pkcs11(RvError::PinIncorrect, _) => Self::WrongPin,
            CkError::Pkcs11(RvError::PinLocked, _) => Self::PinLocked,
            CkError::Pkcs11(rv, _) => Self::Pkcs11 {
                op,
                why: format!("{rv:?}"),
            },
            other => Self::Pkcs11 {
                op,
                why: other.to_string(),
            },
        }
    }
}

impl From<HsmError> for vaxpass::Error {
    fn from(e: HsmError) -> Self {
        match e {
            HsmError::NotFound => vaxpass::Error::NotFound("private key in the token"),
            other => vaxpass::Error::Signer(format!("hardware security module: {other}")),
        }
    }
}

/// Ed25519 keys in a PKCS#11 token. Safe to share between threads.
pub struct Pkcs11Vault {
    pkcs11: Pkcs11,
    slot: Slot,
    config: HsmConfig,
    pool: Mutex<Pool>,
    returned: Condvar,
}

struct Pool {
    idle: Vec<Pooled>,
    open: usize,
}

/// A logged-in session and the private key handles it found, by public key, each checked once to
/// sign for its public key.
struct Pooled {
    session: Session,
    keys: HashMap<[u8; 32], ObjectHandle>,
}

impl fmt::Debug for Pkcs11Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Vault")
            .field("module", &self.config.module)
            .field("token", &self.config.token)
            .field("sessions", &self.config.sessions)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Vault {
    /// Loads the module, finds the token by label and logs in once (checking the PIN now, not at
    /// the first enrolment).
    pub fn open(config: HsmConfig) -> Result<Self, HsmError> {
        let module_error = |why: String| HsmError::Module {
            path: config.module.clone(),
            why,
        };
        let pkcs11 = Pkcs11::new(&config.module).map_err(|e| module_error(e.to_string()))?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(module_error(e.to_string())),
        }
        let mut slot = None;
        for candidate in pkcs11
            .get_slots_with_initialized_token()
            .map_err(HsmError::pkcs11("C_GetSlotList"))?
        {
            let info = pkcs11
                .get_token_info(candidate)
                .map_err(HsmError::pkcs11("C_GetTokenInfo"))?;
            if info.label() == config.token {
                slot = Some(candidate);
                break;
            }
        }
        let slot = slot.ok_or_else(|| HsmError::NoToken(config.token.clone()))?;
        let vault = Self {
            pkcs11,
            slot,
            config: HsmConfig {
                sessions: config.sessions.max(1),
                ..config
            },
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        };
        vault.with_session(|_| Ok(()))?;
        Ok(vault)
    }

    /// Runs `work` on a logged-in session checked out of the pool: an idle one, a new one if
    /// fewer than the pool's size are open, or the next one returned. A session whose work failed
    /// in PKCS#11 is closed rather than returned, in case the failure broke it.
    fn with_session<T>(
        &self,
        work: impl FnOnce(&mut Pooled) -> Result<T, HsmError>,
    ) -> Result<T, HsmError> {
        let session = {
            let mut pool = self.lock_pool();
            loop {
                if let Some(session) = pool.idle.pop() {
                    break Ok(session);
                }
                if pool.open < self.config.sessions {
                    pool.open += 1;
                    break Err(());
                }
                pool = self
                    .returned
                    .wait(pool)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let mut session = match session {
            Ok(idle) => idle,
            Err(()) => match self.open_session() {
                Ok(new) => Pooled {
                    session: new,
                    keys: HashMap::new(),
                },
                Err(e) => {
                    self.lock_pool().open -= 1;
                    self.returned.notify_one();
                    return Err(e);
                }
            },
        };
        let result = work(&mut session);
        let mut pool = self.lock_pool();
        if matches!(result, Err(HsmError::Pkcs11 { .. })) {
            pool.open -= 1;
            drop(pool);
            drop(session);
        } else {
            pool.idle.push(session);
            drop(pool);
        }
        self.returned.notify_one();
        result
    }

    fn open_session(&self) -> Result<Session, HsmError> {
        let session = self
            .pkcs11
            .open_rw_session(self.slot)
            .map_err(HsmError::pkcs11("C_OpenSession"))?;
        // Login is per application and token: the first session logs in, later ones find it done.
        match session.login(UserType::User, Some(&self.config.pin.0)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(e) => Err(HsmError::pkcs11("C_Login")(e)),
        }
    }

    fn lock_pool(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Generates an Ed25519 key pair as token objects and files both under `CKA_ID` = the public
    /// key. Returns the public key.
    pub fn generate_key(&self) -> Result<[u8; 32], HsmError> {
        self.with_session(|pooled| generate(&pooled.session))
    }

    /// Signs each message with the private key of `public_key`. A large batch is split over the
    /// pool's sessions and signed in parallel, one session checkout per part: a token signs on
    /// several sessions at once (a network HSM on several of its cores), and a batch would
    /// otherwise wait for its signatures one by one.
    pub fn sign_messages(
        &self,
        public_key: &[u8; 32],
        messages: &[Vec<u8>],
    ) -> Result<Vec<[u8; 64]>, HsmError> {
        let parts = (messages.len() / MIN_PER_SESSION).clamp(1, self.config.sessions);
        if parts == 1 {
            return self.sign_on_one_session(public_key, messages);
        }
        let per_part = messages.len().div_ceil(parts);
        std::thread::scope(|scope| {
            let parts: Vec<_> = messages
                .chunks(per_part)
                .map(|part| scope.spawn(move || self.sign_on_one_session(public_key, part)))
                .collect();
            let mut signatures = Vec::with_capacity(messages.len());
            for part in parts {
                let signed = part
                    .join()
                    .map_err(|_| HsmError::Invalid("signature (a signing thread failed)"))??;
                signatures.extend(signed);
            }
            Ok(signatures)
        })
    }

    fn sign_on_one_session(
        &self,
        public_key: &[u8; 32],
        messages: &[Vec<u8>],
    ) -> Result<Vec<[u8; 64]>, HsmError> {
        self.with_session(|pooled| {
            let key = signing_key(pooled, public_key)?;
            let signed = messages
                .iter()
                .map(|message| sign(&pooled.session, key, message))
                .collect::<Result<Vec<_>, _>>();
            if signed.is_err() {
                // The handle may be stale (the key deleted, the token re-inserted): look again.
                pooled.keys.remove(public_key);
            }
            signed
        })
    }
}

/// The handle of the private key of `public_key`: the token object filed under `CKA_ID` = that
/// public key, found once per session and checked once to sign for it.
fn signing_key(pooled: &mut Pooled, public_key: &[u8; 32]) -> Result<ObjectHandle, HsmError> {
    if let Some(handle) = pooled.keys.get(public_key) {
        return Ok(*handle);
    }
    let session = &pooled.session;
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Token(true),
            Attribute::Id(public_key.to_vec()),
        ])
        .map_err(HsmError::pkcs11("C_FindObjects"))?;
    let key = match found.as_slice() {
        [] => return Err(HsmError::NotFound),
        [key] => *key,
        _ => return Err(HsmError::Ambiguous),
    };
    // A key filed under the wrong id would sign what no verifier accepts: check it once.
    let probe = b"vaxpass: does this key sign for its id?";
    let signature = sign(session, key, probe)?;
    verify_ed25519(public_key, probe, &signature).map_err(|_| {
        HsmError::Invalid("key: it does not sign for the public key it is filed under")
    })?;
    pooled.keys.insert(*public_key, key);
    Ok(key)
}

impl KeyVault for Pkcs11Vault {
    fn generate(&self) -> vaxpass::Result<[u8; 32]> {
        Ok(self.generate_key()?)
    }

    fn sign(&self, public_key: &[u8; 32], message: &[u8]) -> vaxpass::Result<[u8; 64]> {
        let mut signatures = self.sign_messages(public_key, &[message.to_vec()])?;
        signatures
            .pop()
            .ok_or_else(|| HsmError::Invalid("signature").into())
    }

    fn sign_all(
        &self,
        public_key: &[u8; 32],
        messages: &[Vec<u8>],
    ) -> vaxpass::Result<Vec<[u8; 64]>> {
        Ok(self.sign_messages(public_key, messages)?)
    }
}

fn generate(session: &Session) -> Result<[u8; 32], HsmError> {
    let public_template = [
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::EcParams(ED25519_PARAMS.to_vec()),
        Attribute::Label(LABEL.to_vec()),
    ];
    let private_template = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Label(LABEL.to_vec()),
    ];
    let (public, private) = session
        .generate_key_pair(
            &Mechanism::EccEdwardsKeyPairGen,
            &public_template,
            &private_template,
        )
        .map_err(HsmError::pkcs11("C_GenerateKeyPair"))?;
    let filed = public_key_of(session, public).and_then(|key| {
        for object in [public, private] {
            session
                .update_attributes(object, &[Attribute::Id(key.to_vec())])
                .map_err(HsmError::pkcs11("C_SetAttributeValue"))?;
        }
        Ok(key)
    });
    if filed.is_err() {
        // Leave no unfiled key behind.
        let _ = session.destroy_object(private);
        let _ = session.destroy_object(public);
    }
    filed
}

/// The 32 bytes of an Ed25519 public key object's `CKA_EC_POINT`: PKCS#11 3.0 says raw, SoftHSM2
/// and others wrap it in a DER OCTET STRING (`04 20 …`); both are accepted.
fn public_key_of(session: &Session, public: ObjectHandle) -> Result<[u8; 32], HsmError> {
    let attributes = session
        .get_attributes(public, &[cryptoki::object::AttributeType::EcPoint])
        .map_err(HsmError::pkcs11("C_GetAttributeValue"))?;
    let point = attributes
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcPoint(point) => Some(point),
            _ => None,
        })
        .ok_or(HsmError::Invalid("public key (no CKA_EC_POINT)"))?;
    ed25519_point(&point)
}

/// An Ed25519 `CKA_EC_POINT`, raw or DER-wrapped, as its 32 bytes.
fn ed25519_point(point: &[u8]) -> Result<[u8; 32], HsmError> {
    let raw = match point {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest,
        raw => raw,
    };
    raw.try_into()
        .map_err(|_| HsmError::Invalid("public key (CKA_EC_POINT is not 32 bytes)"))
}

fn sign(session: &Session, key: ObjectHandle, message: &[u8]) -> Result<[u8; 64], HsmError> {
    let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
    session
        .sign(&mechanism, key, message)
        .map_err(HsmError::pkcs11("C_Sign"))?
        .try_into()
        .map_err(|_| HsmError::Invalid("signature (not 64 bytes)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ec_point_is_read_raw_or_der_wrapped_and_nothing_else() {
        let key = [7u8; 32];
        assert_eq!(ed25519_point(&key).unwrap(), key);
        let wrapped = [&[0x04, 0x20][..], &key].concat();
        assert_eq!(ed25519_point(&wrapped).unwrap(), key);
        for bad in [
            &wrapped[..33],
            &[0x04, 0x21, 1][..],
            &[0u8; 33][..],
            &[][..],
        ] {
            assert!(matches!(ed25519_point(bad), Err(HsmError::Invalid(_))));
        }
    }

    #[test]
    fn a_pin_is_never_shown_and_an_empty_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pin");
        std::fs::write(&file, "1234-secret\nignored\n").unwrap();
        let pin = Pin::from_file(&file).unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
        std::fs::write(&file, "\n").unwrap();
        assert!(matches!(Pin::from_file(&file), Err(HsmError::NoPin)));
        let missing = Pin::from_file(&dir.path().join("absent")).unwrap_err();
        assert!(matches!(missing, HsmError::PinFile { .. }), "{missing:?}");
    }
}
