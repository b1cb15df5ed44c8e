//! The issuer service as a child process: its registry seeded with the citizens, started on a free
//! loopback port, used through its HTTP API, and killed with SIGKILL at "11:40".

use std::fmt::Write as _;
use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use vaxpass::enrolment_code::{identity_proof, EnrolmentCode};

use crate::arrivals::Rng;
use crate::enrol::Enrolled;

/// Someone in the immunisation registry, with the enrolment code the authority gave them.
#[derive(Debug, Clone)]
pub struct Citizen {
    code: EnrolmentCode,
    name: String,
    birth_date: NaiveDate,
}

impl Citizen {
    /// `n` citizens with Korean names, birth dates from 1940 to 2005, and three Comirnaty doses
    /// (the third a booster), so the Korean 2022 policy accepts them.
    pub fn population(n: usize, rng: &mut Rng) -> Vec<Self> {
        const FAMILY: [&str; 10] = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"];
        const GIVEN: [&str; 12] = [
            "민준", "서연", "도윤", "하은", "지호", "수아", "예준", "지우", "시우", "서윤", "하준",
            "민서",
        ];
        (0..n)
            .map(|_| Citizen {
                code: EnrolmentCode::generate(),
                name: format!(
                    "{}{}",
                    FAMILY[rng.below(FAMILY.len())],
                    GIVEN[rng.below(GIVEN.len())]
                ),
                birth_date: NaiveDate::from_ymd_opt(
                    1940 + rng.below(66) as i32,
                    1 + rng.below(12) as u32,
                    1 + rng.below(28) as u32,
                )
                .unwrap_or_default(),
            })
            .collect()
    }

    /// What the citizen types into the app: the code and the date of birth.
    pub fn identity_proof(&self) -> Vec<u8> {
        identity_proof(&self.code, self.birth_date)
    }
}

/// The running service.
#[derive(Debug)]
pub struct Service {
    /// One `vaxpass-issuer serve` per replica, all on one store; killed together at 11:40.
    children: Vec<Child>,
    bases: Vec<String>,
    base: String,
    admin_token: String,
    agent: ureq::Agent,
    pub root_key: [u8; 32],
    /// How to start the replicas again after the outage.
    serve: Serve,
}

/// What `vaxpass-issuer serve` is started with.
#[derive(Debug, Clone)]
struct Serve {
    binary: PathBuf,
    dir: PathBuf,
    key_file: PathBuf,
    store: String,
    concurrency: u32,
    replicas: usize,
}

