//! Printing: text for people or JSON for scripts (`--json`), and the shared renderings of
//! verdicts, pass events and times.

use std::fmt::Display;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use vaxpass::{Event, Language, TestOutcome, TestType, Verdict};

/// Where a command's results go. Each command prints text lines, or one JSON document at the end.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Prints a line of text, unless the output is JSON.
    pub fn line(&self, text: impl Display) {
        if !self.json {
            print(&text.to_string());
        }
    }

    /// Prints the command's JSON document, if the output is JSON.
    pub fn json(&self, value: Value) {
        if self.json {
            // Serialising a `Value` cannot fail; fall back to the compact form just in case.
            print(&serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string()));
        }
    }
}

/// Writes a line to stdout, ignoring a closed pipe (`vaxpass ... | head`) instead of panicking.
fn print(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// A UTC time as RFC 3339, whole seconds.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The verdict as JSON. Its shape predates the sum type and stays: `valid`, `reason` (null when
/// valid), `holder` (null when not), `id_check_required` (false when not valid), `warnings`; then
/// `exempt` (no pass needed), `rules` (the rules list's sequence, the rule set's effective date and
/// the mode; null without a rules list) and `rule` (the failed policy rule in words, or null).
pub fn verdict_json(verdict: &Verdict) -> Value {
    let (holder, id_check_required) = match verdict {
        Verdict::Valid {
            holder,
            id_check_required,
            ..
        } => (
            Some(json!({
                "name": holder.name,
                "date_of_birth": holder.date_of_birth.to_string(),
            })),
            *id_check_required,
        ),
        Verdict::NotValid { .. } | Verdict::Exempt { .. } => (None, false),
    };
    json!({
        "valid": verdict.is_valid(),
        "reason": verdict.reason().map(|r| r.code()),
        "holder": holder,
        "id_check_required": id_check_required,
        "warnings": verdict.warnings().iter().map(|w| w.code()).collect::<Vec<_>>(),
        "exempt": matches!(verdict, Verdict::Exempt { .. }),
        "rules": verdict.rules().map(|r| json!({
            "sequence": r.sequence,
            "takes_effect": r.takes_effect.to_string(),
            "mode": r.mode,
        })),
        "rule": verdict.policy_rule_text(),
        "cue": verdict.cue().code(),
        "say": {
            "ko": verdict.text(Language::Korean),
            "en": verdict.text(Language::English),
        },
    })
}

/// The verdict as text lines: `VALID` with the holder, or `NOT VALID (reason)`.
pub fn verdict_lines(verdict: &Verdict) -> Vec<String> {
    let mut lines = Vec::new();
    match verdict {
        Verdict::Valid {
            holder,
            id_check_required,
            ..
        } => {
            lines.push(format!(
                "VALID: {}, born {}",
                holder.name, holder.date_of_birth
            ));
            if *id_check_required {
                lines.push(
                    "ID check required: this is a paper pass, compare an ID document".to_owned(),
                );
            }
        }
        Verdict::NotValid { reason, .. } => {
            lines.push(match verdict.policy_rule_text() {
                Some(rule) => format!("NOT VALID ({}: {rule})", reason.code()),
                None => format!("NOT VALID ({})", reason.code()),
            });
        }
        Verdict::Exempt { .. } => lines.push("EXEMPT: no pass needed in this venue mode".into()),
    }
    if let Some(rules) = verdict.rules() {
        lines.push(format!(
            "rules: list #{}, rule set of {}, mode {}",
            rules.sequence, rules.takes_effect, rules.mode
        ));
    }
    for warning in verdict.warnings() {
        lines.push(format!("warning: {}", warning.code()));
    }
    lines
}

/// One event of a pass, e.g. `Comirnaty dose 3/2 on 2021-12-01 (booster)`.
pub fn describe_event(event: &Event) -> String {
    match event {
        Event::Vaccination(v) => format!(
            "vaccination: {} dose {}/{} on {}{}",
            v.product.name(),
            v.dose,
            v.of,
            v.date,
            if v.dose > v.of { " (booster)" } else { "" }
        ),
        Event::Test(t) => format!(
            "test: {} {}, sampled {}",
            test_type(t.test_type),
            test_outcome(t.outcome),
            time(t.sampled_at)
        ),
        Event::Recovery(r) => format!("recovery: first positive on {}", r.first_positive),
    }
}

pub fn event_json(event: &Event) -> Value {
    match event {
        Event::Vaccination(v) => json!({
            "type": "vaccination",
            "product": v.product.name(),
            "dose": v.dose,
            "of": v.of,
            "date": v.date.to_string(),
        }),
        Event::Test(t) => json!({
            "type": "test",
            "test_type": match t.test_type {
                TestType::Pcr => "pcr",
                TestType::RapidAntigen => "rapid_antigen",
            },
            "outcome": test_outcome(t.outcome),
            "sampled_at": time(t.sampled_at),
        }),
        Event::Recovery(r) => json!({
            "type": "recovery",
            "first_positive": r.first_positive.to_string(),
        }),
    }
}

fn test_type(t: TestType) -> &'static str {
    match t {
        TestType::Pcr => "PCR",
        TestType::RapidAntigen => "rapid antigen",
    }
}

fn test_outcome(o: TestOutcome) -> &'static str {
    match o {
        TestOutcome::Negative => "negative",
        TestOutcome::Positive => "positive",
    }
}
