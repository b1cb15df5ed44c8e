//! Configuration from command-line flags, environment variables (`VAXPASS_*`) and a configuration
//! file ([`crate::config_file`]): the command line of `vaxpass-issuer`, the store URL and the
//! service's limits. A flag wins over its environment variable, which wins over the file.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Where the service keeps its state: `sqlite:PATH` or `postgres://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl FromStr for StoreUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("sqlite: needs a file path, e.g. sqlite:issuer.sqlite".into());
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(Self::Postgres(s.to_owned()))
        } else {
            Err("the store is sqlite:PATH or postgres://user@host:port/database".into())
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            // May carry a password.
            Self::Postgres(_) => f.write_str("postgres://<redacted>"),
        }
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A secret from the command line or the environment; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl FromStr for Secret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() < 16 {
            return Err("the admin token must be at least 16 characters".into());
        }
        Ok(Self(s.to_owned()))
    }
}

impl Secret {
    /// Reads a secret from a file (its first line, without surrounding white space). Errors name
    /// the file, never its content.
    pub fn read(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading the secret file {}: {e}", path.display()))?;
        text.lines()
            .next()
            .unwrap_or_default()
            .trim()
            .parse()
            .map_err(|e| format!("the secret file {}: {e}", path.display()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The issuer service of vaxpass: enrolment, list distribution and the authority's operations.
#[derive(Debug, Parser)]
#[command(name = "vaxpass-issuer", version)]
pub struct Cli {
    /// A TOML configuration file with any of the global and `serve` settings (see the README);
    /// flags and environment variables override it.
    #[arg(long, env = "VAXPASS_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Log lines as text or JSON (one object a line), on stderr.
    #[arg(
        long,
        env = "VAXPASS_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: crate::logging::LogFormat,
    /// Which events are logged, in `RUST_LOG` syntax: `info`, `debug`, `vaxpass_issuer=debug,warn`.
    #[arg(long, env = "RUST_LOG", default_value = "info", global = true)]
    pub log_level: String,
    /// The authority's key file (SQLite, holds the root and issuer keys).
    #[arg(
        long,
        env = "VAXPASS_KEY_FILE",
        default_value = "vaxpass-authority.sqlite",
        global = true
    )]
    pub key_file: PathBuf,
    /// The service's store: sqlite:PATH or postgres://user@host:port/database.
    #[arg(
        long,
        env = "VAXPASS_STORE",
        default_value = "sqlite:vaxpass-issuer.sqlite",
        global = true
    )]
    pub store: StoreUrl,
    /// How long published lists are valid (their next-update time), in hours.
    #[arg(long, env = "VAXPASS_LISTS_VALID_HOURS", default_value_t = 24, global = true,
          value_parser = clap::value_parser!(u32).range(1..=24 * 7))]
    pub lists_valid_hours: u32,
    /// Where the authority's keys are: the key file, or a PKCS#11 token.
    #[command(flatten)]
    pub hsm: crate::hsm::HsmArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the HTTP service.
    Serve(ServeArgs),
    /// Creates the key file (if missing) and the store, and publishes the first lists.
    Init {
        /// The authority's issuer name (CWT `iss`).
        #[arg(long, default_value = "KR")]
        issuer: String,
    },
    /// Adds citizens to the registry.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Revokes one credential (it appears on the next published revocation list).
    Revoke {
        /// The credential id, 12 hex digits.
        id: String,
    },
    /// Retires the active issuer key and makes a new one.
    RotateKey,
    /// Marks an issuer key as leaked from a time on.
    Compromise {
        /// The key id, 16 hex digits.
        kid: String,
        /// RFC 3339 time; credentials it signed from then on are refused.
        #[arg(long)]
        revoked_after: String,
    },
    /// Signs and publishes a fresh trust list and revocation list (and the rules list again,
    /// once a rules file was published).
    Publish,
    /// Publishes a rules file (TOML: dated rule sets and venue modes, e.g. rules/korea-2021-2022.toml)
    /// as the next rules list; every later publish re-signs it.
    PublishRules {
        /// The rules file.
        file: std::path::PathBuf,
    },
    /// Restores a citizen whose code was taken: revokes every credential issued to them (the
    /// other device's among them), gives them a new code, and publishes.
    Restore {
        /// The citizen's id in the registry.
        citizen: i64,
    },
    /// Prints the root public key (hex) that verifiers pin.
    RootKey,
    /// Prints row counts of the store as JSON.
    Stats,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Adds one citizen.
    Add {
        #[arg(long)]
        name: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        birth_date: String,
        /// A dose: product:dose/of:date, e.g. comirnaty:1/2:2021-06-20 (repeatable).
        #[arg(long)]
        dose: Vec<String>,
        /// A test: test:pcr|rat:negative|positive:RFC3339 (repeatable).
        #[arg(long)]
        test: Vec<String>,
        /// A recovery: recovery:YYYY-MM-DD (repeatable).
        #[arg(long)]
        recovery: Vec<String>,
        /// The one-time enrolment code, e.g. 7K3M-Q9X2-ABCD-EFG0 (16 symbols, the last a check
        /// symbol); one is generated if omitted.
        #[arg(long)]
        code: Option<String>,
        /// Who the citizen is at the OpenID Connect provider: the value of the configured claim
        /// (`serve --oidc-subject-claim`, `sub` by default); only its keyed hash is stored.
        #[arg(long)]
        subject: Option<String>,
    },
    /// Imports citizens from a CSV file: code,name,birth_date,events (events separated by ';').
    Import {
        file: PathBuf,
        /// Citizens per transaction.
        #[arg(long, default_value_t = 10_000)]
        chunk: usize,
    },
}

