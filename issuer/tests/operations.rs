//! Operating the service: the Prometheus metrics, liveness and readiness, the structured logs
//! (which must carry no personal data) and the configuration file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use common::{code, enrol, enrol_with_proof, proof, wallet, Env, Server, ADMIN_TOKEN, BIN, BORN};
use vaxpass_issuer::authority::{open_vault, ServiceAuthority};
use vaxpass_issuer::ops;

on_both_backends!(
    metrics_are_prometheus_text_and_move_with_enrolments_and_refusals,
    readiness_needs_published_lists_and_a_valid_issuer_key_but_liveness_does_not,
    expired_lists_make_the_service_unready_until_published_again,
    no_log_line_carries_a_name_birth_date_code_token_or_device_key,
);

/// A parsed exposition: sample name with labels → value, and the declared type of each family.
struct Exposition {
    samples: HashMap<String, f64>,
    types: HashMap<String, String>,
}

impl Exposition {
    fn get(&self, sample: &str) -> f64 {
        *self
            .samples
            .get(sample)
            .unwrap_or_else(|| panic!("no sample {sample}"))
    }
}

/// Parses the Prometheus text format 0.0.4 strictly: every line is `# HELP name text`,
/// `# TYPE name type` or `name{label="value",...} number`, every sample belongs to a family with a
/// TYPE declared before it, and no family is declared twice.
fn parse_exposition(text: &str) -> Exposition {
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    let mut types = HashMap::new();
    let mut helps = HashSet::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(is_name(name), "bad HELP line {line:?}");
            assert!(helps.insert(name.to_owned()), "HELP twice: {line:?}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name type");
            assert!(is_name(name), "bad TYPE line {line:?}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "bad type in {line:?}"
            );
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "TYPE twice: {line:?}"
            );
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line:?}");
        assert!(!line.is_empty(), "empty line in the exposition");
        let (series, value) = line.rsplit_once(' ').expect("sample value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let name = match series.split_once('{') {
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').expect("closing brace");
                for pair in labels.split(',') {
                    let (key, quoted) = pair.split_once('=').expect("label=value");
                    assert!(is_name(key), "bad label name in {line:?}");
                    assert!(
                        quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"'),
                        "unquoted label value in {line:?}"
                    );
                }
                name
            }
            None => series,
        };
        assert!(is_name(name), "bad metric name in {line:?}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                let base = name.strip_suffix(suffix)?;
                (types.get(base).map(String::as_str) == Some("histogram")).then_some(base)
            })
            .unwrap_or(name);
        assert!(
            types.contains_key(family),
            "sample {line:?} has no TYPE before it"
        );
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "sample twice: {line:?}"
        );
    }
    Exposition { samples, types }
}

fn scrape(server: &Server) -> Exposition {
    let reply = server.get("/metrics", &[]);
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        reply.header("content-type")
    );
    parse_exposition(&reply.text())
}

