//! The result, beside the same lunch hour under a server-per-display model like the pass apps of
//! 2021, where every QR display needed a live round trip to the server.

use std::time::Duration;

use serde_json::json;

use crate::enrol::Enrolment;
use crate::inspection::Inspection;
use crate::scans::Outcome;

#[derive(Debug)]
pub struct Report {
    citizens: usize,
    window_secs: f64,
    enrolment: Enrolment,
    peak_arrivals_per_second: usize,
    service_peak_rss_kib: Option<u64>,
    scans: Outcome,
    inspection: Inspection,
}

impl Report {
    pub fn new(
        citizens: usize,
        window_secs: f64,
        schedule: &[Duration],
        enrolment: Enrolment,
        service_peak_rss_kib: Option<u64>,
        scans: Outcome,
        inspection: Inspection,
    ) -> Self {
        let peak_arrivals_per_second = crate::arrivals::peak_per_second(
            schedule
                .iter()
                .map(|d| d.as_secs_f64() / window_secs.max(1e-9)),
            window_secs,
        );
        Self {
            service_peak_rss_kib,
            citizens,
            window_secs,
            enrolment,
            peak_arrivals_per_second,
            scans,
            inspection,
        }
    }

    /// What vaxpass must show: every citizen enrolled in the end (the turned-away ones after
    /// retrying), no scan failed for lack of network, every live code accepted, every screenshot,
    /// revoked pass and forgery refused, every shop's report verified (with and without its
    /// anchor) and every tampering caught.
    pub fn ok(&self) -> bool {
        let s = &self.scans;
        self.enrolment.enrolled.len() == self.citizens
            && self.enrolment.failures.is_empty()
            && s.network_failures == 0
            && s.live_refused == 0
            && s.screenshots_accepted == 0
            && s.revoked_accepted == 0
            && s.forgeries_accepted == 0
            && self.inspection.ok()
    }

