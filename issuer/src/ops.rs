//! The authority's operations, shared by the admin API and the command line: publish the lists
//! (and a new rules file), revoke a credential, restore a citizen whose code was taken, rotate the issuer key, mark a key
//! compromised, issue a pass to a holder identified in person. Signing is the vault's; issuer keys, revocations, list sequence numbers and the
//! published lists are the store's.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use vaxpass::keys::Kid;
use vaxpass::{
    Credential, CredentialId, EnrolmentRequest, IssueRequest, Issued, PassData, RuleSet, RulesList,
};

use vaxpass::enrolment_code::EnrolmentCode;

use crate::authority::ServiceAuthority;
use crate::identity::CodeKey;
use crate::rules_file::RulesFileError;
use crate::store::{
    Batch, CitizenId, CodeHash, DeviceHash, Enrolment, ListKind, NewCitizen, PublishedList,
    Revoked, SignLists, Store, StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("authority: {0}")]
    Authority(#[from] vaxpass::Error),
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Rules(#[from] RulesFileError),
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
    /// The rules list re-signed with the others (fresh times, same rule sets); `None` while no
    /// rules file has been published.
    pub rules_sequence: Option<u64>,
    pub rules_etag: Option<String>,
}

/// What publishing a rules file made current.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RulesPublication {
    pub rules_sequence: u64,
    pub rules_etag: String,
    /// How many rule sets the list carries.
    pub rule_sets: usize,
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default()
}

/// Signs a fresh trust list (all issuer keys), a revocation list (the store's unexpired revoked
/// ids) and, once a rules file was published, the current rules list again (same rule sets,
/// fresh times, so it stays as fresh as the others) under sequence numbers the store allocates,
/// and makes them current in one store transaction: replicas publishing at once take turns,
/// each list with its own sequence.
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
    let sign: SignLists = Box::new(move |allocated| {
        let signing = |e: vaxpass::Error| StoreError::Signing(e.to_string());
        let mut signed = Vec::with_capacity(allocated.len());
        for list in allocated {
            let bytes = match list.kind {
                ListKind::Trust => signer
                    .sign_trust_list(list.sequence, keys.clone(), now, valid_for)
                    .map_err(signing)?,
                ListKind::Revocation => signer
                    .sign_revocation_list(list.sequence, &revoked, now, valid_for)
                    .map_err(signing)?,
                ListKind::Rules => {
                    // The rule sets as last published, read in this transaction: a rules file
                    // published meanwhile through another replica is never undone.
                    let Some(current) = list.current else {
                        continue;
                    };
                    let rules = RulesList::verify(current, &signer.root_public_key())
                        .map_err(|_| StoreError::Corrupt("the published rules list"))?;
                    signer
                        .sign_rules_list(list.sequence, rules.rule_sets, now, valid_for)
                        .map_err(signing)?
                }
            };
            signed.push((list.kind, bytes));
        }
        Ok(signed)
    });
    let published = store.publish_next(now, &ListKind::ALL, sign).await?;
    let find = |kind| published.iter().find(|l: &&PublishedList| l.kind == kind);
    let (Some(trust), Some(revocation)) = (find(ListKind::Trust), find(ListKind::Revocation))
    else {
        return Err(OpsError::Invalid("the store did not publish every list"));
    };
    let rules = find(ListKind::Rules);
    Ok(Publication {
        trust_sequence: trust.sequence,
        trust_etag: trust.etag.clone(),
        revocation_sequence: revocation.sequence,
        revocation_etag: revocation.etag.clone(),
        revoked: count,
        rules_sequence: rules.map(|l| l.sequence),
        rules_etag: rules.map(|l| l.etag.clone()),
    })
}

/// Publishes the rules file `text` (TOML, see [`crate::rules_file`]) as the next rules list,
/// valid for `valid_for` and re-signed by every later [`publish`]. The file is checked whole
/// before a sequence is allocated; a refused file changes nothing.
pub async fn publish_rules(
    authority: &ServiceAuthority,
    store: &dyn Store,
    text: &str,
    valid_for: Duration,
) -> Result<RulesPublication, OpsError> {
    publish_rules_at(authority, store, text, Utc::now(), valid_for).await
}

/// [`publish_rules`] as of `now`.
pub async fn publish_rules_at(
    authority: &ServiceAuthority,
    store: &dyn Store,
    text: &str,
    now: DateTime<Utc>,
    valid_for: Duration,
) -> Result<RulesPublication, OpsError> {
    let now = whole_seconds(now);
    let rule_sets: Vec<RuleSet> = crate::rules_file::parse(text)?;
    let count = rule_sets.len();
    let signer = authority.signer().clone();
    let sign: SignLists = Box::new(move |allocated| {
        allocated
            .iter()
            .map(|list| {
                let bytes = signer
                    .sign_rules_list(list.sequence, rule_sets.clone(), now, valid_for)
                    .map_err(|e| StoreError::Signing(e.to_string()))?;
                Ok((list.kind, bytes))
            })
            .collect()
    });
    let rules = store
        .publish_next(now, &[ListKind::Rules], sign)
        .await?
        .pop()
        .ok_or(OpsError::Invalid(
            "the store did not publish the rules list",
        ))?;
    Ok(RulesPublication {
        rules_sequence: rules.sequence,
        rules_etag: rules.etag,
        rule_sets: count,
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