fn metrics_are_prometheus_text_and_move_with_enrolments_and_refusals(env: &Env) {
    env.init_with_citizens(&[&code(1), &code(2)]);
    let server = env.start(&[]);
    let before = scrape(&server);
    for (family, kind) in [
        ("vaxpass_enrolments_total", "counter"),
        ("vaxpass_enrolment_proofs_refused_total", "counter"),
        ("vaxpass_http_errors_total", "counter"),
        ("vaxpass_batch_items", "histogram"),
        ("vaxpass_batch_commit_seconds", "histogram"),
        ("vaxpass_batch_queue_depth", "gauge"),
        ("vaxpass_list_age_seconds", "gauge"),
    ] {
        assert_eq!(before.types.get(family).map(String::as_str), Some(kind));
    }
    // Every cause and every 429/503 answer is there from the start, at 0.
    for cause in ["malformed", "no_match", "used_by_other_device", "no_passes"] {
        let series = format!("vaxpass_enrolment_proofs_refused_total{{cause=\"{cause}\"}}");
        assert_eq!(before.get(&series), 0.0, "{series}");
    }
    assert_eq!(
        before.get("vaxpass_http_errors_total{status=\"429\",error=\"overloaded\"}"),
        0.0
    );
    assert_eq!(
        before.get("vaxpass_http_errors_total{status=\"503\",error=\"queue_full\"}"),
        0.0
    );
    for kind in ["trust", "revocation"] {
        let age = before.get(&format!("vaxpass_list_age_seconds{{kind=\"{kind}\"}}"));
        assert!((0.0..600.0).contains(&age), "{kind} list age {age}");
        let left = before.get(&format!(
            "vaxpass_list_valid_for_seconds{{kind=\"{kind}\"}}"
        ));
        assert!(left > 23.0 * 3600.0, "{kind} list valid for {left}");
    }
    assert_eq!(before.get("vaxpass_enrolments_total"), 0.0);

    let dir = tempfile::tempdir().unwrap();
    let phone = wallet(dir.path(), "phone");
    assert_eq!(enrol(&server, &phone, &code(1)).status, 200);
    let refused = enrol_with_proof(&server, &phone, &proof(&code(2), "1999-01-01"));
    assert_eq!(refused.status, 401);
    let thief = wallet(dir.path(), "thief");
    assert_eq!(enrol(&server, &thief, &code(1)).status, 401);
    // A request with an unknown nonce: 409, counted as an error answer.
    let stale = phone
        .enrolment_request(&[7u8; 32], &proof(&code(2), BORN))
        .unwrap();
    assert_eq!(server.post("/v1/enrolment", &[], &stale).status, 409);

    let after = scrape(&server);
    assert_eq!(after.get("vaxpass_enrolments_total"), 1.0);
    assert_eq!(
        after.get("vaxpass_enrolment_proofs_refused_total{cause=\"no_match\"}"),
        1.0
    );
    assert_eq!(
        after.get("vaxpass_enrolment_proofs_refused_total{cause=\"used_by_other_device\"}"),
        1.0
    );
    assert_eq!(after.get("vaxpass_enrolment_proofs_checked_total"), 3.0);
    assert_eq!(after.get("vaxpass_enrolment_nonce_refused_total"), 1.0);
    assert_eq!(
        after.get("vaxpass_http_errors_total{status=\"401\",error=\"identity_refused\"}"),
        2.0
    );
    assert_eq!(
        after.get("vaxpass_http_errors_total{status=\"409\",error=\"nonce_unknown_or_used\"}"),
        1.0
    );
    // Three nonces, two burns and one enrolment went through group commits.
    let commits = after.get("vaxpass_batch_commit_seconds_count");
    assert!(commits >= 1.0, "{commits} commits");
    assert_eq!(after.get("vaxpass_batch_items_count"), commits);
    assert_eq!(after.get("vaxpass_batch_items_sum"), 6.0);
    assert_eq!(
        after.get("vaxpass_batch_items_bucket{le=\"+Inf\"}"),
        commits
    );
    assert!(after.get("vaxpass_batch_commit_seconds_sum") > 0.0);
    assert_eq!(after.get("vaxpass_batch_queue_depth"), 0.0);
}

