//! The authority's operations, shared by the admin API and the command line: publish the lists,
//! revoke a credential, restore a citizen whose code was taken, rotate the issuer key, mark a key
//! compromised, issue a pass to a holder identified in person. Signing is the vault's; issuer keys, revocations, list sequence numbers and the
//! published lists are the store's.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use vaxpass::keys::Kid;
use vaxpass::{Credential, CredentialId, EnrolmentRequest, IssueRequest, Issued, PassData};

use vaxpass::enrolment_code::EnrolmentCode;

use crate::authority::ServiceAuthority;
use crate::identity::CodeKey;
use crate::store::{
    Batch, CitizenId, CodeHash, DeviceHash, Enrolment, NewCitizen, Revoked, SignLists, Store,
    StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("authority: {0}")]
    Authority(#[from] vaxpass::Error),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("vault: {0}")]
    Vault(String),
    #[error("the authority task failed")]
    Join,
}

/// What a publish made current.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Publication {
    pub trust_sequence: u64,
    pub trust_etag: String,
    pub revocation_sequence: u64,
    pub revocation_etag: String,
    pub revoked: usize,
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default()
}

/// Signs a fresh trust list (all issuer keys) and a revocation list (the store's unexpired
/// revoked ids) under sequence numbers the store allocates, and makes both current in one store
/// transaction: replicas publishing at once take turns, each list with its own sequence.
pub async fn publish(
    authority: &ServiceAuthority,
    store: &dyn Store,
    valid_for: Duration,
) -> Result<Publication, OpsError> {
    publish_at(authority, store, Utc::now(), valid_for).await
}

/// [`publish`] as of `now` (the command-line tool's clock).
pub async fn publish_at(
    authority: &ServiceAuthority,
    store: &dyn Store,
    now: DateTime<Utc>,
    valid_for: Duration,
) -> Result<Publication, OpsError> {
    let now = whole_seconds(now);
    let revoked = store.revoked_ids(now).await?;
    let count = revoked.len();
    let keys = authority.listed_keys().await?;
    let signer = authority.signer().clone();
    let sign: SignLists = Box::new(move |trust, revocation| {
        let signing = |e: vaxpass::Error| StoreError::Signing(e.to_string());
        Ok((
            signer
                .sign_trust_list(trust, keys, now, valid_for)
                .map_err(signing)?,
            signer
                .sign_revocation_list(revocation, &revoked, now, valid_for)
                .map_err(signing)?,
        ))
    });
    let [trust, revocation] = store.publish_next(now, sign).await?;
    Ok(Publication {
        trust_sequence: trust.sequence,
        trust_etag: trust.etag,
        revocation_sequence: revocation.sequence,
        revocation_etag: revocation.etag,
        revoked: count,
    })
}

/// How long the nonce of an in-person issuance stays recorded as used.
const IN_PERSON_NONCE_TTL: Duration = Duration::minutes(5);

