//! Shared by the integration tests: a fresh environment per test (key file, store on SQLite or on
//! PostgreSQL when `VAXPASS_TEST_POSTGRES_URL` is set), the real `vaxpass-issuer` binary started
//! on a random loopback port, a minimal blocking HTTP/1.1 client, and wallet/verifier helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use vaxpass::enrolment_code::{identity_proof, EnrolmentCode};
use vaxpass::{
    CredentialId, DeviceKeySource, RevocationList, TrustList, Verifier, VerifierConfig, Wallet,
};
use vaxpass_issuer::config::StoreUrl;
use vaxpass_issuer::store::{self, Counts, Store};

pub const BIN: &str = env!("CARGO_BIN_EXE_vaxpass-issuer");
/// The date of birth of every citizen [`Env::init_with_citizens`] adds.
pub const BORN: &str = "1985-03-14";
/// The Korean rules of January 2022 in force on any date, as a rules file.
pub const STANDING_RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/rules/korea-2022-standing.toml"
);
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// Which store backs a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a scenario on SQLite and, when `VAXPASS_TEST_POSTGRES_URL` is set, on PostgreSQL.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[test]
                fn sqlite() {
                    super::$scenario(&crate::common::Env::new(crate::common::Backend::Sqlite).unwrap());
                }
                #[test]
                fn postgres() {
                    if let Some(env) = crate::common::Env::new(crate::common::Backend::Postgres) {
                        super::$scenario(&env);
                    }
                }
            }
        )*
    };
}

/// One replica of the authority: its service authority and its own store handle.
pub type Replica = (
    Arc<vaxpass_issuer::authority::ServiceAuthority>,
    Arc<dyn Store>,
);

/// One test's key file and store.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub key_file: PathBuf,
    pub store_url: String,
    pub backend: Backend,
    postgres: Option<(String, String)>, // (admin URL, database)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

impl Env {
    /// `None` (with a note on stderr) for PostgreSQL when no server is configured.
    pub fn new(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("authority.sqlite");
        let (store_url, postgres) = match backend {
            Backend::Sqlite => (
                format!("sqlite:{}", dir.path().join("issuer.sqlite").display()),
                None,
            ),
            Backend::Postgres => {
                let Ok(url) = std::env::var("VAXPASS_TEST_POSTGRES_URL") else {
                    // Straight to stderr: libtest captures eprintln!, and a skip must show.
                    let _ = writeln!(
                        std::io::stderr(),
                        "SKIPPED (PostgreSQL) {}: VAXPASS_TEST_POSTGRES_URL is not set; \
                         export VAXPASS_TEST_POSTGRES_URL=\"$(scripts/postgres.sh | tail -n1)\"",
                        std::thread::current().name().unwrap_or("test")
                    );
                    return None;
                };
                let database = format!("vaxpass_test_{}", hex::encode(rand_bytes::<6>()));
                runtime().block_on(async {
                    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                        .await
                        .expect("connect to VAXPASS_TEST_POSTGRES_URL");
                    tokio::spawn(connection);
                    client
                        .batch_execute(&format!("CREATE DATABASE {database}"))
                        .await
                        .unwrap();
                });
                let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
                (format!("{base}/{database}"), Some((url, database)))
            }
        };
        Some(Self {
            dir,
            key_file,
            store_url,
            backend,
            postgres,
        })
    }

    /// Runs `vaxpass-issuer ARGS` on this environment's key file and store.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--key-file")
            .arg(&self.key_file)
            .arg("--store")
            .arg(&self.store_url)
            .args(args)
            .output()
            .unwrap()
    }

    /// Like [`Env::cli`], and the command must succeed; returns its stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "vaxpass-issuer {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `init` and the rules file of the Korean rules of January 2022 in force on any date, then
    /// one citizen per code with two recent doses (valid under those rules).
    pub fn init_with_citizens(&self, codes: &[&str]) {
        self.cli_ok(&["init"]);
        self.cli_ok(&["publish-rules", STANDING_RULES]);
        for (i, code) in codes.iter().enumerate() {
            let name = format!("김민준{i}");
            self.cli_ok(&[
                "registry",
                "add",
                "--name",
                &name,
                "--birth-date",
                BORN,
                "--dose",
                &dose(1, 60),
                "--dose",
                &dose(2, 30),
                "--code",
                code,
            ]);
        }
    }
    /// Two replicas of the authority on this store, each with its own connections to it and its
    /// own handle on the vault: the first initialises the store, the second opens it.
    pub fn two_replicas(&self) -> (tokio::runtime::Runtime, [Replica; 2]) {
        use vaxpass_issuer::authority::{open_vault, ServiceAuthority};
        let (rt, store) = self.store();
        let replicas = rt.block_on(async {
            let vault = open_vault(&self.key_file, None, true).unwrap();
            let (first, _) = ServiceAuthority::init(store.clone(), vault, "KR", Utc::now())
                .await
                .unwrap();
            let url: StoreUrl = self.store_url.parse().unwrap();
            let other_store = store::open(&url).await.unwrap();
            let vault = open_vault(&self.key_file, None, false).unwrap();
            let second = ServiceAuthority::open(other_store.clone(), vault)
                .await
                .unwrap();
            [(Arc::new(first), store), (Arc::new(second), other_store)]
        });
        (rt, replicas)
    }

    pub fn store(&self) -> (tokio::runtime::Runtime, Arc<dyn Store>) {
        let rt = runtime();
        let url: StoreUrl = self.store_url.parse().unwrap();
        let store = rt.block_on(store::open(&url)).unwrap();
        (rt, store)
    }

    pub fn counts(&self) -> Counts {
        let (rt, store) = self.store();
        rt.block_on(store.counts()).unwrap()
    }

    /// Those of `ids` the audit log does not hold.
    pub fn missing_from_audit(&self, ids: &[CredentialId]) -> Vec<CredentialId> {
        let (rt, store) = self.store();
        ids.iter()
            .copied()
            .filter(|id| rt.block_on(store.audit_entry(*id)).unwrap().is_none())
            .collect()
    }

    pub fn root_public_key(&self) -> [u8; 32] {
        let (rt, store) = self.store();
        rt.block_on(store.authority())
            .unwrap()
            .expect("the store holds an authority")
            .root_public_key
    }

    pub fn start(&self, extra: &[&str]) -> Server {
        Server::start(self, extra)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some((url, database)) = self.postgres.take() {
            runtime().block_on(async {
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                        .await;
                }
            });
        }
    }
}