fn ready(server: &Server) -> (u16, Vec<String>) {
    let reply = server.get("/readyz", &[]);
    let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    let reasons = body["reasons"]
        .as_array()
        .map(|r| r.iter().map(|r| r.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    (reply.status, reasons)
}

fn alive(server: &Server) -> bool {
    let live = server.get("/livez", &[]);
    let health = server.get("/healthz", &[]);
    live.status == 200 && live.text() == "ok\n" && health.status == 200
}

fn readiness_needs_published_lists_and_a_valid_issuer_key_but_liveness_does_not(env: &Env) {
    // An authority in the store and its code key, but no list published yet.
    let (rt, store) = env.store();
    let vault = open_vault(&env.key_file, None, true).unwrap();
    rt.block_on(ServiceAuthority::init(store, vault, "KR", Utc::now()))
        .unwrap();
    vaxpass_issuer::identity::CodeKey::open_beside(&env.key_file, true).unwrap();
    let server = env.start(&[]);
    assert!(alive(&server));
    let (status, reasons) = ready(&server);
    assert_eq!(status, 503);
    assert_eq!(
        reasons,
        ["trust_list_not_published", "revocation_list_not_published"]
    );
    let unpublished = server.get("/v1/trust-list", &[]);
    assert_eq!(unpublished.status, 503);
    assert_eq!(
        scrape(&server).get("vaxpass_http_errors_total{status=\"503\",error=\"not_published\"}"),
        1.0
    );
    assert_eq!(server.admin("/v1/admin/publish", &[]).status, 200);
    assert_eq!(ready(&server), (200, vec![]));

    // The active issuer key marked leaked: nothing can be signed, so not ready until a rotation.
    let (rt, store) = env.store();
    let kid = service_authority(env, &rt, &store)
        .active_key()
        .unwrap()
        .kid();
    let leaked = serde_json::json!({
        "kid": hex::encode(kid),
        "revoked_after": (Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
    });
    let reply = server.admin("/v1/admin/compromise", leaked.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        ready(&server),
        (503, vec!["no_valid_issuer_key".to_owned()])
    );
    assert!(alive(&server));
    assert_eq!(server.admin("/v1/admin/rotate-key", &[]).status, 200);
    assert_eq!(ready(&server), (200, vec![]));
}

/// The authority as the service opens it: the store of record, signing through the key file.
fn service_authority(
    env: &Env,
    rt: &tokio::runtime::Runtime,
    store: &Arc<dyn vaxpass_issuer::store::Store>,
) -> ServiceAuthority {
    let vault = open_vault(&env.key_file, None, false).unwrap();
    rt.block_on(ServiceAuthority::open(store.clone(), vault))
        .unwrap()
}

fn expired_lists_make_the_service_unready_until_published_again(env: &Env) {
    env.cli_ok(&["init"]);
    // Lists issued three days ago, valid for an hour: published, verifying, and expired.
    let then = Utc::now() - chrono::Duration::days(3);
    let (rt, store) = env.store();
    let authority = service_authority(env, &rt, &store);
    rt.block_on(ops::publish_at(
        &authority,
        store.as_ref(),
        then,
        chrono::Duration::hours(1),
    ))
    .unwrap();
    drop(authority);

    let server = env.start(&[]);
    assert!(alive(&server));
    let (status, reasons) = ready(&server);
    assert_eq!(status, 503);
    assert_eq!(reasons, ["trust_list_expired", "revocation_list_expired"]);
    let metrics = scrape(&server);
    assert!(metrics.get("vaxpass_list_valid_for_seconds{kind=\"trust\"}") < 0.0);
    assert!(metrics.get("vaxpass_list_age_seconds{kind=\"revocation\"}") > 2.0 * 86_400.0);
    assert_eq!(server.admin("/v1/admin/publish", &[]).status, 200);
    assert_eq!(ready(&server), (200, vec![]));
}

/// A TCP relay to `target` that can be cut: every relayed connection is shut and new ones are
/// refused, as when the database server stops.
struct Relay {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (c, o) = (cut.clone(), open.clone());
        std::thread::spawn(move || loop {
            match listener.accept() {
                Ok((client, _)) if !c.load(Ordering::SeqCst) => {
                    client.set_nonblocking(false).unwrap();
                    let Ok(server) = TcpStream::connect(target) else {
                        continue;
                    };
                    o.lock()
                        .unwrap()
                        .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                    for (mut from, mut to) in [
                        (client.try_clone().unwrap(), server.try_clone().unwrap()),
                        (server, client),
                    ] {
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(std::net::Shutdown::Both);
                        });
                    }
                }
                Ok(_) => {} // cut: dropped at once
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        });
        Self { addr, cut, open }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// PostgreSQL unreachable (its connections cut, new ones refused): the process is alive, not
/// ready; once the database is back, ready again without a restart.
#[test]
fn a_stopped_database_makes_the_service_unready_but_alive() {
    let Some(env) = Env::new(common::Backend::Postgres) else {
        return;
    };
    env.cli_ok(&["init"]);
    // postgres://user@HOST:PORT/db → the same through the relay.
    let (scheme_user, rest) = env.store_url.split_once('@').unwrap();
    let (host_port, database) = rest.split_once('/').unwrap();
    let target: SocketAddr = host_port.replace("localhost", "127.0.0.1").parse().unwrap();
    let relay = Relay::start(target);
    let relayed = format!("{scheme_user}@{}/{database}", relay.addr);
    let mut command = Command::new(BIN);
    command
        .arg("--key-file")
        .arg(&env.key_file)
        .args(["--store", &relayed, "serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::null());
    let server = Server::spawn(&mut command);
    assert_eq!(ready(&server), (200, vec![]));
    relay.cut();
    let (status, reasons) = ready(&server);
    assert_eq!(status, 503);
    assert!(
        reasons == ["store_unavailable"] || reasons == ["store_timeout"],
        "{reasons:?}"
    );
    assert!(alive(&server));
    relay.restore();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while ready(&server).0 != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "not ready again: {:?}",
            ready(&server)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs `command` and gives back its stderr lines.
fn collect_stderr(command: &mut Command) -> (Server, Arc<Mutex<Vec<String>>>) {
    command.stderr(Stdio::piped());
    let mut server = Server::spawn(command);
    server.keep_log();
    let lines = server.log.clone().unwrap();
    (server, lines)
}

fn no_log_line_carries_a_name_birth_date_code_token_or_device_key(env: &Env) {
    let names = ["김민준0", "김민준1", "김민준2"];
    let codes = [code(11), code(12), code(13)];
    env.init_with_citizens(&[&codes[0], &codes[1], &codes[2]]);
    for format in ["text", "json"] {
        // Every event of the service and its libraries in text; the debug ones in JSON, as the
        // README shows (`RUST_LOG=debug vaxpass-issuer --log-format json serve`).
        let mut command = Command::new(BIN);
        command
            .arg("--key-file")
            .arg(&env.key_file)
            .args(["--store", &env.store_url]);
        if format == "text" {
            command
                .args(["--log-level", "trace"])
                .env_remove("RUST_LOG");
        } else {
            command
                .args(["--log-format", "json"])
                .env("RUST_LOG", "debug");
        }
        command.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-token",
            ADMIN_TOKEN,
        ]);
        let (server, lines) = collect_stderr(&mut command);
        let dir = tempfile::tempdir().unwrap();
        let phone = wallet(dir.path(), "phone");
        let other = wallet(dir.path(), "other");
        // Accepted, then refused: wrong birth date, unknown code, used by another
        // device; then an admin restore hands out a new code.
        let index = usize::from(format == "json");
        assert_eq!(enrol(&server, &phone, &codes[index]).status, 200);
        let wrong_birth = enrol_with_proof(&server, &phone, &proof(&codes[2], "1990-12-31"));
        assert_eq!(wrong_birth.status, 401);
        let unknown = enrol(&server, &phone, &code(99));
        assert_eq!(unknown.status, 401);
        assert_eq!(enrol(&server, &other, &codes[index]).status, 401);
        let restore = server.admin("/v1/admin/restore/1", &[]);
        let new_code = serde_json::from_slice::<serde_json::Value>(&restore.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned));
        let status = server.terminate();
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(100));
        let lines = lines.lock().unwrap().clone();

        // The lines are there, with their fields, so this test can fail.
        let text = lines.join("\n");
        assert!(text.contains("enrolment refused"), "{text}");
        assert!(text.contains("group commit"), "{text}");
        assert!(text.contains("request_id"), "{text}");
        assert!(
            text.contains("no_match") && text.contains("batch_size"),
            "{text}"
        );
        // The refusal's line carries the id its answer gave.
        let id = wrong_birth.header("x-request-id").unwrap();
        let (json_id, text_id) = (
            format!("\"request_id\":\"{id}\""),
            format!("request_id={id}"),
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("no_match") && (l.contains(&json_id) || l.contains(&text_id))),
            "{id}: {text}"
        );
        if format == "json" {
            for line in &lines {
                let event: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|_| panic!("not a JSON line: {line}"));
                assert!(
                    event["level"].is_string() && event["fields"].is_object(),
                    "{line}"
                );
            }
        }

        let mut secrets: Vec<String> = vec![BORN.into(), "1990-12-31".into(), ADMIN_TOKEN.into()];
        secrets.extend(names.iter().map(|n| n.to_string()));
        for c in codes.iter().chain([&code(99)]).chain(new_code.as_ref()) {
            secrets.push(c.clone());
            secrets.push(c.replace('-', ""));
        }
        for w in [&phone, &other] {
            secrets.push(hex::encode(w.device_key().as_bytes()));
        }
        // The identity proofs as sent (CBOR of code and birth date), in hex.
        for c in &codes {
            secrets.push(hex::encode(proof(c, BORN)));
        }
        // Birth dates in other spellings.
        secrets.push("19850314".into());
        secrets.push("1985/03/14".into());
        for line in &lines {
            for secret in &secrets {
                assert!(
                    !line.contains(secret.as_str()),
                    "a log line carries personal data or a secret: {line}"
                );
            }
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// The example file in the repository, as shipped, runs the service (from a directory with the
/// admin token file beside it); flags and environment variables override it.
#[test]
fn the_example_configuration_file_starts_the_service_and_flags_override_it() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("vaxpass-issuer.example.toml");
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("admin-token"), &format!("{ADMIN_TOKEN}\n"));
    let run = |args: &[&str]| {
        Command::new(BIN)
            .current_dir(dir.path())
            .arg("--config")
            .arg(&example)
            .args(args)
            .env_remove("VAXPASS_CONCURRENCY")
            .output()
            .unwrap()
    };
    let init = run(&["init"]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let file: toml::Table = toml::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
    let key_file = file["keys"]["file"].as_str().unwrap();
    assert!(dir.path().join(key_file).exists(), "init used [keys] file");
    let limit_in_file = file["serve"]["concurrency"].as_integer().unwrap();

    let serve = |extra: &[&str], envs: &[(&str, &str)]| {
        let mut command = Command::new(BIN);
        command
            .current_dir(dir.path())
            .env("VAXPASS_CONFIG", &example)
            .env_remove("VAXPASS_CONCURRENCY")
            .envs(envs.iter().copied())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stderr(Stdio::null());
        Server::spawn(&mut command)
    };
    let limit = |server: &Server| {
        let health: serde_json::Value =
            serde_json::from_slice(&server.get("/healthz", &[]).body).unwrap();
        health["limit"].as_i64().unwrap()
    };
    let server = serve(&[], &[]);
    assert_eq!(ready(&server), (200, vec![]));
    assert_eq!(limit(&server), limit_in_file);
    // The admin token came from the file the configuration names.
    assert_eq!(server.admin("/v1/admin/publish", &[]).status, 200);
    drop(server);
    assert_eq!(limit(&serve(&["--concurrency", "7"], &[])), 7);
    assert_eq!(limit(&serve(&[], &[("VAXPASS_CONCURRENCY", "9")])), 9);
}

#[test]
fn a_bad_configuration_file_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    let check = |text: &str, expected: &[&str], hidden: &str| {
        write(&config, text);
        let out = Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for word in expected {
            assert!(stderr.contains(word), "{stderr}");
        }
        assert!(!stderr.contains(hidden), "{stderr}");
    };
    check(
        "[serve]\nconcurrency = 8\nbatch_sise = 3\n",
        &["bad.toml", "line 3", "batch_sise"],
        "\u{0}",
    );
    check(
        "[serve]\nadmin_token = \"s3cret-s3cret-s3cret\"\n",
        &["admin_token", "VAXPASS_ADMIN_TOKEN"],
        "s3cret",
    );
    // Values are checked as their flags are.
    check("[serve]\nconcurrency = 0\n", &["concurrency"], "\u{0}");
}