/// Issues `pass` to the device of an enrolment request whose holder was identified in person
/// (the `vaxpass authority issue` command, the demo), as the service records an enrolment: the
/// holder is registered with no enrolment code that could be used, and the nonce, the
/// enrolment and the credential are recorded in one group commit. `request` has passed the
/// core's checks ([`EnrolmentRequest::verify_possession`], `answers`) against the nonce the
/// caller handed out; the store refuses a nonce already used.
pub async fn issue_in_person(
    authority: &Arc<ServiceAuthority>,
    store: &dyn Store,
    request: &EnrolmentRequest,
    pass: &PassData,
    not_before: DateTime<Utc>,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Issued, OpsError> {
    pass.validate()?;
    let citizen = store
        .add_citizens(vec![NewCitizen {
            person: pass.person.clone(),
            code: CodeHash(vaxpass::enrolment::new_nonce()),
            subject: None,
            passes: vec![pass.events.clone()],
        }])
        .await?
        .pop()
        .ok_or(OpsError::Invalid("no citizen was added"))?;
    let issue = IssueRequest {
        pass: pass.clone(),
        device_key: request.device_key.clone(),
        not_before,
        expires,
    };
    let signed = authority
        .sign_recorded(std::slice::from_ref(&issue), now)?
        .pop()
        .ok_or(OpsError::Invalid("nothing was signed"))??;
    let batch = Batch {
        now,
        new_nonces: vec![(request.nonce.clone(), now + IN_PERSON_NONCE_TTL)],
        burned_nonces: Vec::new(),
        enrolments: vec![Enrolment {
            nonce: request.nonce.clone(),
            citizen,
            code: None,
            device: DeviceHash::of(&request.device_key),
            credentials: vec![(issue, signed)],
        }],
    };
    let bytes = store
        .record_batch(batch, authority.resigner(now))
        .await?
        .pop()
        .ok_or(OpsError::Invalid("nothing was recorded"))?
        .map_err(|_| OpsError::Invalid("the nonce was already used"))?
        .pop()
        .ok_or(OpsError::Invalid("nothing was recorded"))?;
    let credential = Credential::from_bytes(&bytes)?;
    Ok(Issued {
        id: credential.claims.id,
        kid: credential.kid,
        bytes,
    })
}

pub fn parse_credential_id(text: &str) -> Result<CredentialId, OpsError> {
    CredentialId::parse(text).map_err(|_| OpsError::Invalid("a credential id is 12 hex digits"))
}

pub fn parse_kid(text: &str) -> Result<Kid, OpsError> {
    let bytes = hex::decode(text).map_err(|_| OpsError::Invalid("a key id is 16 hex digits"))?;
    bytes
        .try_into()
        .map_err(|_| OpsError::Invalid("a key id is 16 hex digits"))
}

pub fn parse_time(text: &str) -> Result<DateTime<Utc>, OpsError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| OpsError::Invalid("times are RFC 3339, e.g. 2021-12-13T12:00:00+09:00"))
}

/// Revokes a credential this service issued; it appears on the next published list.
pub async fn revoke(store: &dyn Store, id: CredentialId) -> Result<Revoked, OpsError> {
    Ok(store.revoke(id, Utc::now()).await?)
}

/// What a restore did. `Debug` does not show the new code.
#[derive(Debug)]
pub struct Restored {
    /// The credentials revoked (the other device's, and any the citizen had).
    pub revoked: Vec<CredentialId>,
    /// The citizen's new code, to hand over in person.
    pub code: EnrolmentCode,
}

/// Restores a citizen whose code was taken: in one transaction, revokes every unexpired
/// credential issued to them and gives them a new, unused code. Publish next so verifiers learn
/// the revocations.
pub async fn restore(
    store: &dyn Store,
    key: &CodeKey,
    citizen: CitizenId,
) -> Result<Restored, OpsError> {
    let passes = store
        .passes_of(citizen)
        .await?
        .ok_or(OpsError::Invalid("there is no such citizen"))?;
    let born = passes
        .first()
        .map(|p| p.person.date_of_birth)
        .ok_or(OpsError::Invalid("the citizen has no passes"))?;
    let code = EnrolmentCode::generate();
    let revoked = store
        .restore_citizen(citizen, key.hash(&code, born), Utc::now())
        .await?
        .ok_or(OpsError::Invalid("there is no such citizen"))?;
    Ok(Restored { revoked, code })
}

/// Retires the active issuer key and makes a new one; returns the new key id.
pub async fn rotate(authority: &ServiceAuthority) -> Result<Kid, OpsError> {
    authority.rotate(Utc::now()).await
}

/// Marks an issuer key leaked from `revoked_after` on. An active key stops signing: rotate next.
pub async fn compromise(
    authority: &ServiceAuthority,
    kid: Kid,
    revoked_after: DateTime<Utc>,
) -> Result<(), OpsError> {
    authority.compromise(kid, revoked_after).await
}