impl Service {
    /// Starts `replicas` services over one store: `store` (a PostgreSQL URL for several), or an
    /// SQLite file in `dir`.
    pub fn start(
        binary: &Path,
        dir: &Path,
        citizens: &[Citizen],
        concurrency: u32,
        store: Option<&str>,
        replicas: usize,
    ) -> Result<Self, String> {
        if !binary.is_file() {
            return Err(format!(
                "{} not found: build it with `cargo build -p vaxpass-issuer`",
                binary.display()
            ));
        }
        let key_file = dir.join("authority.sqlite");
        let store = store.map_or_else(
            || format!("sqlite:{}", dir.join("issuer.sqlite").display()),
            str::to_owned,
        );
        let cli = |args: &[&str]| -> Result<String, String> {
            let output = Command::new(binary)
                .arg("--key-file")
                .arg(&key_file)
                .args(["--store", &store])
                .args(args)
                .output()
                .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
            if !output.status.success() {
                return Err(format!(
                    "vaxpass-issuer {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        };
        cli(&["init", "--issuer", "KR"])?;
        let csv = dir.join("registry.csv");
        let mut text = String::from("code,name,birth_date,events\n");
        for c in citizens {
            let _ = writeln!(
                text,
                "{},{},{},comirnaty:1/2:2021-06-20;comirnaty:2/2:2021-07-25;comirnaty:3/2:2021-12-01",
                c.code, c.name, c.birth_date
            );
        }
        std::fs::write(&csv, text).map_err(|e| e.to_string())?;
        cli(&["registry", "import", &csv.display().to_string()])?;
        let root_hex = cli(&["root-key"])?;
        let root_key = parse_hex32(root_hex.trim()).ok_or("root-key printed no key")?;

        let admin_token = format!(
            "lunch-rush-{:016x}",
            Rng::new(u64::from(std::process::id())).next_u64()
        );
        let serve = Serve {
            binary: binary.to_owned(),
            dir: dir.to_owned(),
            key_file,
            store,
            concurrency,
            replicas: replicas.max(1),
        };
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build();
        let mut service = Self {
            children: Vec::new(),
            base: String::new(),
            bases: Vec::new(),
            admin_token,
            agent,
            root_key,
            serve,
        };
        service.spawn()?;
        Ok(service)
    }

    /// Starts the replicas (again) on fresh ports and waits until each answers.
    fn spawn(&mut self) -> Result<(), String> {
        let serve = &self.serve;
        let mut children = Vec::new();
        let mut bases = Vec::new();
        for replica in 0..serve.replicas {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| e.to_string())?
                .port();
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(serve.dir.join(format!("service-{replica}.log")))
                .map_err(|e| e.to_string())?;
            let child = Command::new(&serve.binary)
                .arg("--key-file")
                .arg(&serve.key_file)
                .args([
                    "--store",
                    &serve.store,
                    "serve",
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                ])
                .args(["--concurrency", &serve.concurrency.to_string()])
                .env("VAXPASS_ADMIN_TOKEN", &self.admin_token)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .map_err(|e| format!("cannot start the service: {e}"))?;
            children.push(child);
            bases.push(format!("http://127.0.0.1:{port}"));
        }
        self.children = children;
        self.base = bases[0].clone();
        self.bases = bases;
        let started = Instant::now();
        for base in &self.bases {
            while self.agent.get(&format!("{base}/healthz")).call().is_err() {
                if started.elapsed() > Duration::from_secs(30) {
                    return Err(
                        "the service did not come up within 30 s (see service-N.log)".into(),
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }

    /// The rules shops judge by: the Korean rules of early 2022, signed by the authority's root
    /// key in its key file. The service does not publish a rules list itself yet, so the replay
    /// signs it as the authority's publishing step would.
    pub fn rules_list(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<u8>, String> {
        let vault = vaxpass::KeyFile::open(&self.serve.key_file).map_err(|e| e.to_string())?;
        let authority = vaxpass::Authority::new("KR", self.root_key, std::sync::Arc::new(vault))
            .map_err(|e| e.to_string())?;
        authority
            .sign_rules_list(
                1,
                vec![vaxpass::RuleSet::korea_2022_standing()],
                now,
                chrono::Duration::hours(24),
            )
            .map_err(|e| e.to_string())
    }

    /// 12:40: the service is back, on the same store.
    pub fn restart(&mut self) -> Result<(), String> {
        self.spawn()
    }

    /// Posts a shop's signed anchor; the service must keep it.
    pub fn post_anchor(&self, anchor: &[u8]) -> Result<(), String> {
        let (status, _, body) = reply(
            self.agent
                .post(&format!("{}/v1/anchors", self.base))
                .set("Content-Type", "application/cbor")
                .send_bytes(anchor),
            "Content-Type",
            4096,
        )?;
        if status != 200 {
            return Err(format!(
                "anchor refused: HTTP {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }

    /// Every replica's address, for spreading load.
    pub fn bases(&self) -> &[String] {
        &self.bases
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Revokes a random `fraction` of the enrolled passes (lost phones) through the admin API and
    /// publishes new lists. Returns the indices into `enrolled`.
    pub fn revoke_some(
        &self,
        enrolled: &[Enrolled],
        fraction: f64,
        rng: &mut Rng,
    ) -> Result<Vec<usize>, String> {
        let count = ((enrolled.len() as f64 * fraction).ceil() as usize).min(enrolled.len());
        let mut chosen: Vec<usize> = Vec::with_capacity(count);
        while chosen.len() < count {
            let i = rng.below(enrolled.len());
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        for &i in &chosen {
            self.admin(&format!("revoke/{}", enrolled[i].credential.claims.id))?;
        }
        self.admin("publish")?;
        Ok(chosen)
    }

    fn admin(&self, operation: &str) -> Result<(), String> {
        self.agent
            .post(&format!("{}/v1/admin/{operation}", self.base))
            .set("Authorization", &format!("Bearer {}", self.admin_token))
            .send_bytes(&[])
            .map(drop)
            .map_err(|e| format!("admin {operation}: {e}"))
    }

    /// GETs a list; the shops' sync goes through the core's `apply_fetched`.
    pub fn get(&self, path: &str) -> Result<Reply, String> {
        reply(
            self.agent.get(&format!("{}{path}", self.base)).call(),
            "ETag",
            64 << 20,
        )
    }

    /// The services' peak resident memory so far (VmHWM, summed over the replicas), in KiB,
    /// where /proc tells.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.children
            .iter()
            .map(|child| {
                let status =
                    std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok()?;
                let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .sum()
    }

    /// 11:40: SIGKILL, no goodbye. Afterwards nothing answers on any replica's port.
    pub fn kill(&mut self) -> Result<(), String> {
        for mut child in self.children.drain(..) {
            child.kill().map_err(|e| e.to_string())?;
            child.wait().map_err(|e| e.to_string())?;
        }
        for base in &self.bases {
            match self.agent.get(&format!("{base}/healthz")).call() {
                Err(ureq::Error::Transport(_)) => {}
                _ => return Err("the service still answers after the kill".into()),
            }
        }
        Ok(())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        for mut child in self.children.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A status, one header's value, and the body (at most `limit` bytes).
pub type Reply = (u16, Option<String>, Vec<u8>);

/// Reads an answer whatever its status; only a transport failure is an error.
pub fn reply(
    result: Result<ureq::Response, ureq::Error>,
    header: &str,
    limit: u64,
) -> Result<Reply, String> {
    let response = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let (status, value) = (
        response.status(),
        response.header(header).map(str::to_owned),
    );
    let mut body = Vec::new();
    response
        .into_reader()
        .take(limit)
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    Ok((status, value, body))
}

fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}