/// `comirnaty:N/2:<today - days_ago>`.
pub fn dose(n: u8, days_ago: i64) -> String {
    let date: NaiveDate = (Utc::now() - chrono::Duration::days(days_ago)).date_naive();
    format!("comirnaty:{n}/2:{date}")
}

pub fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom_fill(&mut bytes);
    bytes
}

fn getrandom_fill(bytes: &mut [u8]) {
    use rand_core::RngCore;
    rand_core::OsRng.fill_bytes(bytes);
}

/// A running `vaxpass-issuer serve`; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Every line the server wrote to stderr, when started with [`Server::start_logged`].
    pub log: Option<Arc<std::sync::Mutex<Vec<String>>>>,
}

impl Server {
    pub fn start(env: &Env, extra: &[&str]) -> Self {
        Self::spawn(&mut Self::command(env, extra))
    }

    /// Like [`Server::start`], keeping the server's log lines.
    pub fn start_logged(env: &Env, extra: &[&str]) -> Self {
        let mut command = Self::command(env, extra);
        command.stderr(Stdio::piped());
        let mut server = Self::spawn(&mut command);
        server.keep_log();
        server
    }

    /// The log lines so far.
    pub fn log_lines(&self) -> Vec<String> {
        let log = self.log.as_ref().expect("started with its stderr kept");
        log.lock().unwrap().clone()
    }

    /// Collects the lines of a piped stderr into [`Server::log`].
    pub fn keep_log(&mut self) {
        let stderr = self.child.stderr.take().expect("stderr piped");
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        self.log = Some(log);
    }

    fn command(env: &Env, extra: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg("--key-file")
            .arg(&env.key_file)
            .arg("--store")
            .arg(&env.store_url)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--admin-token",
                ADMIN_TOKEN,
            ])
            .args(extra)
            .stderr(Stdio::inherit());
        command
    }

    /// Starts `command` (a `vaxpass-issuer serve`) and waits until it listens.
    pub fn spawn(command: &mut Command) -> Self {
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server exited before listening")
                .unwrap();
            if let Some(addr) = line.strip_prefix("vaxpass-issuer listening on ") {
                break addr.trim().parse().unwrap();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            addr,
            log: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(self.addr, "GET", path, headers, &[])
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        request(self.addr, "POST", path, headers, body)
    }

    pub fn admin(&self, path: &str, body: &[u8]) -> Reply {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        self.post(path, &[("Authorization", &auth)], body)
    }

    pub fn nonce(&self) -> Vec<u8> {
        let reply = self.post("/v1/enrolment/nonce", &[], &[]);
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.body
    }

    /// Fetches the three lists and applies them to `verifier`.
    pub fn sync(&self, verifier: &Verifier) {
        let now = Utc::now();
        let trust = self.get("/v1/trust-list", &[]);
        assert_eq!(trust.status, 200);
        verifier.apply_trust_list(&trust.body, now).unwrap();
        let revocation = self.get("/v1/revocation-list", &[]);
        assert_eq!(revocation.status, 200);
        verifier
            .apply_revocation_list(&revocation.body, now)
            .unwrap();
        let rules = self.get("/v1/rules-list", &[]);
        assert_eq!(rules.status, 200, "the service publishes a rules list");
        verifier.apply_rules_list(&rules.body, now).unwrap();
    }

    pub fn trust_list(&self, root: &[u8; 32]) -> TrustList {
        TrustList::verify(&self.get("/v1/trust-list", &[]).body, root).unwrap()
    }

    pub fn revocation_list(&self, root: &[u8; 32]) -> RevocationList {
        RevocationList::verify(&self.get("/v1/revocation-list", &[]).body, root).unwrap()
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `error` code of a JSON error answer.
    pub fn error_code(&self) -> String {
        let value: serde_json::Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", self.text()));
        value["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// One request on its own connection (`Connection: close`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    try_request(addr, method, path, headers, body).unwrap()
}

pub fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    exchange(stream, addr, method, path, headers, body)
}

/// Like [`request`], from the loopback source address `source` (e.g. 127.0.0.2), so that the
/// service sees another client address.
pub fn request_from(
    source: IpAddr,
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> Reply {
    exchange(
        connect_from(source, addr).unwrap(),
        addr,
        method,
        path,
        &[],
        body,
    )
    .unwrap()
}

/// A connection to `addr` from the local address `source`.
pub fn connect_from(source: IpAddr, addr: SocketAddr) -> std::io::Result<TcpStream> {
    runtime().block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(source, 0))?;
        let stream = socket.connect(addr).await?.into_std()?;
        stream.set_nonblocking(false)?;
        Ok(stream)
    })
}

