//! The authority as the service runs it: the core signer ([`vaxpass::Authority`]) over the vault
//! that holds the private keys ([`open_vault`]), and the issuer keys as the store of record holds
//! them. Each replica re-reads the keys every list-reload interval, and at once when the store
//! refuses a batch signed with a key that is no longer active, so a rotation or compromise made
//! through any replica is used by all without a restart.

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Utc};
use vaxpass::keys::Kid;
use vaxpass::{Authority, IssueRequest, Issued, IssuerKey, KeyFile, KeyVault, SigningKey};

use crate::hsm::{HsmConfig, Pkcs11Vault};
use crate::ops::OpsError;
use crate::store::{AuthorityRecord, Resign, SignedCredential, Store, StoreError};

/// The vault holding the authority's private keys: the PKCS#11 token of `hsm` when one is
/// configured, else the key file at `key_file` (made when `create`). The one place where the
/// service chooses where its private keys live.
pub fn open_vault(
    key_file: &Path,
    hsm: Option<&HsmConfig>,
    create: bool,
) -> Result<Arc<dyn KeyVault>, OpsError> {
    if let Some(hsm) = hsm {
        let vault = Pkcs11Vault::open(hsm.clone())
            .map_err(|e| OpsError::Vault(format!("opening the token: {e}")))?;
        return Ok(Arc::new(vault));
    }
    let vault = if create {
        KeyFile::create(key_file)
    } else {
        KeyFile::open(key_file)
    };
    Ok(Arc::new(vault.map_err(|e| {
        OpsError::Vault(format!(
            "opening the key file {}: {e} (run `vaxpass-issuer init` first)",
            key_file.display()
        ))
    })?))
}

/// The signer and the active issuer key, shared by the handlers, the batcher and the admin API.
/// One lock, held only to copy the active key in or out.
#[derive(Debug)]
pub struct ServiceAuthority {
    signer: Authority,
    store: Arc<dyn Store>,
    active: RwLock<Option<SigningKey>>,
}

impl ServiceAuthority {
    /// The authority the store holds, signing through `vault`.
    pub async fn open(store: Arc<dyn Store>, vault: Arc<dyn KeyVault>) -> Result<Self, OpsError> {
        let record = store.authority().await?.ok_or(OpsError::Invalid(
            "the store holds no authority yet: run `vaxpass-issuer init`",
        ))?;
        Self::from_record(store, vault, record).await
    }

