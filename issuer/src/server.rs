//! Starting and stopping the service: open the store and the vault, start the batcher and the
//! list reloader, serve HTTP until SIGTERM or SIGINT, then drain: stop accepting, answer what is
//! in progress, let the batcher commit what it holds, exit.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::net::TcpListener;

use crate::attempts::Attempts;
use crate::authority::{open_vault, ServiceAuthority};
use crate::batcher::{BatchConfig, Batcher};
use crate::config::ServiceConfig;
use crate::http::{self, admin::AdminAuth, lists, AppState};
use crate::identity::{CodeKey, Identities, OidcProvider, RegistryCodes};
use crate::store;

pub type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Binds the configured address and runs until SIGTERM or SIGINT.
pub async fn run(config: ServiceConfig) -> Result<(), AnyError> {
    let listener = TcpListener::bind(config.listen).await?;
    run_on(listener, config, shutdown_signal()).await
}

/// Runs on an already bound listener until `shutdown` resolves.
pub async fn run_on(
    listener: TcpListener,
    config: ServiceConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AnyError> {
    let code_key = CodeKey::open_beside(&config.key_file, false)?;
    let store = store::open(&config.store)
        .await
        .map_err(|e| format!("opening the store {}: {e}", config.store))?;
    let metrics = crate::metrics::Metrics::new();
    let vault = open_vault(&config.key_file, config.hsm.as_ref(), false)?;
    let authority = Arc::new(ServiceAuthority::open(store.clone(), vault).await?);
    if !authority.signs_at(Utc::now()) {
        tracing::warn!("no issuer key is valid now; enrolments will fail until `rotate-key`");
    }
    let (batcher, batcher_task) = Batcher::start(
        store.clone(),
        authority.clone(),
        BatchConfig {
            max_items: config.batch_size,
            max_delay: config.batch_delay,
            queue: config.queue,
            credential_validity: config.credential_validity,
            metrics: metrics.batch(),
        },
    );
    let lists = Arc::new(lists::ListCache::new(authority.root_public_key()));
    lists.reload(store.as_ref()).await?;
    if lists::REQUIRED
        .iter()
        .any(|&kind| lists.get(kind).is_none())
    {
        tracing::warn!("no lists are published yet; run `vaxpass-issuer publish`");
    }
    let reloader = spawn_reloader(
        lists.clone(),
        authority.clone(),
        store.clone(),
        config.lists_reload,
    );
    let state = Arc::new(AppState {
        identity: Arc::new(Identities {
            codes: RegistryCodes::new(store.clone(), code_key.clone()),
            oidc: match &config.oidc {
                Some(oidc) => Some(Arc::new(OidcProvider::new(
                    oidc.clone(),
                    store.clone(),
                    code_key.clone(),
                )?)),
                None => None,
            },
        }),
        code_key,
        limiter: crate::overload::Limiter::new(config.concurrency),
        body_readers: Arc::new(tokio::sync::Semaphore::new(
            (4 * config.concurrency).max(64),
        )),
        attempts: Attempts::new(config.attempts, metrics.trips.clone()),
        metrics,
        nonce_claims: crate::http::NonceClaims::default(),
        admin: AdminAuth::new(config.admin_token.as_ref()),
        publishing: tokio::sync::Mutex::new(()),
        config,
        store,
        authority,
        batcher,
        lists,
    });

    let address = listener.local_addr()?;
    // Tests and scripts read this line to learn the port.
    println!("vaxpass-issuer listening on {address}");
    let _ = std::io::stdout().flush();
    tracing::info!(
        %address,
        store = %state.config.store,
        concurrency = state.config.concurrency,
        batch_size = state.config.batch_size,
        batch_delay_ms = u64::try_from(state.config.batch_delay.as_millis()).unwrap_or(u64::MAX),
        "serving"
    );

    http::serve(listener, state.clone(), shutdown).await;
    tracing::info!("stopped accepting; finishing the last group commit");
    reloader.abort();
    drop(state); // the last sender: the batcher ends once it has committed what it holds
    if tokio::time::timeout(Duration::from_secs(10), batcher_task)
        .await
        .is_err()
    {
        tracing::error!("the batcher did not finish in time");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Every `every`, re-reads from the store what another replica or the command-line tool may have
/// changed: the published lists and the active issuer key. Replicas agree within this interval.
/// Runs until aborted; a failure is logged and retried at the next tick.
fn spawn_reloader(
    lists: Arc<lists::ListCache>,
    authority: Arc<ServiceAuthority>,
    store: Arc<dyn store::Store>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = lists.reload(store.as_ref()).await {
                tracing::warn!(error = %e, "reloading the lists failed");
            }
            if let Err(e) = authority.reload_keys().await {
                tracing::warn!(error = %e, "reloading the issuer keys failed");
            }
        }
    })
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("shutting down");
}
