//! The configuration file (`--config FILE` or `VAXPASS_CONFIG`): TOML with any of the global and
//! `serve` settings, each under the name of its flag (`batch-size` is `batch_size`). A key the
//! service does not know is refused, and so is a secret written into the file: secrets come from
//! the environment or from a file named by path (`admin_token_file`).
//!
//! The file's values become the defaults of the command line's arguments, so a flag or an
//! environment variable overrides the file, and every value is checked exactly as its flag is.
//!
//! Sections: the top level (the store, list validity), `[keys]` (where the signing keys are: the
//! key file, or a PKCS#11 token), `[log]`, `[serve]`, `[identity.oidc]` (the OpenID Provider
//! `serve` trusts). Settings of a new kind get a section of their own here, each field mapped to
//! its flag in [`ConfigFile::defaults`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::logging::LogFormat;

/// Largest configuration file read.
const MAX_SIZE: u64 = 1024 * 1024;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `sqlite:PATH` or `postgres://…` (`--store`). Replicas share one.
    pub store: Option<String>,
    /// `--lists-valid-hours`.
    pub lists_valid_hours: Option<u32>,
    #[serde(default)]
    pub keys: KeysSection,
    #[serde(default)]
    pub log: LogSection,
    #[serde(default)]
    pub serve: ServeSection,
    #[serde(default)]
    pub identity: IdentitySection,
}

/// Where the authority's keys are.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysSection {
    /// The key file (`--key-file`).
    pub file: Option<PathBuf>,
    /// The PKCS#11 module of a hardware security module (`--hsm-module`).
    pub hsm_module: Option<PathBuf>,
    /// The token's label (`--hsm-token`).
    pub hsm_token: Option<String>,
    /// A file whose first line is the user PIN (`--hsm-pin-file`); the PIN itself is refused.
    pub hsm_pin_file: Option<PathBuf>,
    hsm_pin: Option<toml::Value>,
    /// Token sessions open at once (`--hsm-sessions`).
    pub hsm_sessions: Option<u16>,
}

/// Who identifies citizens besides enrolment codes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySection {
    pub oidc: Option<OidcSection>,
}

/// The OpenID Provider (`serve --oidc-*`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSection {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub subject_claim: Option<String>,
    pub leeway_secs: Option<u32>,
    pub max_age_secs: Option<u32>,
    pub refetch_secs: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `text` or `json` (`--log-format`).
    pub format: Option<LogFormat>,
    /// `RUST_LOG` syntax (`--log-level`).
    pub level: Option<String>,
}

/// The `serve` flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeSection {
    pub listen: Option<String>,
    /// Refused with a clear error: a secret does not belong in the file.
    admin_token: Option<toml::Value>,
    pub admin_token_file: Option<PathBuf>,
    pub concurrency: Option<u32>,
    pub batch_size: Option<u32>,
    pub batch_delay_ms: Option<u32>,
    pub queue: Option<u32>,
    pub max_connections: Option<u32>,
    pub lists_reload_secs: Option<u32>,
    pub credential_days: Option<u32>,
    pub address_failures: Option<u32>,
    pub address_failures_per_minute: Option<u32>,
    pub global_failures: Option<u32>,
    pub global_failures_per_minute: Option<u32>,
    pub workers: Option<usize>,
}

