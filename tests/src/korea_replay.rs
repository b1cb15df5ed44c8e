//! Korea, 1 December 2021 to 10 March 2022, day by day: an authority that publishes its lists
//! every morning (the rules list carrying every rule set that takes effect within the next
//! [`LEAD_DAYS`]), shops that sync at most weekly, each on its own weekday, and citizens whose
//! passes show the 14-day wait, the 180-day limit, boosters, PCR and rapid antigen tests and
//! recoveries. Each shop judges with a real [`Verifier`] on its own SQLite file, from the signed
//! lists it last synced and nothing else. The test (`tests/tests/korea_replay.rs`) checks every
//! verdict against a hand-written table; `cargo run -p vaxpass-tests --example korea-replay`
//! prints the table docs/rules-korea.md shows.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use tempfile::TempDir;
use vaxpass::{
    CredentialId, DeviceKeySource, Event, LocalAuthority, ModeRule, Person, Product, Reason,
    Recovery, RuleSet, TestOutcome, TestResult, TestType, Vaccination, Verdict, Verifier,
    VerifierConfig, Wallet,
};

use crate::issue_into;

/// The first and last day replayed.
pub const FIRST_DAY: &str = "2021-12-01";
pub const LAST_DAY: &str = "2022-03-10";
/// The venue modes replayed.
pub const MODES: [&str; 2] = ["restaurant_cafe", "large_store"];
/// The authority publishes a rule set this many days before it takes effect. A shop syncing at
/// least weekly then always holds a set before its day. (In 2022 some changes were announced a
/// day ahead; see docs/rules-korea.md.)
pub const LEAD_DAYS: i64 = 7;
/// The weekdays the shops of each mode sync on, as days after [`FIRST_DAY`] modulo 7:
/// 2 is every Friday (3 December, ..., 31 December), 3 every Saturday, 5 every Monday.
pub const SYNC_DAYS: [i64; 3] = [2, 3, 5];

/// 00:00 in Seoul.
const KST: i64 = 9;

/// `hour:00` in Seoul on `day`, in UTC.
pub fn kst(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    day.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default())
        .and_utc()
        - Duration::hours(KST)
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap_or_default()
}

/// One kind of citizen: a label for the table and the events of their health record, in the
/// order they happened. The wallet holds a pass for every prefix of the record, each issued an
/// hour after its last event, and shows the newest one it has.
#[derive(Debug, Clone)]
pub struct Citizen {
    pub label: &'static str,
    pub events: Vec<Event>,
}

fn dose(n: u8, day: &str) -> Event {
    Event::Vaccination(Vaccination {
        product: Product::Comirnaty,
        dose: n,
        of: 2,
        date: date(day),
    })
}

fn test(test_type: TestType, day: &str) -> Event {
    Event::Test(TestResult {
        test_type,
        outcome: TestOutcome::Negative,
        sampled_at: kst(date(day), 9),
    })
}

/// The citizens of the replay.
pub fn citizens() -> Vec<Citizen> {
    vec![
        Citizen {
            label: "one dose (20 Nov)",
            events: vec![dose(1, "2021-11-20")],
        },
        Citizen {
            label: "two doses (2nd 5 Dec)",
            events: vec![dose(1, "2021-11-07"), dose(2, "2021-12-05")],
        },
        Citizen {
            label: "two doses (2nd 10 Jul)",
            events: vec![dose(1, "2021-06-12"), dose(2, "2021-07-10")],
        },
        Citizen {
            label: "two doses (2nd 25 Jun), booster 5 Jan",
            events: vec![
                dose(1, "2021-05-28"),
                dose(2, "2021-06-25"),
                dose(3, "2022-01-05"),
            ],
        },
        Citizen {
            label: "three doses (3rd 10 Dec)",
            events: vec![
                dose(1, "2021-06-03"),
                dose(2, "2021-07-01"),
                dose(3, "2021-12-10"),
            ],
        },
        Citizen {
            label: "PCR tests (20 Dec, 11 Jan)",
            events: vec![
                test(TestType::Pcr, "2021-12-20"),
                test(TestType::Pcr, "2022-01-11"),
            ],
        },
        Citizen {
            label: "rapid tests (21 Jan, 27 Jan, 15 Feb)",
            events: vec![
                test(TestType::RapidAntigen, "2022-01-21"),
                test(TestType::RapidAntigen, "2022-01-27"),
                test(TestType::RapidAntigen, "2022-02-15"),
            ],
        },
        Citizen {
            label: "recovered (positive 20 Jun)",
            events: vec![Event::Recovery(Recovery {
                first_positive: date("2021-06-20"),
            })],
        },
    ]
}

