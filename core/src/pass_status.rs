//! When a pass works, for the citizen: judged by the rules list the wallet last saw under a venue
//! mode, at `now` and at each later moment something can change (a day boundary in a rule set's
//! time zone, a rule set taking effect, a test window ending, the credential's own validity),
//! so a pass valid today whose rules tighten on 3 January says "valid until 3 January".

use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::credential::Credential;
use crate::model::Event;
use crate::rules::{Requirement, RulesList};
use crate::verdict::Reason;

/// How far ahead a status looks for a change: a little over a year, the longest a credential
/// lives.
pub const HORIZON_DAYS: i64 = 400;

/// When a pass is valid under the rules the wallet holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassStatus {
    /// Valid now; `until`: the first moment it stops being valid (`None`: not within
    /// [`HORIZON_DAYS`]).
    ValidNow {
        /// When it stops being valid, if it does.
        until: Option<DateTime<Utc>>,
    },
    /// Not valid yet, valid from `from` (e.g. the 14-day wait after the primary series), until
    /// `until` if it ends.
    ValidFrom {
        /// When it starts being valid.
        from: DateTime<Utc>,
        /// When it stops again, if it does.
        until: Option<DateTime<Utc>>,
    },
    /// Not valid under these rules, now nor within [`HORIZON_DAYS`].
    NotValid {
        /// Why, now.
        reason: Reason,
        /// A policy rule in the citizen's terms with its numbers, e.g. "primary series older
        /// than 180 days, no booster" (English).
        rule_text: Option<String>,
    },
}

/// The pass's status under `list` and `mode` (the rule set's first mode when `None`) at `now`.
pub(crate) fn status(
    list: &RulesList,
    mode: Option<&str>,
    credential: &Credential,
    now: DateTime<Utc>,
) -> PassStatus {
    let judge = |t: DateTime<Utc>| judge(list, mode, credential, t);
    let mut moments = changes(list, credential, now);
    moments.retain(|t| *t > now);
    moments.sort_unstable();
    moments.dedup();
    let mut later = moments.into_iter();
    let first_where = |later: &mut std::vec::IntoIter<DateTime<Utc>>, valid: bool| {
        later.find(|t| judge(*t).is_ok() == valid)
    };
    match judge(now) {
        Ok(()) => PassStatus::ValidNow {
            until: first_where(&mut later, false),
        },
        Err(reason) => match first_where(&mut later, true) {
            Some(from) => PassStatus::ValidFrom {
                from,
                until: first_where(&mut later, false),
            },
            None => PassStatus::NotValid {
                reason,
                rule_text: rule_text(list, mode, reason, now),
            },
        },
    }
}

/// What a verifier holding `list` would answer at `t` about the pass's validity window and events.
fn judge(
    list: &RulesList,
    mode: Option<&str>,
    credential: &Credential,
    t: DateTime<Utc>,
) -> Result<(), Reason> {
    let claims = &credential.claims;
    if t < claims.not_before {
        return Err(Reason::NotYetValid);
    }
    if t >= claims.expires {
        return Err(Reason::Expired);
    }
    match list.decide(mode, t, false).1? {
        Requirement::Exempt => Ok(()),
        Requirement::Pass(policy) => policy
            .evaluate(&claims.pass.events, t)
            .map_err(Reason::PolicyNotMet),
    }
}

fn rule_text(
    list: &RulesList,
    mode: Option<&str>,
    reason: Reason,
    now: DateTime<Utc>,
) -> Option<String> {
    let Reason::PolicyNotMet(rule) = reason else {
        return None;
    };
    let (rules, _) = list.decide(mode, now, false);
    Some(rule.describe(rules?.policy.as_ref()?))
}

/// Every moment within the horizon at which the answer may change.
fn changes(list: &RulesList, credential: &Credential, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let claims = &credential.claims;
    let mut moments = vec![claims.not_before, claims.expires];
    let mut offsets: Vec<i32> = Vec::new();
    for set in &list.rule_sets {
        moments.push(set.starts_at());
        let p = &set.policy;
        if !offsets.contains(&p.utc_offset_minutes) {
            offsets.push(p.utc_offset_minutes);
        }
        for event in &claims.pass.events {
            if let Event::Test(test) = event {
                moments.push(test.sampled_at);
                for window in [p.pcr_valid_for, p.rapid_antigen_valid_for]
                    .into_iter()
                    .flatten()
                {
                    if let Some(end) = test
                        .sampled_at
                        .checked_add_signed(window + Duration::seconds(1))
                    {
                        moments.push(end);
                    }
                }
            }
        }
    }
    // Local midnights: day counts change there.
    for offset in offsets {
        let shift = Duration::minutes(offset.into());
        let Some(local) = now.naive_utc().checked_add_signed(shift) else {
            continue;
        };
        let today = local.date().and_time(NaiveTime::MIN);
        for day in 1..=HORIZON_DAYS {
            if let Some(midnight) = today
                .checked_add_signed(Duration::days(day))
                .and_then(|m| m.checked_sub_signed(shift))
            {
                moments.push(midnight.and_utc());
            }
        }
    }
    let horizon = now.checked_add_signed(Duration::days(HORIZON_DAYS));
    moments.retain(|t| horizon.map_or(true, |h| *t <= h));
    moments
}