    /// Creates the authority in the store (a root key and a first issuer key, generated in the
    /// vault) unless the store already holds one, which is kept. `true` if it was created.
    pub async fn init(
        store: Arc<dyn Store>,
        vault: Arc<dyn KeyVault>,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> Result<(Self, bool), OpsError> {
        if let Some(record) = store.authority().await? {
            return Ok((Self::from_record(store, vault, record).await?, false));
        }
        let root_public_key = blocking({
            let vault = vault.clone();
            move || vault.generate()
        })
        .await?;
        let signer = Authority::new(issuer, root_public_key, vault)?;
        let first_key = blocking({
            let signer = signer.clone();
            move || signer.new_issuer_key(now)
        })
        .await?;
        let record = AuthorityRecord {
            issuer: issuer.to_owned(),
            root_public_key,
        };
        store.init_authority(record, first_key).await?;
        let authority = Self {
            signer,
            store,
            active: RwLock::new(None),
        };
        authority.reload_keys().await?;
        Ok((authority, true))
    }

    async fn from_record(
        store: Arc<dyn Store>,
        vault: Arc<dyn KeyVault>,
        record: AuthorityRecord,
    ) -> Result<Self, OpsError> {
        let signer = Authority::new(&record.issuer, record.root_public_key, vault.clone())?;
        // A vault without this authority's root key would fail at the first publication.
        blocking(move || vault.sign(&record.root_public_key, b"vaxpass vault check"))
            .await
            .map_err(|_| {
                OpsError::Vault("the vault does not hold this authority's root key".into())
            })?;
        let authority = Self {
            signer,
            store,
            active: RwLock::new(None),
        };
        authority.reload_keys().await?;
        Ok(authority)
    }

    pub fn signer(&self) -> &Authority {
        &self.signer
    }

    pub fn root_public_key(&self) -> [u8; 32] {
        self.signer.root_public_key()
    }

    /// The key that signs new credentials, as last read from the store.
    pub fn active_key(&self) -> Option<SigningKey> {
        *self.active.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the active key may sign at `now`.
    pub fn signs_at(&self, now: DateTime<Utc>) -> bool {
        self.active_key()
            .is_some_and(|k| k.not_before <= now && now <= k.not_after)
    }

    /// Reads the active key from the store again.
    pub async fn reload_keys(&self) -> Result<(), StoreError> {
        let active = self
            .store
            .issuer_keys()
            .await?
            .into_iter()
            .find(|k| k.active)
            .map(|k| k.key);
        *self.active.write().unwrap_or_else(PoisonError::into_inner) = active;
        Ok(())
    }

    /// Signs credentials with the active key; each carries the kid that signed it. The store
    /// refuses to record them if that key stopped being the active one meanwhile.
    pub fn sign(
        &self,
        requests: &[IssueRequest],
        now: DateTime<Utc>,
    ) -> vaxpass::Result<Vec<vaxpass::Result<Issued>>> {
        let key = self.active_key().ok_or(vaxpass::Error::WrongState(
            "no issuer key is valid now: rotate the issuer key",
        ))?;
        self.signer.sign_credentials(&key, requests, now)
    }

    /// [`Self::sign`], each signature in the form the store records (with the kid that signed
    /// it, which the store checks is still the active key at commit).
    pub fn sign_recorded(
        &self,
        requests: &[IssueRequest],
        now: DateTime<Utc>,
    ) -> vaxpass::Result<Vec<vaxpass::Result<SignedCredential>>> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .sign(requests, now)?
            .into_iter()
            .map(|r| {
                r.map(|issued| SignedCredential {
                    kid: issued.kid,
                    issued,
                })
            })
            .collect())
    }

    /// What the store calls to sign a credential again when its random id collided with one
    /// already issued (it gives up after a few draws).
    pub fn resigner(self: &Arc<Self>, now: DateTime<Utc>) -> Resign {
        let authority = Arc::clone(self);
        Arc::new(move |request: &IssueRequest| {
            let signing = |e: vaxpass::Error| StoreError::Signing(e.to_string());
            authority
                .sign_recorded(std::slice::from_ref(request), now)
                .map_err(signing)?
                .pop()
                .ok_or(StoreError::Signing("no credential".into()))?
                .map_err(signing)
        })
    }

    /// Every issuer key as the trust list describes it.
    pub async fn listed_keys(&self) -> Result<Vec<IssuerKey>, OpsError> {
        self.store
            .issuer_keys()
            .await?
            .into_iter()
            .map(|k| {
                Ok(Authority::listed_key(
                    k.key.public_key,
                    k.key.not_before,
                    k.key.not_after,
                    k.revoked_after,
                )?)
            })
            .collect()
    }

    /// Retires the active issuer key (it stops signing at `now`; what it signed stays valid) and
    /// makes a new one, generated in the vault, the active one. Returns the new key id.
    pub async fn rotate(&self, now: DateTime<Utc>) -> Result<Kid, OpsError> {
        let signer = self.signer.clone();
        let key = blocking(move || signer.new_issuer_key(now)).await?;
        self.store.rotate_issuer_key(key).await?;
        self.reload_keys().await?;
        Ok(key.kid())
    }

    /// Marks an issuer key leaked from `revoked_after` on; an active key stops signing.
    pub async fn compromise(&self, kid: Kid, revoked_after: DateTime<Utc>) -> Result<(), OpsError> {
        let found = self.store.mark_compromised(kid, revoked_after).await?;
        self.reload_keys().await?;
        if !found {
            return Err(OpsError::Authority(vaxpass::Error::NotFound("issuer key")));
        }
        Ok(())
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> vaxpass::Result<T> + Send + 'static,
) -> Result<T, OpsError> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| OpsError::Join)??)
}