/// A citizen's phone: a wallet and the passes in it, by issue time.
struct Phone {
    wallet: Wallet,
    passes: Vec<(DateTime<Utc>, CredentialId)>,
}

impl Phone {
    /// The QR text of the newest pass issued by `now`; `None` before the first.
    fn show(&self, now: DateTime<Utc>) -> Option<String> {
        let (_, id) = self.passes.iter().rev().find(|(at, _)| *at <= now)?;
        self.wallet
            .presentation(id, now)
            .ok()
            .map(|shown| shown.text)
    }
}

/// A shop: a verifier on its own SQLite file, holding the lists it last synced (the rules list
/// among them), with the venue mode it picked stored beside them, and the weekday it syncs.
pub struct Shop {
    pub name: String,
    pub mode: &'static str,
    pub sync_day: i64,
    verifier: Verifier,
}

impl std::fmt::Debug for Shop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shop").field("name", &self.name).finish()
    }
}

impl Shop {
    /// Takes the authority's lists of the day (each verified under the pinned root key; a
    /// rules list not above the one held is refused by the verifier) and, the first time,
    /// picks the shop's mode.
    fn sync(&mut self, lists: &Published, now: DateTime<Utc>) {
        let v = &self.verifier;
        v.apply_trust_list(&lists.trust, now)
            .unwrap_or_else(|e| panic!("trust list: {e}"));
        v.apply_revocation_list(&lists.revocation, now)
            .unwrap_or_else(|e| panic!("revocation list: {e}"));
        v.apply_rules_list(&lists.rules, now)
            .unwrap_or_else(|e| panic!("rules list: {e}"));
        if v.venue_mode().is_none() {
            v.set_venue_mode(self.mode)
                .unwrap_or_else(|e| panic!("venue mode: {e}"));
        }
    }

    /// Whether the rules the shop holds ask for a pass in its mode at `now`.
    fn needs_pass(&self, now: DateTime<Utc>) -> bool {
        self.verifier
            .rules_list()
            .and_then(|r| {
                let set = r.in_force(now)?;
                Some(matches!(set.mode(self.mode)?.rule, ModeRule::Pass(_)))
            })
            .unwrap_or(true)
    }

    /// What the shop's screen says for `shown` (a QR text, or nothing scanned) at `now`.
    pub fn judge(&mut self, shown: Option<&str>, now: DateTime<Utc>) -> String {
        match self.verifier.verify(shown.unwrap_or_default(), now) {
            Ok(Verdict::Valid { .. }) => "VALID".into(),
            Ok(Verdict::Exempt { .. }) => "exempt".into(),
            Ok(Verdict::NotValid {
                reason: Reason::Malformed,
                ..
            }) if shown.is_none() => "no pass".into(),
            // Short cells: `too_soon_after_vaccination`, not `policy_too_soon_after_vaccination`.
            Ok(Verdict::NotValid { reason, .. }) => {
                reason.code().trim_start_matches("policy_").into()
            }
            Err(e) => format!("error: {e}"),
        }
    }
}

/// The lists the authority published one morning.
struct Published {
    trust: Vec<u8>,
    revocation: Vec<u8>,
    rules: Vec<u8>,
}