/// `serve` flags.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; put a TLS-terminating proxy in front).
    #[arg(long, env = "VAXPASS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Bearer token of the admin API (prefer the environment variable). Without it the admin
    /// API refuses every request.
    #[arg(long, env = "VAXPASS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<Secret>,
    /// A file holding the admin token (e.g. a mounted secret); used when no token is given.
    #[arg(long, env = "VAXPASS_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Enrolment requests (nonce and enrolment) in flight at once; past it, 429 at once. A
    /// quarter is kept for enrolments, so nonces are refused first. It also bounds the latency of
    /// admitted requests under overload (about limit / throughput).
    #[arg(long, env = "VAXPASS_CONCURRENCY", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub concurrency: u32,
    /// Most items in one group commit.
    #[arg(long, env = "VAXPASS_BATCH_SIZE", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// How long a group commit waits for more items after the first, in milliseconds.
    #[arg(long, env = "VAXPASS_BATCH_DELAY_MS", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub batch_delay_ms: u32,
    /// Items waiting for the batcher; past it, 503 at once.
    #[arg(long, env = "VAXPASS_QUEUE", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub queue: u32,
    /// Open connections at most; further ones wait in the listen backlog.
    #[arg(long, env = "VAXPASS_MAX_CONNECTIONS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// How often the served lists are reloaded from the store, in seconds.
    #[arg(long, env = "VAXPASS_LISTS_RELOAD_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub lists_reload_secs: u32,
    /// How long issued credentials are valid, in days (at most `Authority::MAX_CREDENTIAL_LIFETIME`).
    #[arg(long, env = "VAXPASS_CREDENTIAL_DAYS", default_value_t = 365,
          value_parser = clap::value_parser!(u32).range(1..=730))]
    pub credential_days: u32,
    /// Failed enrolment attempts one client address may make at once (an IPv6 /64 is one
    /// address); past them it gets 429 until they refill.
    #[arg(long, env = "VAXPASS_ADDRESS_FAILURES", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub address_failures: u32,
    /// Failed attempts an address regains per minute.
    #[arg(long, env = "VAXPASS_ADDRESS_FAILURES_PER_MINUTE", default_value_t = 6,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub address_failures_per_minute: u32,
    /// Failed identity proofs checked across all addresses at once; while used up, only
    /// addresses without a recent failure get their proof checked.
    #[arg(long, env = "VAXPASS_GLOBAL_FAILURES", default_value_t = 6_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub global_failures: u32,
    /// Failed identity proofs regained per minute, across all addresses.
    #[arg(long, env = "VAXPASS_GLOBAL_FAILURES_PER_MINUTE", default_value_t = 6_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub global_failures_per_minute: u32,
    /// The OpenID Connect provider's issuer URL; enables ID tokens as identity proofs (beside the
    /// enrolment codes). Needs --oidc-client-id.
    #[arg(long, env = "VAXPASS_OIDC_ISSUER", requires = "oidc_client_id")]
    pub oidc_issuer: Option<String>,
    /// The wallet app's client id at the provider (the ID tokens' audience).
    #[arg(long, env = "VAXPASS_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// The ID token claim that names the citizen (`registry add --subject`).
    #[arg(long, env = "VAXPASS_OIDC_SUBJECT_CLAIM", default_value = "sub")]
    pub oidc_subject_claim: String,
    /// Clock difference tolerated with the provider, in seconds.
    #[arg(long, env = "VAXPASS_OIDC_LEEWAY_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(0..=600))]
    pub oidc_leeway_secs: u32,
    /// Oldest ID token accepted (its `iat`), in seconds.
    #[arg(long, env = "VAXPASS_OIDC_MAX_AGE_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub oidc_max_age_secs: u32,
    /// Fewest seconds between two fetches of the provider's keys (an unknown `kid` triggers one).
    #[arg(long, env = "VAXPASS_OIDC_REFETCH_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub oidc_refetch_secs: u32,
    /// Runtime worker threads (default: one per core).
    #[arg(long, env = "VAXPASS_WORKERS")]
    pub workers: Option<usize>,
}