    fn percentile(values: &[Duration], p: f64) -> Duration {
        let mut l = values.to_vec();
        l.sort_unstable();
        l.get(((l.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    }

    pub fn print(&self, as_json: bool) {
        let e = &self.enrolment;
        let s = &self.scans;
        let rate = e.enrolled.len() as f64 / e.elapsed.as_secs_f64().max(1e-9);
        let (p50, p99) = (
            Self::percentile(&e.latencies, 0.50),
            Self::percentile(&e.latencies, 0.99),
        );
        let busy_p99 = Self::percentile(&e.busy_latencies, 0.99);
        let rss_mib = self.service_peak_rss_kib.map(|k| k as f64 / 1024.0);
        if as_json {
            let value = json!({
                "ok": self.ok(),
                "enrolment": {
                    "citizens": self.citizens, "enrolled": e.enrolled.len(), "failures": e.failures.len(),
                    "busy_answers": e.busy_answers, "turned_away_then_enrolled": e.turned_away,
                    "seconds": e.elapsed.as_secs_f64(), "per_second": rate,
                    "p50_ms": p50.as_secs_f64() * 1e3, "p99_ms": p99.as_secs_f64() * 1e3,
                    "busy_answer_p99_ms": busy_p99.as_secs_f64() * 1e3,
                    "service_peak_rss_mib": rss_mib,
                },
                "outage": {
                    "scans": s.scans, "network_failures": s.network_failures,
                    "live_accepted": s.live_accepted, "live_refused": s.live_refused,
                    "screenshots_refused": s.screenshots_refused, "screenshots_accepted": s.screenshots_accepted,
                    "revoked_refused": s.revoked_refused, "revoked_accepted": s.revoked_accepted,
                    "forgeries_refused": s.forgeries_refused, "forgeries_accepted": s.forgeries_accepted,
                    "seconds": s.elapsed.as_secs_f64(),
                },
                "inspection": {
                    "shops": self.inspection.shops.iter().map(|p| json!({
                        "shop": p.shop, "checks": p.checks, "verified": p.without_anchor,
                        "verified_with_anchor": p.with_anchor, "proven": p.sentence,
                    })).collect::<Vec<_>>(),
                    "tampering": self.inspection.tampering.iter().map(|t| json!({
                        "what": t.what, "detected": t.detected(),
                        "refused": t.refused.map(|r| r.code()),
                        "accepted_without_anchor": t.accepted_without_anchor,
                    })).collect::<Vec<_>>(),
                },
                "server_per_display": {
                    "displays_needing_the_server": s.scans, "failed_during_outage": s.scans,
                    "peak_requests_per_second": s.peak_scans_per_second,
                },
            });
            println!("{value:#}");
            return;
        }
        let row = |what: &str, ours: String, theirs: String| {
            println!("  {what:<44} {ours:>16}   {theirs:>22}")
        };
        println!();
        println!("Lunch rush, 13 December 2021, replayed on loopback");
        row("", "vaxpass".into(), "server per display".into());
        println!(
            "  Enrolment, 11:00-11:40 (compressed into {:.0} s)",
            self.window_secs
        );
        row(
            "citizens",
            self.citizens.to_string(),
            self.citizens.to_string(),
        );
        row(
            "  answered 429/503, told to come back",
            e.turned_away.to_string(),
            "-".into(),
        );
        row(
            "  enrolled in the end",
            e.enrolled.len().to_string(),
            "(same step)".into(),
        );
        row(
            "  enrolments per second (sustained)",
            format!("{rate:.0}"),
            "-".into(),
        );
        row(
            "  enrolment round trip p50 / p99",
            format!(
                "{:.1} / {:.1} ms",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            ),
            "-".into(),
        );
        row(
            "  arrivals in the busiest second",
            self.peak_arrivals_per_second.to_string(),
            "-".into(),
        );
        row(
            "  429/503 answered within (p99)",
            format!("{:.1} ms", busy_p99.as_secs_f64() * 1e3),
            "-".into(),
        );
        row(
            "  service peak memory (VmHWM)",
            rss_mib.map_or("-".into(), |m| format!("{m:.0} MiB")),
            "-".into(),
        );
        println!("  Outage, 11:40-12:40: the issuer service is killed");
        row(
            "scans at shop doors",
            s.scans.to_string(),
            s.scans.to_string(),
        );
        row("  needing the server", "0".into(), s.scans.to_string());
        row(
            "  failed for lack of network",
            s.network_failures.to_string(),
            s.scans.to_string(),
        );
        row(
            "  live codes accepted",
            s.live_accepted.to_string(),
            "0".into(),
        );
        row(
            "  screenshots refused / accepted",
            format!("{} / {}", s.screenshots_refused, s.screenshots_accepted),
            "-".into(),
        );
        row(
            "  revoked passes refused / accepted",
            format!("{} / {}", s.revoked_refused, s.revoked_accepted),
            "-".into(),
        );
        row(
            "  forgeries refused / accepted",
            format!("{} / {}", s.forgeries_refused, s.forgeries_accepted),
            "-".into(),
        );
        row(
            "server capacity needed at the scan peak",
            "0 req/s".into(),
            format!("{} req/s", s.peak_scans_per_second),
        );
        println!(
            "  (the shops verified {} scans offline in {:.1} s on this machine)",
            s.scans,
            s.elapsed.as_secs_f64()
        );
        let i = &self.inspection;
        println!("  Inspection, 12:40: the service is back, each shop anchors its check log");
        row(
            "shops' reports verified (alone / anchored)",
            format!(
                "{} / {} of {}",
                i.shops.iter().filter(|p| p.without_anchor).count(),
                i.shops.iter().filter(|p| p.with_anchor).count(),
                i.shops.len()
            ),
            "no record".into(),
        );
        for p in &i.shops {
            println!("    shop {:>4}: {}", p.shop, p.sentence);
        }
        println!("  Shop 0's log tampered with, then reported:");
        for t in &i.tampering {
            println!(
                "    {:<46} {}{}",
                t.what,
                match t.refused {
                    Some(r) => format!("caught: {r}"),
                    None => "NOT CAUGHT".into(),
                },
                if t.accepted_without_anchor {
                    " (only with the anchor)"
                } else {
                    ""
                }
            );
        }
        println!(
            "{}",
            if self.ok() {
                "OK: no scan needed the network; every fake was refused; every shop's report verified and every tampering was caught."
            } else {
                "NOT OK: see above."
            }
        );
        for why in e.failures.iter().take(5) {
            println!("  enrolment failure: {why}");
        }
    }
}
