//! `vaxpass-issuer`: the issuer service (`serve`), and the authority's operations run directly on
//! the vault (the key file) and the store (`init`, `registry add|import`, `revoke`, `restore`, `rotate-key`,
//! `compromise`, `publish`, `root-key`, `stats`).

use std::io::{BufRead, BufReader};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use clap::{CommandFactory, FromArgMatches};
use vaxpass::enrolment_code::EnrolmentCode;
use vaxpass_issuer::authority::{open_vault, ServiceAuthority};
use vaxpass_issuer::config::{Cli, Command, RegistryCommand, ServiceConfig};
use vaxpass_issuer::config_file::{self, ConfigFile};
use vaxpass_issuer::identity::CodeKey;
use vaxpass_issuer::logging;
use vaxpass_issuer::ops;
use vaxpass_issuer::registry::{self, parse_event};
use vaxpass_issuer::server::{self, AnyError};
use vaxpass_issuer::store::{self, CitizenId, Revoked, Store};

fn main() -> ExitCode {
    let cli = match parse_command_line() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("vaxpass-issuer: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = logging::init(cli.log_format, &cli.log_level) {
        eprintln!("vaxpass-issuer: {e}");
        return ExitCode::from(2);
    }
    let serving = matches!(cli.command, Command::Serve(_));
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().max_blocking_threads(64);
    match &cli.command {
        Command::Serve(args) => {
            if let Some(workers) = args.workers {
                builder.worker_threads(workers.max(1));
            }
        }
        _ => {
            builder.worker_threads(1);
        }
    }
    let runtime = match builder.build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("vaxpass-issuer: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // The service's log may be JSON: its last word is a log event too.
        Err(e) if serving => {
            tracing::error!(error = %e, "the service stopped on an error");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("vaxpass-issuer: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The command line, over the configuration file's settings if one is named. Exits on `--help`,
/// `--version` and flag errors as clap does.
fn parse_command_line() -> Result<Cli, String> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = match config_file::path_in(&args) {
        Some(path) => ConfigFile::load(&path)?.apply(Cli::command()),
        None => Cli::command(),
    };
    let matches = command.get_matches_from(args);
    Cli::from_arg_matches(&matches).map_err(|e| e.to_string())
}

async fn run(cli: Cli) -> Result<(), AnyError> {
    let valid_for = chrono::Duration::hours(i64::from(cli.lists_valid_hours));
    match &cli.command {
        Command::Serve(args) => server::run(ServiceConfig::new(&cli, args)?).await,
        Command::Init { issuer } => {
            // The vault first: a token refusing the PIN stops init before anything is written.
            let vault = open_vault(&cli.key_file, cli.hsm.config()?.as_ref(), true)?;
            let store = store::open(&cli.store).await?;
            println!("store {} ready", cli.store);
            let (authority, created) =
                ServiceAuthority::init(store.clone(), vault, issuer, Utc::now()).await?;
            if created {
                println!(
                    "created the authority (issuer {issuer}), its keys {}",
                    match &cli.hsm.hsm_token {
                        Some(token) => format!("in the token {token}"),
                        None => format!("in the key file {}", cli.key_file.display()),
                    }
                );
            } else {
                println!("the store already holds an authority, kept");
            }
            CodeKey::open_beside(&cli.key_file, true)?;
            println!(
                "code key {} ready (keep it with the key file)",
                CodeKey::path_beside(&cli.key_file).display()
            );
            let published = ops::publish(&authority, store.as_ref(), valid_for).await?;
            print_publication(&published);
            println!(
                "root public key (verifiers pin it): {}",
                hex::encode(authority.root_public_key())
            );
            Ok(())
        }
        Command::Registry(RegistryCommand::Add {
            name,
            birth_date,
            dose,
            test,
            recovery,
            code,
            subject,
        }) => {
            let key = CodeKey::open_beside(&cli.key_file, false)?;
            let store = store::open(&cli.store).await?;
            let mut events = Vec::new();
            for text in dose {
                events.push(parse_event(text)?);
            }
            for text in test {
                let text = text.strip_prefix("test:").unwrap_or(text);
                events.push(parse_event(&format!("test:{text}"))?);
            }
            for text in recovery {
                let text = text.strip_prefix("recovery:").unwrap_or(text);
                events.push(parse_event(&format!("recovery:{text}"))?);
            }
            let (code, generated) = match code {
                Some(code) => (code.clone(), false),
                None => (EnrolmentCode::generate().to_string(), true),
            };
            let mut citizen = registry::new_citizen(&key, &code, name, birth_date, events)?;
            if subject.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return Err("--subject needs a value".into());
            }
            citizen.subject = subject.as_deref().map(|s| key.hash_subject(s));
            let passes = citizen.passes.len();
            let ids = store.add_citizens(vec![citizen]).await?;
            let id = ids.first().ok_or("no citizen was added")?;
            println!("added citizen {id} with {passes} pass(es)");
            if generated {
                println!("enrolment code: {code}");
            }
            Ok(())
        }
        Command::Registry(RegistryCommand::Import { file, chunk }) => {
            let key = CodeKey::open_beside(&cli.key_file, false)?;
            let store = store::open(&cli.store).await?;
            import(store.as_ref(), &key, file, (*chunk).max(1)).await
        }
        Command::Restore { citizen } => {
            let key = CodeKey::open_beside(&cli.key_file, false)?;
            let (store, authority) = open_authority(&cli).await?;
            let restored = ops::restore(store.as_ref(), &key, CitizenId(*citizen)).await?;
            for id in &restored.revoked {
                println!("revoked {id}");
            }
            let published = ops::publish(&authority, store.as_ref(), valid_for).await?;
            print_publication(&published);
            println!("new enrolment code: {}", restored.code);
            Ok(())
        }
        Command::Revoke { id } => {
            let store = store::open(&cli.store).await?;
            let id = ops::parse_credential_id(id)?;
            match ops::revoke(store.as_ref(), id).await? {
                Revoked::Now => println!("revoked {id}; publish to put it on the served list"),
                Revoked::Already => println!("{id} was already revoked"),
                Revoked::NotIssued => {
                    return Err("this service has not issued that credential".into())
                }
            }
            Ok(())
        }
        Command::RotateKey => {
            let (_, authority) = open_authority(&cli).await?;
            let kid = ops::rotate(&authority).await?;
            println!(
                "new issuer key {}; publish so verifiers learn it",
                hex::encode(kid)
            );
            Ok(())
        }
        Command::Compromise { kid, revoked_after } => {
            let (_, authority) = open_authority(&cli).await?;
            let kid = ops::parse_kid(kid)?;
            let revoked_after = ops::parse_time(revoked_after)?;
            ops::compromise(&authority, kid, revoked_after).await?;
            println!(
                "issuer key {} marked compromised from {}; rotate-key if it was active, then publish",
                hex::encode(kid),
                revoked_after.to_rfc3339()
            );
            Ok(())
        }
        Command::Publish => {
            let (store, authority) = open_authority(&cli).await?;
            let published = ops::publish(&authority, store.as_ref(), valid_for).await?;
            print_publication(&published);
            Ok(())
        }
        Command::PublishRules { file } => {
            let text = read_rules_file(file)?;
            let (store, authority) = open_authority(&cli).await?;
            let published =
                ops::publish_rules(&authority, store.as_ref(), &text, valid_for).await?;
            println!(
                "published rules list #{} ({} rule sets)",
                published.rules_sequence, published.rule_sets
            );
            Ok(())
        }
        Command::RootKey => {
            let (_, authority) = open_authority(&cli).await?;
            println!("{}", hex::encode(authority.root_public_key()));
            Ok(())
        }
        Command::Stats => {
            let store = store::open(&cli.store).await?;
            let counts = store.counts().await?;
            let mut value = serde_json::to_value(counts)?;
            value["backend"] = store.backend().into();
            println!("{value}");
            Ok(())
        }
    }
}

/// The store and the authority it holds, signing through the configured vault (the key file, or
/// the PKCS#11 token of `--hsm-module`/`--hsm-token`, logged in to before anything is changed).
async fn open_authority(cli: &Cli) -> Result<(Arc<dyn Store>, ServiceAuthority), AnyError> {
    let store = store::open(&cli.store).await?;
    let vault = open_vault(&cli.key_file, cli.hsm.config()?.as_ref(), false)?;
    let authority = ServiceAuthority::open(store.clone(), vault).await?;
    Ok((store, authority))
}

fn print_publication(p: &ops::Publication) {
    println!(
        "published trust list #{} and revocation list #{} ({} revoked)",
        p.trust_sequence, p.revocation_sequence, p.revoked
    );
    if let Some(rules) = p.rules_sequence {
        println!("re-signed the rules list as #{rules}");
    }
}

/// Reads a rules file, bounded before it is read whole.
fn read_rules_file(path: &std::path::Path) -> Result<String, AnyError> {
    use std::io::Read;
    let limit = vaxpass_issuer::rules_file::MAX_RULES_FILE_BYTES;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit as u64 + 1).read_to_string(&mut text))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if text.len() > limit {
        return Err(format!("{}: larger than {limit} bytes", path.display()).into());
    }
    Ok(text)
}

/// Imports a CSV file in transactions of `chunk` citizens. Errors name the line, not its content.
async fn import(
    store: &dyn Store,
    key: &CodeKey,
    file: &std::path::Path,
    chunk: usize,
) -> Result<(), AnyError> {
    let started = Instant::now();
    let reader = BufReader::new(std::fs::File::open(file)?);
    let mut pending = Vec::with_capacity(chunk);
    let mut total = 0usize;
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        match registry::csv_record(key, &line) {
            Ok(Some(citizen)) => pending.push(citizen),
            Ok(None) => {}
            Err(why) => return Err(format!("line {}: {why}", index + 1).into()),
        }
        if pending.len() == chunk {
            total += store
                .add_citizens(std::mem::take(&mut pending))
                .await?
                .len();
        }
    }
    if !pending.is_empty() {
        total += store.add_citizens(pending).await?.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "imported {total} citizens in {seconds:.1} s ({:.0}/s)",
        total as f64 / seconds.max(1e-3)
    );
    Ok(())
}