fn exchange(
    mut stream: TcpStream,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    stream.set_nodelay(true)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    // The server may answer (e.g. 413) before reading all of a large body.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_reply(&raw)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad HTTP answer"))
}

fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if let Some(length) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(length);
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

/// A wallet with a software key in `dir`.
pub fn wallet(dir: &Path, name: &str) -> Wallet {
    Wallet::open(
        dir.join(format!("{name}.wallet")),
        DeviceKeySource::default(),
    )
    .unwrap()
}

pub fn verifier(dir: &Path, root: [u8; 32]) -> Verifier {
    Verifier::open(dir.join("verifier.sqlite"), root, VerifierConfig::default()).unwrap()
}

/// A valid enrolment code, the same for the same `n`: `n` in base32, then the check symbol.
pub fn code(n: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let random: String = (0..15)
        .rev()
        .map(|i| ALPHABET[((n >> (5 * i).min(63)) & 31) as usize] as char)
        .collect();
    ALPHABET
        .iter()
        .find_map(|&c| EnrolmentCode::parse(&format!("{random}{}", c as char)).ok())
        .unwrap()
        .to_string()
}

/// The identity proof of `code` with the date of birth `born` (YYYY-MM-DD).
pub fn proof(code: &str, born: &str) -> Vec<u8> {
    identity_proof(
        &EnrolmentCode::parse(code).unwrap(),
        NaiveDate::parse_from_str(born, "%Y-%m-%d").unwrap(),
    )
}

/// Fetches a nonce and enrols `wallet` with `code` and [`BORN`]; returns the raw answer.
pub fn enrol(server: &Server, wallet: &Wallet, code: &str) -> Reply {
    enrol_with_proof(server, wallet, &proof(code, BORN))
}

/// Fetches a nonce and enrols `wallet` with the identity proof `proof`.
pub fn enrol_with_proof(server: &Server, wallet: &Wallet, proof: &[u8]) -> Reply {
    let nonce = server.nonce();
    let request = wallet.enrolment_request(&nonce, proof).unwrap();
    server.post(
        "/v1/enrolment",
        &[("Content-Type", "application/cbor")],
        &request,
    )
}

/// One counter of the service's `/metrics`, e.g. `vaxpass_enrolment_proofs_checked_total` or
/// `vaxpass_enrolment_proofs_refused_total{cause="no_match"}`.
pub fn metric(server: &Server, name: &str) -> u64 {
    let text = server.get("/metrics", &[]).text();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in {text}"))
}

/// The counter samples of the service's `/metrics` (gauges such as the lists' age move by
/// themselves), sorted.
pub fn counters(server: &Server) -> Vec<String> {
    let text = server.get("/metrics", &[]).text();
    let mut counters: Vec<String> = text
        .lines()
        .filter(|l| {
            let name = l.split([' ', '{']).next().unwrap_or_default();
            !l.starts_with('#') && name.ends_with("_total")
        })
        .map(str::to_owned)
        .collect();
    counters.sort();
    counters
}

/// The credential ids in an issued bundle.
pub fn bundle_ids(bundle: &[u8]) -> Vec<CredentialId> {
    vaxpass::enrolment::decode_issued(bundle)
        .unwrap()
        .iter()
        .map(|c| vaxpass::Credential::from_bytes(c).unwrap().claims.id)
        .collect()
}

/// Runs the workspace's `vaxpass` command-line tool over `dir`; its exit code and its stdout and
/// stderr together. The binary is built by the same `cargo test --workspace`.
/// `vaxpass wallet enrol` of the wallet in `dir` against the service at `url`, with the
/// identity arguments given (`--code C --birth-date D`, or `--oidc-token-file F`).
pub fn cli_enrol(dir: &Path, url: &str, root: &str, identity: &[&str]) -> (i32, String) {
    let mut args = vec!["wallet", "enrol", "--server", url];
    args.extend_from_slice(identity);
    args.extend(["--root-key", root]);
    vaxpass_cli(dir, &args)
}

pub fn vaxpass_cli(dir: &Path, args: &[&str]) -> (i32, String) {
    let path = std::path::PathBuf::from(BIN).with_file_name("vaxpass");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build -p vaxpass-cli` (cargo test --workspace does)",
        path.display()
    );
    let output = Command::new(path)
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}