/// The whole replay: the authority, the citizens' phones, the shops.
pub struct Replay {
    _dir: TempDir,
    authority: LocalAuthority,
    rule_sets: Vec<RuleSet>,
    rules_sequence: u64,
    pub citizens: Vec<Citizen>,
    phones: Vec<Phone>,
    pub shops: Vec<Shop>,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("shops", &self.shops)
            .finish_non_exhaustive()
    }
}

/// Every verdict of a replay: `(day, mode, citizen label)` to what each shop of that mode said.
pub type Verdicts = BTreeMap<(NaiveDate, &'static str, &'static str), Vec<String>>;

impl Replay {
    /// Sets up the world of 30 November 2021 with `rule_sets` (the Korean rules file, read by
    /// the authority's tooling): every citizen's passes issued, one shop per mode and sync day.
    pub fn new(rule_sets: Vec<RuleSet>) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
        let created = kst(date("2021-05-01"), 9);
        let authority = LocalAuthority::create(dir.path().join("authority.sqlite"), "KR", created)
            .unwrap_or_else(|e| panic!("authority: {e}"));
        let citizens = citizens();
        let phones = citizens
            .iter()
            .enumerate()
            .map(|(n, citizen)| {
                let wallet = Wallet::open(
                    dir.path().join(format!("wallet-{n}.sqlite")),
                    DeviceKeySource::default(),
                )
                .unwrap_or_else(|e| panic!("wallet: {e}"));
                let passes = (1..=citizen.events.len())
                    .map(|known| {
                        let events = citizen.events[..known].to_vec();
                        let issued_at = event_time(&events[known - 1]) + Duration::hours(1);
                        let pass = vaxpass::PassData {
                            person: Person {
                                name: format!("시민{n}"),
                                date_of_birth: date("1980-01-01"),
                            },
                            events,
                        };
                        let id = issue_into(
                            &authority,
                            &wallet,
                            &pass,
                            issued_at,
                            issued_at + Duration::days(365),
                            issued_at,
                        );
                        (issued_at, id)
                    })
                    .collect();
                Phone { wallet, passes }
            })
            .collect();
        let root = authority.root_public_key();
        let shops = MODES
            .iter()
            .flat_map(|&mode| SYNC_DAYS.iter().map(move |&sync_day| (mode, sync_day)))
            .map(|(mode, sync_day)| {
                let path = dir.path().join(format!("shop-{mode}-{sync_day}.sqlite"));
                Shop {
                    name: format!("{mode} syncing {}", weekday(sync_day)),
                    mode,
                    sync_day,
                    verifier: Verifier::open(path, root, VerifierConfig::default())
                        .unwrap_or_else(|e| panic!("verifier: {e}")),
                }
            })
            .collect();
        let mut replay = Self {
            _dir: dir,
            authority,
            rule_sets,
            rules_sequence: 0,
            citizens,
            phones,
            shops,
        };
        // Every shop starts with the lists of 30 November.
        let start = date(FIRST_DAY) - Duration::days(1);
        let lists = replay.publish(start);
        for shop in &mut replay.shops {
            shop.sync(&lists, kst(start, 8));
        }
        replay
    }

    /// The authority's publication of `day` at 07:00 KST: fresh trust and revocation lists and
    /// a rules list of every set taking effect by `day + LEAD_DAYS`.
    fn publish(&mut self, day: NaiveDate) -> Published {
        let now = kst(day, 7);
        let known: Vec<RuleSet> = self
            .rule_sets
            .iter()
            .filter(|s| s.takes_effect <= day + Duration::days(LEAD_DAYS))
            .cloned()
            .collect();
        self.rules_sequence += 1;
        let valid_for = Duration::hours(24);
        Published {
            trust: self
                .authority
                .trust_list(now, valid_for)
                .unwrap_or_default(),
            revocation: self
                .authority
                .revocation_list(now, valid_for)
                .unwrap_or_default(),
            rules: self
                .authority
                .signer()
                .sign_rules_list(self.rules_sequence, known, now, valid_for)
                .unwrap_or_else(|e| panic!("the rules file does not sign: {e}")),
        }
    }

    /// Replays `at_hour` KST of every day: the morning's publication, the shops whose weekday
    /// it is sync at 08:00, then every citizen shows their pass at every shop.
    pub fn run(&mut self, at_hour: u32) -> Verdicts {
        let mut verdicts = Verdicts::new();
        let first = date(FIRST_DAY);
        let mut day = first;
        while day <= date(LAST_DAY) {
            let index = (day - first).num_days();
            // The authority publishes every morning; only the mornings some shop syncs matter.
            if self.shops.iter().any(|shop| index % 7 == shop.sync_day) {
                let lists = self.publish(day);
                for shop in &mut self.shops {
                    if index % 7 == shop.sync_day {
                        shop.sync(&lists, kst(day, 8));
                    }
                }
            }
            let now = kst(day, at_hour);
            // A phone writes its trusted time with each QR it shows: show one only when a shop
            // will look at it.
            let looked_at = self.shops.iter().any(|shop| shop.needs_pass(now));
            for (citizen, phone) in self.citizens.iter().zip(&self.phones) {
                let shown = looked_at.then(|| phone.show(now)).flatten();
                for shop in &mut self.shops {
                    let verdict = shop.judge(shown.as_deref(), now);
                    verdicts
                        .entry((day, shop.mode, citizen.label))
                        .or_default()
                        .push(verdict);
                }
            }
            day += Duration::days(1);
        }
        verdicts
    }
}

