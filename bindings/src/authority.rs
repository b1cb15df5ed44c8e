//! The authority (issuer backend), for JVM and Python services: the core's `LocalAuthority`
//! (state in one file, keys in the key file beside it).

use std::sync::Arc;
use std::time::SystemTime;

use crate::convert::{credential_id, time};
use crate::error::VaxpassError;
use crate::time_span::TimeSpan;
use crate::types::{pass_data, Event, IssuedCredential, Person};

/// A health authority in one SQLite file, its keys in the key file beside it: issues
/// credentials, answers enrolments and signs the trust and revocation lists. For issuer
/// backends, tooling and tests; a production authority runs the issuer service.
#[derive(uniffi::Object)]
pub struct Authority(vaxpass::LocalAuthority);

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[uniffi::export]
impl Authority {
    /// Creates a new authority (fresh root and issuer keys) in a new database; its private keys
    /// go to the key file beside it (`PATH.keys`).
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    #[uniffi::constructor]
    pub fn create(
        path: String,
        issuer: String,
        now: SystemTime,
    ) -> Result<Arc<Self>, VaxpassError> {
        Ok(Arc::new(Self(vaxpass::LocalAuthority::create(
            path,
            &issuer,
            time(now)?,
        )?)))
    }

    /// Opens an existing authority.
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<Self>, VaxpassError> {
        Ok(Arc::new(Self(vaxpass::LocalAuthority::open(path)?)))
    }

    /// The root public key verifiers pin (32 bytes).
    pub fn root_public_key(&self) -> Vec<u8> {
        self.0.root_public_key().to_vec()
    }

    /// Issues one credential to a device key (raw Ed25519 or SEC1 P-256 bytes).
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    pub fn issue(
        &self,
        person: Person,
        events: Vec<Event>,
        device_key: Vec<u8>,
        not_before: SystemTime,
        expires: SystemTime,
        now: SystemTime,
    ) -> Result<IssuedCredential, VaxpassError> {
        let device_key = vaxpass::DevicePublicKey::from_bytes(&device_key)?;
        let issued = self.0.issue(
            &pass_data(person, events)?,
            &device_key,
            time(not_before)?,
            time(expires)?,
            time(now)?,
        )?;
        Ok(IssuedCredential {
            id: issued.id.to_string(),
            bytes: issued.bytes,
        })
    }

    /// Checks an enrolment request against the nonce handed out and issues one credential for the
    /// person's events, bound to the requesting device. Returns the bundle for `Wallet.importPasses`.
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    // Flat on purpose: foreign callers name each argument.
    #[allow(clippy::too_many_arguments)]
    pub fn answer_enrolment(
        &self,
        request: Vec<u8>,
        nonce: Vec<u8>,
        person: Person,
        events: Vec<Event>,
        not_before: SystemTime,
        expires: SystemTime,
        now: SystemTime,
    ) -> Result<Vec<u8>, VaxpassError> {
        let pass = pass_data(person, events)?;
        Ok(self.0.answer_enrolment(
            &request,
            &nonce,
            &[pass],
            time(not_before)?,
            time(expires)?,
            time(now)?,
        )?)
    }

