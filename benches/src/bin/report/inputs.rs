//! The report's inputs: the machine, criterion's estimates, and the memory and FFI results that
//! `scripts/bench-report.sh` wrote as JSON.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::Result;

/// The machine the run was made on.
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub rustc: String,
    pub date: String,
}

impl Machine {
    pub fn this_one() -> Result<Self> {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |text: &str, name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_owned())
        };
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kib: f64 = field(&meminfo, "MemTotal")
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        let rustc = std::process::Command::new("rustc").arg("-V").output()?;
        Ok(Self {
            cpu: field(&cpuinfo, "model name").unwrap_or_else(|| "unknown CPU".into()),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_gib: mem_kib / (1024.0 * 1024.0),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            rustc: String::from_utf8_lossy(&rustc.stdout).trim().to_owned(),
            date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        })
    }
}

/// One criterion estimate, in nanoseconds: the median and its 95% confidence interval.
#[derive(Clone, Copy)]
pub struct Estimate {
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

/// Criterion's medians, by `group/id` (the ids in benches/benches/vaxpass.rs).
pub struct Times(BTreeMap<String, Estimate>);

impl Times {
    pub const ALL: [&'static str; 23] = [
        "verify/floor",
        "verify/vaxpass",
        "verify/es256-floor",
        "verify/vaxpass-es256",
        "verify/dcc",
        "verify/dcc-p256",
        "signature/ed25519-verify",
        "signature/ed25519-verify-strict",
        "signature/ed25519-vaxpass",
        "signature/ed25519-ring",
        "signature/es256-p256",
        "signature/es256-ring",
        "signature/es256-vaxpass",
        "display/floor",
        "display/presentation",
        "display/cold-start",
        "issue/sign",
        "issue/durable",
        "issue/batch-64",
        "lists/trust-list-1000",
        "lists/revocation-hit",
        "lists/revocation-miss",
        "lists/verify-1m-revoked",
    ];

    pub fn read(criterion: &Path) -> Result<Self> {
        let mut times = BTreeMap::new();
        for id in Self::ALL {
            let path = criterion.join(id).join("new/estimates.json");
            let json: Value = serde_json::from_slice(
                &std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
            )?;
            let median = &json["median"];
            let number = |v: &Value| {
                v.as_f64()
                    .ok_or_else(|| format!("{}: no median estimate", path.display()))
            };
            times.insert(
                id.to_owned(),
                Estimate {
                    median: number(&median["point_estimate"])?,
                    low: number(&median["confidence_interval"]["lower_bound"])?,
                    high: number(&median["confidence_interval"]["upper_bound"])?,
                },
            );
        }
        Ok(Self(times))
    }

    pub fn get(&self, id: &str) -> Estimate {
        // Every id in ALL was read, and only those are asked for.
        self.0.get(id).copied().unwrap_or(Estimate {
            median: f64::NAN,
            low: f64::NAN,
            high: f64::NAN,
        })
    }

    /// Median in nanoseconds.
    pub fn ns(&self, id: &str) -> f64 {
        self.get(id).median
    }
}

/// The stripped release library and its budget, as `scripts/check-library-size.sh` wrote them.
pub struct Library {
    pub bytes: u64,
    pub limit: u64,
}

impl Library {
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json: Value = serde_json::from_str(&text)?;
        let n = |field: &str| {
            json[field]
                .as_u64()
                .ok_or_else(|| format!("{}: no {field}", path.display()))
        };
        Ok(Self {
            bytes: n("bytes")?,
            limit: n("limit")?,
        })
    }
}

/// The verifier's memory with 1,000,000 revocations (benches/examples/revocation_memory.rs).
pub struct Memory {
    pub entries: u64,
    pub list_bytes: u64,
    pub apply_peak_kib: u64,
    pub apply_rss_kib: u64,
    pub restart_peak_kib: u64,
    pub restart_rss_kib: u64,
}

impl Memory {
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json: Value = serde_json::from_str(text.lines().last().unwrap_or_default())?;
        let n = |v: &Value| {
            v.as_u64()
                .ok_or_else(|| format!("{}: missing figure", path.display()))
        };
        Ok(Self {
            entries: n(&json["entries"])?,
            list_bytes: n(&json["list_bytes"])?,
            apply_peak_kib: n(&json["apply"]["peak_kib"])?,
            apply_rss_kib: n(&json["apply"]["rss_kib"])?,
            restart_peak_kib: n(&json["restart"]["peak_kib"])?,
            restart_rss_kib: n(&json["restart"]["rss_kib"])?,
        })
    }
}

/// One language's verify call through the bindings (benches/ffi), and a bare call beside it.
pub struct Call {
    pub language: String,
    pub median_ns: f64,
    pub min_ns: f64,
    pub rounds: u64,
    pub calls_per_round: u64,
    /// `TrustList.sequence()`: no arguments, an integer back; the floor of any call.
    pub bare_call_ns: f64,
}

impl Call {
    /// A language the targets are about; not the Rust baseline nor the unpatched Kotlin.
    pub fn is_shipped_binding(&self) -> bool {
        matches!(self.language.as_str(), "kotlin" | "swift" | "python")
    }
}

pub struct Ffi(pub Vec<Call>);

impl Ffi {
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut calls = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let json: Value = serde_json::from_str(line)?;
            let missing = || format!("{}: incomplete line {line}", path.display());
            calls.push(Call {
                language: json["language"].as_str().ok_or_else(missing)?.to_owned(),
                median_ns: json["median_ns"].as_f64().ok_or_else(missing)?,
                min_ns: json["min_ns"].as_f64().ok_or_else(missing)?,
                rounds: json["rounds"].as_u64().ok_or_else(missing)?,
                calls_per_round: json["calls_per_round"].as_u64().ok_or_else(missing)?,
                bare_call_ns: json["bare_call_ns"].as_f64().ok_or_else(missing)?,
            });
        }
        if !calls.iter().any(|c| c.language == "rust") {
            return Err(format!("{}: no Rust baseline", path.display()).into());
        }
        Ok(Self(calls))
    }

    pub fn rust(&self) -> Option<&Call> {
        self.language("rust")
    }

    pub fn language(&self, language: &str) -> Option<&Call> {
        self.0.iter().find(|c| c.language == language)
    }
}