impl Replay {
    /// The shop at `index` takes the lists the authority publishes on `day` (at 08:00 KST).
    pub fn sync_shop(&mut self, index: usize, day: NaiveDate) {
        let lists = self.publish(day);
        if let Some(shop) = self.shops.get_mut(index) {
            shop.sync(&lists, kst(day, 8));
        }
    }

    /// What the shop at `index` shows the citizen labelled `label` at `now`.
    pub fn judge(&mut self, index: usize, label: &str, now: DateTime<Utc>) -> String {
        let shown = self
            .citizens
            .iter()
            .position(|c| c.label == label)
            .and_then(|n| self.phones[n].show(now));
        match self.shops.get_mut(index) {
            Some(shop) => shop.judge(shown.as_deref(), now),
            None => "no such shop".into(),
        }
    }
}

fn event_time(event: &Event) -> DateTime<Utc> {
    match event {
        Event::Vaccination(v) => kst(v.date, 10),
        Event::Test(t) => t.sampled_at,
        Event::Recovery(r) => kst(r.first_positive, 10),
    }
}

fn weekday(sync_day: i64) -> String {
    (date(FIRST_DAY) + Duration::days(sync_day))
        .format("%As")
        .to_string()
}

/// The verdicts as a Markdown table, one row per day on which some verdict changed (and the
/// first), one column per citizen and mode; a cell where the shops disagreed lists them all.
pub fn table(verdicts: &Verdicts, citizens: &[Citizen]) -> String {
    let mut out = String::from("| from | mode |");
    for citizen in citizens {
        out.push_str(&format!(" {} |", citizen.label));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(citizens.len()));
    out.push('\n');
    for mode in MODES {
        let mut previous: Option<Vec<String>> = None;
        let days: Vec<NaiveDate> = verdicts
            .keys()
            .filter(|(_, m, _)| *m == mode)
            .map(|(d, _, _)| *d)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for day in days {
            let row: Vec<String> = citizens
                .iter()
                .map(|c| {
                    let said = &verdicts[&(day, mode, c.label)];
                    if said.iter().all(|v| v == &said[0]) {
                        said[0].clone()
                    } else {
                        said.join(" / ")
                    }
                })
                .collect();
            if previous.as_ref() != Some(&row) {
                out.push_str(&format!("| {day} | {mode} |"));
                for cell in &row {
                    out.push_str(&format!(" {cell} |"));
                }
                out.push('\n');
                previous = Some(row);
            }
        }
    }
    out
}