    /// Retires the active issuer key and makes a new one; returns its kid.
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    pub fn rotate_issuer_key(&self, now: SystemTime) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.rotate_issuer_key(time(now)?)?.to_vec())
    }

    /// Marks an issuer key as leaked from `revoked_after` on.
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    pub fn mark_compromised(
        &self,
        kid: Vec<u8>,
        revoked_after: SystemTime,
    ) -> Result<(), VaxpassError> {
        let kid: vaxpass::keys::Kid =
            kid.try_into().map_err(|_| VaxpassError::InvalidArgument {
                detail: "a kid is 8 bytes".into(),
            })?;
        Ok(self.0.mark_compromised(&kid, time(revoked_after)?)?)
    }

    /// Revokes a credential by id (12 hex digits).
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    pub fn revoke(&self, id: String, now: SystemTime) -> Result<(), VaxpassError> {
        Ok(self.0.revoke(&credential_id(&id)?, time(now)?)?)
    }

    /// A newly signed trust list, issued at `now` and valid for `valid_for` (its next update).
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    pub fn trust_list(
        &self,
        now: SystemTime,
        valid_for: TimeSpan,
    ) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.trust_list(time(now)?, valid_for.to_chrono()?)?)
    }

    /// A newly signed rules list of the Korean rules of early 2022, in force on any date (modes
    /// `restaurant_cafe`, the default, and `exempt`), issued at `now` and valid for `valid_for`.
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    pub fn rules_list(
        &self,
        now: SystemTime,
        valid_for: TimeSpan,
    ) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.rules_list(time(now)?, valid_for.to_chrono()?)?)
    }

    /// A newly signed rules list of `rule_sets` (in the order they take effect), issued at `now`
    /// and valid for `valid_for`: the Korean rules of early 2022 with the changes each set names.
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    pub fn rules_list_of(
        &self,
        rule_sets: Vec<TestRuleSet>,
        now: SystemTime,
        valid_for: TimeSpan,
    ) -> Result<Vec<u8>, VaxpassError> {
        let sets = rule_sets
            .into_iter()
            .map(TestRuleSet::into_core)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self
            .0
            .rules_list_of(sets, time(now)?, valid_for.to_chrono()?)?)
    }

    /// A newly signed revocation list, issued at `now` and valid for `valid_for` (its next update).
    /// Blocking: reads or writes the authority's SQLite file and key file; call it off the main
    /// thread.
    pub fn revocation_list(
        &self,
        now: SystemTime,
        valid_for: TimeSpan,
    ) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.revocation_list(time(now)?, valid_for.to_chrono()?)?)
    }
}

/// A rule set for tests: the Korean rules of early 2022 (14 days after the primary series, a
/// negative PCR test for 48 hours, recovery for 180 days, in KST) taking effect on
/// `takes_effect`, with these changes.
#[derive(uniffi::Record)]
pub struct TestRuleSet {
    /// `YYYY-MM-DD`, in KST.
    pub takes_effect: String,
    /// Days after the completing dose before a vaccination counts.
    pub days_after_primary: i32,
    /// Days a primary series stays valid without a booster; `None` for no limit.
    pub primary_valid_days: Option<i32>,
    /// Days after the latest booster a pass stays valid; `None` for no limit.
    pub booster_valid_days: Option<i32>,
    /// The venue modes, the default first: a pass of any kind of event, or exempt.
    pub modes: Vec<TestMode>,
}

/// A venue mode of a [`TestRuleSet`].
#[derive(uniffi::Record)]
pub struct TestMode {
    /// The mode's name, e.g. `restaurant_cafe`.
    pub name: String,
    /// `true`: no pass is needed.
    pub exempt: bool,
}

impl TestRuleSet {
    fn into_core(self) -> Result<vaxpass::RuleSet, VaxpassError> {
        let mut set = vaxpass::RuleSet::korea_2022_standing();
        set.takes_effect = crate::convert::date(&self.takes_effect)?;
        set.policy.vaccination = Some(vaxpass::VaccinationRule {
            days_after_primary: self.days_after_primary.into(),
            primary_valid_days: self.primary_valid_days.map(Into::into),
            booster_valid_days: self.booster_valid_days.map(Into::into),
        });
        set.modes = self
            .modes
            .into_iter()
            .map(|m| vaxpass::VenueMode {
                name: m.name,
                rule: if m.exempt {
                    vaxpass::ModeRule::Exempt
                } else {
                    vaxpass::ModeRule::Pass(vec![
                        vaxpass::EventKind::Vaccination,
                        vaxpass::EventKind::Test,
                        vaxpass::EventKind::Recovery,
                    ])
                },
            })
            .collect();
        Ok(set)
    }
}