/// Settings as (argument id, value) pairs, global ones and those of `serve`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Defaults {
    pub global: Vec<(&'static str, String)>,
    pub serve: Vec<(&'static str, String)>,
}

fn push<T: ToString>(to: &mut Vec<(&'static str, String)>, id: &'static str, value: &Option<T>) {
    if let Some(value) = value {
        to.push((id, value.to_string()));
    }
}

impl ConfigFile {
    /// Reads and checks a configuration file. Errors name the file and the line, not its text
    /// (which could be a secret written in the wrong place).
    pub fn load(path: &Path) -> Result<Self, String> {
        let at = |e: std::io::Error| format!("the configuration file {}: {e}", path.display());
        let size = std::fs::metadata(path).map_err(at)?.len();
        if size > MAX_SIZE {
            return Err(format!(
                "the configuration file {} is larger than 1 MiB",
                path.display()
            ));
        }
        let text = std::fs::read_to_string(path).map_err(at)?;
        Self::parse(&text).map_err(|e| format!("the configuration file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: Self = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .and_then(|span| text.get(..span.start))
                .map(|before| before.matches('\n').count() + 1);
            match line {
                Some(line) => format!("line {line}: {}", e.message()),
                None => e.message().to_owned(),
            }
        })?;
        if file.keys.hsm_pin.is_some() {
            return Err(
                "keys.hsm_pin: the PIN is a secret and is not read from the configuration \
                 file; set VAXPASS_HSM_PIN or hsm_pin_file"
                    .into(),
            );
        }
        if file.serve.admin_token.is_some() {
            return Err(
                "serve.admin_token: the admin token is a secret and is not read from the \
                 configuration file; set VAXPASS_ADMIN_TOKEN or admin_token_file"
                    .into(),
            );
        }
        Ok(file)
    }

    /// The file's settings as the defaults of the command line's arguments.
    pub fn defaults(&self) -> Defaults {
        let mut global = Vec::new();
        push(&mut global, "store", &self.store);
        push(&mut global, "lists_valid_hours", &self.lists_valid_hours);
        push(
            &mut global,
            "key_file",
            &self.keys.file.as_ref().map(|p| p.display()),
        );
        push(
            &mut global,
            "log_format",
            &self.log.format.map(|f| match f {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            }),
        );
        push(&mut global, "log_level", &self.log.level);
        let s = &self.serve;
        let mut serve = Vec::new();
        push(&mut serve, "listen", &s.listen);
        push(
            &mut serve,
            "admin_token_file",
            &s.admin_token_file.as_ref().map(|p| p.display()),
        );
        push(&mut serve, "concurrency", &s.concurrency);
        push(&mut serve, "batch_size", &s.batch_size);
        push(&mut serve, "batch_delay_ms", &s.batch_delay_ms);
        push(&mut serve, "queue", &s.queue);
        push(&mut serve, "max_connections", &s.max_connections);
        push(&mut serve, "lists_reload_secs", &s.lists_reload_secs);
        push(&mut serve, "credential_days", &s.credential_days);
        push(&mut serve, "address_failures", &s.address_failures);
        push(
            &mut serve,
            "address_failures_per_minute",
            &s.address_failures_per_minute,
        );
        push(&mut serve, "global_failures", &s.global_failures);
        push(
            &mut serve,
            "global_failures_per_minute",
            &s.global_failures_per_minute,
        );
        push(&mut serve, "workers", &s.workers);
        let k = &self.keys;
        push(
            &mut global,
            "hsm_module",
            &k.hsm_module.as_ref().map(|p| p.display()),
        );
        push(&mut global, "hsm_token", &k.hsm_token);
        push(
            &mut global,
            "hsm_pin_file",
            &k.hsm_pin_file.as_ref().map(|p| p.display()),
        );
        push(&mut global, "hsm_sessions", &k.hsm_sessions);
        if let Some(o) = &self.identity.oidc {
            push(&mut serve, "oidc_issuer", &o.issuer);
            push(&mut serve, "oidc_client_id", &o.client_id);
            push(&mut serve, "oidc_subject_claim", &o.subject_claim);
            push(&mut serve, "oidc_leeway_secs", &o.leeway_secs);
            push(&mut serve, "oidc_max_age_secs", &o.max_age_secs);
            push(&mut serve, "oidc_refetch_secs", &o.refetch_secs);
        }
        Defaults { global, serve }
    }

    /// `command` with the file's settings as its defaults.
    pub fn apply(&self, command: clap::Command) -> clap::Command {
        let Defaults { global, serve } = self.defaults();
        let mut command = command;
        for (id, value) in global {
            command = command.mut_arg(id, |arg| arg.default_value(value));
        }
        command.mut_subcommand("serve", |mut sub| {
            for (id, value) in serve {
                sub = sub.mut_arg(id, |arg| arg.default_value(value));
            }
            sub
        })
    }
}

/// The configuration file named on the command line (`--config FILE`, `--config=FILE`) or by
/// `VAXPASS_CONFIG`, found before the command line is parsed (the file decides its defaults).
pub fn path_in(args: &[OsString]) -> Option<PathBuf> {
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else { continue };
        if text == "--" {
            break;
        }
        if text == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("VAXPASS_CONFIG")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    #[test]
    fn hsm_and_openid_settings_reach_their_flags_and_a_pin_is_refused() {
        let file = ConfigFile::parse(
            "[keys]\nhsm_module = \"/lib/p11.so\"\nhsm_token = \"t\"\nhsm_pin_file = \"pin\"\n\
             hsm_sessions = 2\n[identity.oidc]\nissuer = \"https://id.example\"\n\
             client_id = \"app\"\nsubject_claim = \"ci\"\nleeway_secs = 5\n",
        )
        .unwrap();
        let Defaults { global, serve } = file.defaults();
        for expected in [
            ("hsm_module", "/lib/p11.so"),
            ("hsm_token", "t"),
            ("hsm_pin_file", "pin"),
            ("hsm_sessions", "2"),
        ] {
            assert!(
                global.contains(&(expected.0, expected.1.into())),
                "{expected:?}"
            );
        }
        for expected in [
            ("oidc_issuer", "https://id.example"),
            ("oidc_client_id", "app"),
            ("oidc_subject_claim", "ci"),
            ("oidc_leeway_secs", "5"),
        ] {
            assert!(
                serve.contains(&(expected.0, expected.1.into())),
                "{expected:?}"
            );
        }
        // Every id names an argument of the real command line.
        let matches = file
            .apply(crate::config::Cli::command())
            .try_get_matches_from(["vaxpass-issuer", "serve"])
            .unwrap();
        let cli = crate::config::Cli::from_arg_matches(&matches).unwrap();
        assert_eq!(cli.hsm.hsm_token.as_deref(), Some("t"));
        let error = ConfigFile::parse("[keys]\nhsm_pin = \"123456\"\n").unwrap_err();
        assert!(error.contains("VAXPASS_HSM_PIN"), "{error}");
        assert!(!error.contains("123456"), "{error}");
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name_and_line() {
        let e = ConfigFile::parse("store = \"sqlite:x\"\n[serve]\nconcurency = 3\n").unwrap_err();
        assert!(e.contains("line 3") && e.contains("concurency"), "{e}");
        let e = ConfigFile::parse("[sreve]\n").unwrap_err();
        assert!(e.contains("sreve"), "{e}");
        let e = ConfigFile::parse("[serve]\nconcurrency = \"many\"\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn a_secret_in_the_file_is_refused_without_being_echoed() {
        let e =
            ConfigFile::parse("[serve]\nadmin_token = \"hunter2-hunter2-hunter2\"\n").unwrap_err();
        assert!(e.contains("VAXPASS_ADMIN_TOKEN"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        // A misspelt secret is refused too, and its value is not shown either.
        let e =
            ConfigFile::parse("[serve]\nadmin_tokn = \"hunter2-hunter2-hunter2\"\n").unwrap_err();
        assert!(e.contains("admin_tokn") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn settings_map_to_their_flags() {
        let file = ConfigFile::parse(
            "store = \"sqlite:s\"\n[keys]\nfile = \"k.sqlite\"\n[log]\nformat = \"json\"\n\
             [serve]\nconcurrency = 7\n",
        )
        .unwrap();
        let d = file.defaults();
        assert!(d.global.contains(&("store", "sqlite:s".into())));
        assert!(d.global.contains(&("key_file", "k.sqlite".into())));
        assert!(d.global.contains(&("log_format", "json".into())));
        assert_eq!(d.serve, vec![("concurrency", "7".to_owned())]);
    }

    #[test]
    fn every_setting_of_the_file_reaches_its_flag_and_a_flag_wins() {
        use crate::config::{Cli, Command};
        let file = ConfigFile::parse(
            r#"
            store = "sqlite:from-file.sqlite"
            lists_valid_hours = 12
            [keys]
            file = "keys.sqlite"
            [log]
            format = "json"
            level = "debug"
            [serve]
            listen = "127.0.0.1:9999"
            admin_token_file = "token"
            concurrency = 11
            batch_size = 12
            batch_delay_ms = 13
            queue = 14
            max_connections = 15
            lists_reload_secs = 16
            credential_days = 17
            address_failures = 18
            address_failures_per_minute = 19
            global_failures = 20
            global_failures_per_minute = 21
            workers = 3
            "#,
        )
        .unwrap();
        let parse = |args: &[&str]| {
            let matches = file
                .apply(Cli::command())
                .try_get_matches_from(args)
                .unwrap();
            Cli::from_arg_matches(&matches).unwrap()
        };
        let cli = parse(&["vaxpass-issuer", "serve", "--batch-size", "99"]);
        assert_eq!(cli.store.to_string(), "sqlite:from-file.sqlite");
        assert_eq!(cli.lists_valid_hours, 12);
        assert_eq!(cli.key_file, PathBuf::from("keys.sqlite"));
        assert_eq!(cli.log_format, LogFormat::Json);
        assert_eq!(cli.log_level, "debug");
        let Command::Serve(serve) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(serve.listen.to_string(), "127.0.0.1:9999");
        assert_eq!(serve.admin_token_file, Some(PathBuf::from("token")));
        let numbers = [
            serve.concurrency,
            serve.batch_size,
            serve.batch_delay_ms,
            serve.queue,
            serve.max_connections,
            serve.lists_reload_secs,
            serve.credential_days,
            serve.address_failures,
            serve.address_failures_per_minute,
            serve.global_failures,
            serve.global_failures_per_minute,
        ];
        assert_eq!(numbers, [11, 99, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
        assert_eq!(serve.workers, Some(3));
        // Other commands get the global settings too.
        let cli = parse(&["vaxpass-issuer", "--store", "sqlite:flag.sqlite", "stats"]);
        assert_eq!(cli.store.to_string(), "sqlite:flag.sqlite");
        assert_eq!(cli.key_file, PathBuf::from("keys.sqlite"));
    }

    #[test]
    fn the_config_path_is_found_before_parsing() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            path_in(&args(&["x", "--config", "a.toml", "serve"])),
            Some("a.toml".into())
        );
        assert_eq!(
            path_in(&args(&["x", "serve", "--config=b.toml"])),
            Some("b.toml".into())
        );
    }
}
