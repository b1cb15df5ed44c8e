//! `lunch-rush`: replays the lunch hour of 13 December 2021 on loopback, in compressed time.
//!
//! 1. An issuer service starts; N citizens enrol along a lunch-peak arrival curve, retrying
//!    after 429/503 as the SDK's clients do.
//! 2. At "11:40" the service is killed (SIGKILL).
//! 3. S shops, which synced the signed lists before, verify the citizens' rotating QR codes offline
//!    for the next "hour" — with screenshots, revoked passes and forgeries mixed in.
//! 4. The same load is set against a server-per-display model like the apps of 2021.
//!
//! `lunch-rush guessing` instead measures the enrolment rate with and without a code guesser of
//! a thousand connections, in one run (see `guessing.rs`).
//!
//! Bounded in requests and time; only loopback addresses are contacted.

mod arrivals;
mod enrol;
mod guessing;
mod inspection;
mod report;
mod scans;
mod service;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

/// Replay a national lunch peak against a vaxpass issuer service, then its outage.
#[derive(Debug, Parser)]
#[command(name = "lunch-rush", version)]
struct Args {
    /// Citizens who enrol before 11:40.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    citizens: u32,
    /// Shops that verify during the outage.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    shops: u32,
    /// Scans during the outage "hour".
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    scans: u32,
    /// Real seconds the enrolment window (11:00–11:40) is compressed into.
    #[arg(long, default_value_t = 20.0)]
    window_secs: f64,
    /// Concurrent enrolment clients.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    clients: u32,
    /// The service's concurrency limit (enrolment requests in flight before it answers 429);
    /// below the number of clients, so the peak meets the overload protection.
    #[arg(long, default_value_t = 32)]
    server_concurrency: u32,
    /// The services' store: a PostgreSQL URL (needed for several replicas) [default: an SQLite
    /// file in the run's directory].
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Issuer service replicas over that store; the enrolment clients are spread over them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    replicas: u32,
    /// The `vaxpass-issuer` binary [default: next to this one].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Seed of the replay's random choices (arrivals, scan mix).
    #[arg(long, default_value_t = 20211213)]
    seed: u64,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Hard limit on the whole run, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
    #[command(subcommand)]
    mode: Option<Mode>,
}

#[derive(Debug, clap::Subcommand)]
enum Mode {
    /// Enrolment with and without a code guesser, in one run: the citizens' rate alone, then
    /// beside the guesser, and the guesses the service checked per minute.
    Guessing {
        /// Citizens in the registry (enough for both phases).
        #[arg(long, default_value_t = 250_000, value_parser = clap::value_parser!(u32).range(1..=2_000_000))]
        citizens: u32,
        /// Citizens' connections (from 127.0.0.3).
        #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=4096))]
        clients: u32,
        /// The guesser's connections (from 127.0.0.2).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=5000))]
        guessers: u32,
        /// Seconds of each condition (alone, beside the guesser), split over the rounds.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=120))]
        secs: u64,
        /// Rounds of alone-then-beside.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
        rounds: u32,
        /// The service's concurrency limit.
        #[arg(long, default_value_t = 256)]
        server_concurrency: u32,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Mode::Guessing {
        citizens,
        clients,
        guessers,
        secs,
        rounds,
        server_concurrency,
    }) = args.mode
    {
        let run = || -> Result<guessing::Outcome, String> {
            let dir = tempfile::Builder::new()
                .prefix("lunch-rush-")
                .tempdir()
                .map_err(|e| e.to_string())?;
            let mut rng = arrivals::Rng::new(args.seed);
            let people = service::Citizen::population(citizens as usize, &mut rng);
            let server = service::Service::start(
                &server_binary(&args)?,
                dir.path(),
                &people,
                server_concurrency,
                args.store.as_deref(),
                1,
            )?;
            eprintln!(
                "lunch-rush: issuer service on {} ({} citizens); {secs} s alone and {secs} s beside {guessers} guessing connections, in {rounds} rounds",
                server.base(),
                people.len()
            );
            guessing::run(
                server.base(),
                &people,
                clients as usize,
                guessers as usize,
                Duration::from_secs(secs),
                rounds,
            )
        };
        return exit_code(run().map(|o| {
            o.print(args.json);
            o.ok()
        }));
    }
    exit_code(run(&args).map(|r| {
        r.print(args.json);
        r.ok()
    }))
}

/// Exit 0 when the run printed its result and met its targets, 1 when it missed one, 2 when it
/// could not run.
fn exit_code(outcome: Result<bool, String>) -> ExitCode {
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("lunch-rush: error: {error}");
            ExitCode::from(2)
        }
    }
}

fn server_binary(args: &Args) -> Result<PathBuf, String> {
    Ok(match &args.server_bin {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("vaxpass-issuer"),
    })
}

fn run(args: &Args) -> Result<report::Report, String> {
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    let dir = tempfile::Builder::new()
        .prefix("lunch-rush-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let binary = server_binary(args)?;
    let mut rng = arrivals::Rng::new(args.seed);
    let citizens = service::Citizen::population(args.citizens as usize, &mut rng);
    if args.replicas > 1 && args.store.is_none() {
        return Err("several replicas need a shared PostgreSQL store: give --store".into());
    }
    let mut server = service::Service::start(
        &binary,
        dir.path(),
        &citizens,
        args.server_concurrency,
        args.store.as_deref(),
        args.replicas as usize,
    )?;
    eprintln!(
        "lunch-rush: issuer service on {} ({} citizens in its registry)",
        server.bases().join(", "),
        citizens.len()
    );

    let schedule = arrivals::lunch_peak(citizens.len(), args.window_secs, &mut rng);
    let enrolment = enrol::run(
        &server,
        &citizens,
        &schedule,
        args.clients as usize,
        deadline,
    )?;
    eprintln!(
        "lunch-rush: {} enrolled in {:.1} s",
        enrolment.enrolled.len(),
        enrolment.elapsed.as_secs_f64()
    );

    // The authority revokes a few passes (lost phones) and publishes; the shops sync.
    let service_peak_rss_kib = server.peak_rss_kib();
    let revoked = server.revoke_some(&enrolment.enrolled, 0.01, &mut rng)?;
    let shops = scans::Shops::sync(dir.path(), &server, args.shops as usize)?;

    // 11:40: the service dies, and everything after this line works without it.
    server.kill()?;
    eprintln!(
        "lunch-rush: issuer service killed (SIGKILL); {} shops go on offline",
        shops.len()
    );

    let outage = chrono::Utc::now();
    let outcome = scans::run(
        &shops,
        &enrolment.enrolled,
        &revoked,
        args.scans as usize,
        &mut rng,
        outage,
        deadline,
    )?;

    // 12:40: the service is back; each shop anchors its check log, and an inspector checks
    // every shop's report of the hour.
    server.restart()?;
    let started = Instant::now();
    let inspection = inspection::run(
        dir.path(),
        &shops,
        &server,
        outage,
        outage + chrono::Duration::hours(1),
    )?;
    eprintln!(
        "lunch-rush: {} shops anchored and inspected in {:.1} s",
        inspection.shops.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(report::Report::new(
        args.citizens as usize,
        args.window_secs,
        &schedule,
        enrolment,
        service_peak_rss_kib,
        outcome,
        inspection,
    ))
}