/// The service's settings, resolved.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub listen: SocketAddr,
    pub key_file: PathBuf,
    /// The PKCS#11 token holding the keys instead of the key file.
    pub hsm: Option<crate::hsm::HsmConfig>,
    pub store: StoreUrl,
    pub admin_token: Option<Secret>,
    pub concurrency: usize,
    pub batch_size: usize,
    pub batch_delay: Duration,
    pub queue: usize,
    pub max_connections: usize,
    pub lists_reload: Duration,
    pub lists_valid_for: chrono::Duration,
    pub credential_validity: chrono::Duration,
    /// Limits on failed enrolment attempts.
    pub attempts: crate::attempts::AttemptConfig,
    /// Largest request body accepted.
    pub body_limit: usize,
    /// How long an enrolment body may take to arrive, in all.
    pub body_timeout: Duration,
    /// How long a handler waits for its group commit before answering 503.
    pub commit_timeout: Duration,
    /// How long open requests may take to finish on shutdown.
    pub drain_timeout: Duration,
    /// The OpenID Connect provider, if ID tokens are taken.
    pub oidc: Option<crate::identity::OidcConfig>,
}

impl ServiceConfig {
    pub const BODY_LIMIT: usize = 16 * 1024;

    pub fn new(cli: &Cli, serve: &ServeArgs) -> Result<Self, String> {
        let admin_token = match (&serve.admin_token, &serve.admin_token_file) {
            (Some(token), _) => Some(token.clone()),
            (None, Some(path)) => Some(Secret::read(path)?),
            (None, None) => None,
        };
        Ok(Self {
            listen: serve.listen,
            key_file: cli.key_file.clone(),
            hsm: cli.hsm.config().map_err(|e| e.to_string())?,
            store: cli.store.clone(),
            admin_token,
            concurrency: serve.concurrency as usize,
            batch_size: serve.batch_size as usize,
            batch_delay: Duration::from_millis(u64::from(serve.batch_delay_ms)),
            queue: serve.queue as usize,
            max_connections: serve.max_connections as usize,
            lists_reload: Duration::from_secs(u64::from(serve.lists_reload_secs)),
            lists_valid_for: chrono::Duration::hours(i64::from(cli.lists_valid_hours)),
            credential_validity: chrono::Duration::days(i64::from(serve.credential_days)),
            attempts: crate::attempts::AttemptConfig {
                per_address_burst: serve.address_failures,
                per_address_per_minute: serve.address_failures_per_minute,
                global_burst: serve.global_failures,
                global_per_minute: serve.global_failures_per_minute,
                ..Default::default()
            },
            body_limit: Self::BODY_LIMIT,
            body_timeout: Duration::from_secs(5),
            commit_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(15),
            oidc: serve
                .oidc_issuer
                .as_deref()
                .zip(serve.oidc_client_id.as_deref())
                .map(|(issuer, client_id)| crate::identity::OidcConfig {
                    subject_claim: serve.oidc_subject_claim.clone(),
                    leeway: Duration::from_secs(u64::from(serve.oidc_leeway_secs)),
                    max_age: Duration::from_secs(u64::from(serve.oidc_max_age_secs)),
                    refetch_interval: Duration::from_secs(u64::from(serve.oidc_refetch_secs)),
                    ..crate::identity::OidcConfig::new(issuer, client_id)
                }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        assert_eq!(
            "sqlite:a/b.sqlite".parse::<StoreUrl>(),
            Ok(StoreUrl::Sqlite("a/b.sqlite".into()))
        );
        assert_eq!(
            "sqlite:///tmp/x".parse::<StoreUrl>(),
            Ok(StoreUrl::Sqlite("/tmp/x".into()))
        );
        assert!(matches!(
            "postgres://u:secret@h/db".parse::<StoreUrl>(),
            Ok(StoreUrl::Postgres(_))
        ));
        let url: StoreUrl = "postgres://u:secret@h/db".parse().unwrap();
        assert!(!format!("{url:?} {url}").contains("secret"));
        assert!("mysql://x".parse::<StoreUrl>().is_err());
        assert!("sqlite:".parse::<StoreUrl>().is_err());
    }
}
