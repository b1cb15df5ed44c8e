//! Enrolment with OpenID Connect against a real OpenID Provider (`oidc-provider`, started by
//! `scripts/oidc-provider.sh`; its URL in `VAXPASS_TEST_OIDC_ISSUER`, SKIPPED without it). Each
//! test logs in over HTTP as a person would (authorization request with PKCE S256 and the nonce
//! bound to the enrolment, the provider's login form, its consent page, the code, the token
//! endpoint with the verifier), enrols with the ID token against the real service, and checks
//! every refusal leaves the store as it was. No token, code, subject or name reaches the log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;

use base64ct::{Base64UrlUnpadded, Encoding};
use common::{Env, Reply, Server, BORN};
use sha2::{Digest, Sha256};
use vaxpass::enrolment::{oidc_identity_proof, oidc_nonce};
use vaxpass::Wallet;
use vaxpass_issuer::store::Counts;

const WALLET_CLIENT: &str = "vaxpass-wallet";
const REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// The provider's issuer URL, or `None` (with a note) when no provider runs for this test.
fn provider() -> Option<String> {
    match std::env::var("VAXPASS_TEST_OIDC_ISSUER") {
        Ok(url) => Some(url.trim_end_matches('/').to_owned()),
        Err(_) => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED (OpenID Provider) {}: VAXPASS_TEST_OIDC_ISSUER is not set; export \
                 VAXPASS_TEST_OIDC_ISSUER=\"$(scripts/oidc-provider.sh start | tail -n1)\"",
                std::thread::current().name().unwrap_or("test")
            );
            None
        }
    }
}

/// One person's browser at the provider: its cookies, and the provider's address.
struct Browser {
    issuer: String,
    addr: SocketAddr,
    cookies: BTreeMap<String, String>,
}

/// What a login produced, kept to check that none of it reaches the service's log.
struct Login {
    id_token: String,
    code: String,
}

impl Browser {
    fn new(issuer: &str) -> Self {
        let addr = issuer
            .strip_prefix("http://")
            .expect("the test provider is plain http on loopback")
            .parse()
            .unwrap();
        Self {
            issuer: issuer.to_owned(),
            addr,
            cookies: BTreeMap::new(),
        }
    }

    fn send(&mut self, method: &str, target: &str, form: &[(&str, &str)]) -> Reply {
        let path = target.strip_prefix(&self.issuer).unwrap_or(target);
        assert!(path.starts_with('/'), "the provider sent us to {target}");
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let cookie = cookie.join("; ");
        let body = form_encode(form);
        let mut headers = vec![("Cookie", cookie.as_str())];
        if method == "POST" {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        let reply = common::request(self.addr, method, path, &headers, body.as_bytes());
        for (name, value) in &reply.headers {
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies
                        .insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
        }
        reply
    }

    /// Logs in as `subject` for `client_id` with `nonce`: authorization request with PKCE, the
    /// login form, the consent page, then the code exchanged at the token endpoint.
    fn login(&mut self, client_id: &str, subject: &str, nonce: &str) -> Login {
        // Each login from a fresh browser: no session, so the provider asks to log in and consent.
        self.cookies.clear();
        let verifier = Base64UrlUnpadded::encode_string(&common::rand_bytes::<32>());
        let challenge = Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()));
        let state = hex::encode(common::rand_bytes::<8>());
        let query = form_encode(&[
            ("client_id", client_id),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", REDIRECT_URI),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("nonce", nonce),
            ("state", &state),
        ]);
        let mut reply = self.send("GET", &format!("/auth?{query}"), &[]);
        let (mut logged_in, mut consented) = (false, false);
        let code = loop {
            match reply.status {
                302 | 303 => {
                    let location = reply.header("location").unwrap().to_owned();
                    if let Some(query) = location.strip_prefix(&format!("{REDIRECT_URI}?")) {
                        let params = form_decode(query);
                        assert_eq!(params.get("state"), Some(&state), "{location}");
                        break params.get("code").cloned().expect(&location);
                    }
                    reply = self.send("GET", &location, &[]);
                }
                200 => {
                    let page = reply.text();
                    let action = form_action(&page);
                    reply = if page.contains("name=\"login\"") {
                        assert!(!logged_in, "the login form came twice");
                        logged_in = true;
                        self.send(
                            "POST",
                            &action,
                            &[("prompt", "login"), ("login", subject), ("password", "any")],
                        )
                    } else if page.contains("value=\"consent\"") {
                        assert!(!consented, "the consent page came twice");
                        consented = true;
                        self.send("POST", &action, &[("prompt", "consent")])
                    } else {
                        panic!("an unexpected page: {page}");
                    }
                }
                status => panic!("the provider answered {status}: {}", reply.text()),
            }
        };
        assert!(logged_in && consented, "a real login and consent happened");
        let token = self.send(
            "POST",
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("client_id", client_id),
                ("code_verifier", &verifier),
            ],
        );
        assert_eq!(token.status, 200, "{}", token.text());
        let json: serde_json::Value = serde_json::from_slice(&token.body).unwrap();
        Login {
            id_token: json["id_token"].as_str().unwrap().to_owned(),
            code,
        }
    }
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let escape = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn form_decode(query: &str) -> BTreeMap<String, String> {
    let unescape = |s: &str| -> String {
        let bytes = s.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (unescape(k), unescape(v)))
        .collect()
}

/// The `action` of the page's (first) form.
fn form_action(page: &str) -> String {
    let start = page.find("action=\"").expect("a form") + "action=\"".len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&")
}

/// A citizen registered for OpenID Connect with a fresh subject; returns the subject.
fn register(env: &Env, name: &str) -> String {
    let subject = format!("citizen-{}", hex::encode(common::rand_bytes::<6>()));
    env.cli_ok(&[
        "registry",
        "add",
        "--name",
        name,
        "--birth-date",
        BORN,
        "--dose",
        &common::dose(1, 60),
        "--dose",
        &common::dose(2, 30),
        "--subject",
        &subject,
    ]);
    subject
}

fn serve(env: &Env, issuer: &str, client_id: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--oidc-issuer", issuer, "--oidc-client-id", client_id];
    args.extend_from_slice(extra);
    Server::start_logged(env, &args)
}

/// A nonce from the service, and the OpenID Connect nonce bound to it and to `wallet`'s key.
fn start_enrolment(server: &Server, wallet: &Wallet) -> (Vec<u8>, String) {
    let nonce = server.nonce();
    let bound = oidc_nonce(&nonce, wallet.device_key());
    (nonce, bound)
}

fn post_enrolment(server: &Server, wallet: &Wallet, nonce: &[u8], id_token: &str) -> Reply {
    let request = wallet
        .enrolment_request(nonce, &oidc_identity_proof(id_token))
        .unwrap();
    server.post(
        "/v1/enrolment",
        &[("Content-Type", "application/cbor")],
        &request,
    )
}

fn refused(server: &Server, cause: &str) -> u64 {
    common::metric(
        server,
        &format!("vaxpass_enrolment_proofs_refused_total{{cause=\"{cause}\"}}"),
    )
}

/// Asserts `reply` is the one refusal, counted under `cause`, and that nothing stored changed.
fn assert_refused(server: &Server, reply: &Reply, cause: &str, before: u64) {
    assert_eq!(reply.status, 401, "{}", reply.text());
    assert_eq!(reply.error_code(), "identity_refused");
    assert_eq!(refused(server, cause), before + 1, "refused as {cause}");
}

/// Nothing but the used nonces may differ between two counts.
fn assert_unchanged(env: &Env, before: Counts) {
    let after = env.counts();
    assert_eq!(
        (
            after.citizens,
            after.codes_used,
            after.issued,
            after.revoked,
            after.lists
        ),
        (
            before.citizens,
            before.codes_used,
            before.issued,
            before.revoked,
            before.lists
        ),
        "a refusal changed nothing stored"
    );
}

fn assert_log_clean(server: &Server, secrets: &[&str]) {
    let lines = server.log_lines();
    for line in &lines {
        for secret in secrets {
            assert!(
                !line.contains(secret),
                "a log line carries personal data or a credential: {line}"
            );
        }
    }
}

on_both_backends!(a_real_login_enrols_the_wallet_and_its_passes_verify);

fn a_real_login_enrols_the_wallet_and_its_passes_verify(env: &Env) {
    let Some(issuer) = provider() else { return };
    env.cli_ok(&["init"]);
    env.cli_ok(&["publish-rules", common::STANDING_RULES]);
    let subject = register(env, "박서연");
    let server = serve(env, &issuer, WALLET_CLIENT, &[]);
    let phone = tempfile::tempdir().unwrap();
    let wallet = common::wallet(phone.path(), "phone");

    let (nonce, bound) = start_enrolment(&server, &wallet);
    let login = Browser::new(&issuer).login(WALLET_CLIENT, &subject, &bound);
    let reply = post_enrolment(&server, &wallet, &nonce, &login.id_token);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let root = env.root_public_key();
    let imported = wallet
        .import(
            &reply.body,
            Some(&server.trust_list(&root)),
            chrono::Utc::now(),
        )
        .unwrap();
    assert_eq!(imported.len(), 1);
    assert_eq!(env.counts().issued, 1);

    // A shop verifies the pass offline.
    let shop = tempfile::tempdir().unwrap();
    let verifier = common::verifier(shop.path(), root);
    server.sync(&verifier);
    let shown = wallet
        .presentation(&imported[0].id, chrono::Utc::now())
        .unwrap();
    let verdict = verifier.verify(&shown.text, chrono::Utc::now()).unwrap();
    assert!(verdict.is_valid(), "{verdict:?}");

    assert_log_clean(
        &server,
        &[&login.id_token, &login.code, &subject, "박서연", &bound],
    );
}

#[test]
fn every_refused_id_token_gets_the_one_401_and_changes_nothing_stored() {
    let Some(issuer) = provider() else { return };
    let env = Env::new(common::Backend::Sqlite).unwrap();
    env.cli_ok(&["init"]);
    let alice = register(&env, "김민준");
    let bob = register(&env, "이서준");
    let server = serve(&env, &issuer, WALLET_CLIENT, &[]);
    let phone = tempfile::tempdir().unwrap();
    let wallet = common::wallet(phone.path(), "phone");
    let other_phone = common::wallet(phone.path(), "other");
    let mut browser = Browser::new(&issuer);
    let mut secrets: Vec<String> = vec![alice.clone(), bob.clone(), "김민준".into()];
    let before = env.counts();

    // Bad signature: alice's token with its subject changed to bob's.
    let (nonce, bound) = start_enrolment(&server, &wallet);
    let login = browser.login(WALLET_CLIENT, &alice, &bound);
    let mut parts: Vec<String> = login.id_token.split('.').map(str::to_owned).collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(&parts[1]).unwrap()).unwrap();
    claims["sub"] = bob.clone().into();
    parts[1] = Base64UrlUnpadded::encode_string(claims.to_string().as_bytes());
    let forged = parts.join(".");
    let count = refused(&server, "bad_signature");
    let reply = post_enrolment(&server, &wallet, &nonce, &forged);
    assert_refused(&server, &reply, "bad_signature", count);
    secrets.extend([login.id_token, login.code]);

    // Bad signature: a token signed by a key the provider never published (unknown kid), and
    // tokens that name `none` or a shared-secret algorithm.
    for alg in ["EdDSA", "none", "HS256"] {
        let (nonce, bound) = start_enrolment(&server, &wallet);
        let token = self_signed(&issuer, &alice, &bound, alg);
        let count = refused(&server, "bad_signature") + refused(&server, "malformed");
        let reply = post_enrolment(&server, &wallet, &nonce, &token);
        assert_eq!(reply.status, 401, "{alg}: {}", reply.text());
        assert_eq!(
            refused(&server, "bad_signature") + refused(&server, "malformed"),
            count + 1,
            "{alg}"
        );
    }

    // Wrong audience: a token the provider issued to another app.
    let (nonce, bound) = start_enrolment(&server, &wallet);
    let login = browser.login("other-app", &alice, &bound);
    let count = refused(&server, "wrong_audience");
    let reply = post_enrolment(&server, &wallet, &nonce, &login.id_token);
    assert_refused(&server, &reply, "wrong_audience", count);
    secrets.extend([login.id_token, login.code]);

    // Nonce of another enrolment: a token for one enrolment nonce, sent with another.
    let (_, bound) = start_enrolment(&server, &wallet);
    let login = browser.login(WALLET_CLIENT, &alice, &bound);
    let (other_nonce, _) = start_enrolment(&server, &wallet);
    let count = refused(&server, "nonce_mismatch");
    let reply = post_enrolment(&server, &wallet, &other_nonce, &login.id_token);
    assert_refused(&server, &reply, "nonce_mismatch", count);
    secrets.extend([login.id_token, login.code]);

    // Another device: a token stolen from this phone's enrolment, sent by another phone with
    // the same enrolment nonce.
    let (nonce, bound) = start_enrolment(&server, &wallet);
    let login = browser.login(WALLET_CLIENT, &alice, &bound);
    let count = refused(&server, "nonce_mismatch");
    let reply = post_enrolment(&server, &other_phone, &nonce, &login.id_token);
    assert_refused(&server, &reply, "nonce_mismatch", count);
    secrets.extend([login.id_token, login.code]);

    // A subject the registry does not know.
    let (nonce, bound) = start_enrolment(&server, &wallet);
    let stranger = format!("stranger-{}", hex::encode(common::rand_bytes::<6>()));
    let login = browser.login(WALLET_CLIENT, &stranger, &bound);
    let count = refused(&server, "no_match");
    let reply = post_enrolment(&server, &wallet, &nonce, &login.id_token);
    assert_refused(&server, &reply, "no_match", count);
    secrets.extend([login.id_token, login.code, stranger]);
    assert_unchanged(&env, before);

    // Replayed: a token that enrolled once is refused again, the same request (its nonce is
    // used) and the same token with a fresh nonce (bound to the old one) alike.
    let (nonce, bound) = start_enrolment(&server, &wallet);
    let login = browser.login(WALLET_CLIENT, &alice, &bound);
    let request = wallet
        .enrolment_request(&nonce, &oidc_identity_proof(&login.id_token))
        .unwrap();
    let headers = [("Content-Type", "application/cbor")];
    let reply = server.post("/v1/enrolment", &headers, &request);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let enrolled = env.counts();
    assert_eq!(enrolled.issued, before.issued + 1);
    let nonce_refusals = common::metric(&server, "vaxpass_enrolment_nonce_refused_total");
    let again = server.post("/v1/enrolment", &headers, &request);
    assert_eq!(again.status, 409, "{}", again.text());
    assert_eq!(again.error_code(), "nonce_unknown_or_used");
    assert_eq!(
        common::metric(&server, "vaxpass_enrolment_nonce_refused_total"),
        nonce_refusals + 1
    );
    let (fresh, _) = start_enrolment(&server, &wallet);
    let count = refused(&server, "nonce_mismatch");
    let reply = post_enrolment(&server, &wallet, &fresh, &login.id_token);
    assert_refused(&server, &reply, "nonce_mismatch", count);
    assert_unchanged(&env, enrolled);
    secrets.extend([login.id_token, login.code]);

    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_log_clean(&server, &secrets);
}

#[test]
fn an_expired_id_token_is_refused_and_changes_nothing_stored() {
    let Some(issuer) = provider() else { return };
    let env = Env::new(common::Backend::Sqlite).unwrap();
    env.cli_ok(&["init"]);
    let subject = register(&env, "최지우");
    // The provider's `short-lived` client gets ID tokens valid for 1 second; no leeway here.
    let server = serve(&env, &issuer, "short-lived", &["--oidc-leeway-secs", "0"]);
    let phone = tempfile::tempdir().unwrap();
    let wallet = common::wallet(phone.path(), "phone");
    let before = env.counts();
    let (nonce, bound) = start_enrolment(&server, &wallet);
    let login = Browser::new(&issuer).login("short-lived", &subject, &bound);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let count = refused(&server, "expired");
    let reply = post_enrolment(&server, &wallet, &nonce, &login.id_token);
    assert_refused(&server, &reply, "expired", count);
    assert_unchanged(&env, before);
    assert_log_clean(&server, &[&login.id_token, &login.code, &subject]);
}

#[test]
fn a_provider_that_cannot_be_reached_gets_a_503_and_changes_nothing_stored() {
    let Some(issuer) = provider() else { return };
    let env = Env::new(common::Backend::Sqlite).unwrap();
    env.cli_ok(&["init"]);
    let subject = register(&env, "정하윤");
    // A port nobody listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let server = serve(&env, &down, WALLET_CLIENT, &[]);
    let phone = tempfile::tempdir().unwrap();
    let wallet = common::wallet(phone.path(), "phone");
    let before = env.counts();
    let (nonce, bound) = start_enrolment(&server, &wallet);
    // A real token from the real provider: only the service's view of the provider is down.
    let login = Browser::new(&issuer).login(WALLET_CLIENT, &subject, &bound);
    let reply = post_enrolment(&server, &wallet, &nonce, &login.id_token);
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.error_code(), "identity_unavailable");
    assert_eq!(
        common::metric(&server, "vaxpass_enrolment_identity_unavailable_total"),
        1
    );
    let after = env.counts();
    assert_unchanged(&env, before);
    assert_eq!(
        after.nonces,
        before.nonces + 1,
        "the nonce is kept for a retry"
    );
    assert_log_clean(&server, &[&login.id_token, &login.code, &subject]);
}

/// The `vaxpass` CLI as issuer/README.md shows it: `wallet oidc-nonce`, a login, then
/// `wallet enrol --oidc-token-file`.
#[test]
fn the_wallet_cli_enrols_with_an_id_token_file() {
    let Some(issuer) = provider() else { return };
    let env = Env::new(common::Backend::Sqlite).unwrap();
    env.cli_ok(&["init"]);
    let subject = register(&env, "강도윤");
    let server = serve(&env, &issuer, WALLET_CLIENT, &[]);
    let url = format!("http://{}", server.addr);
    let root = hex::encode(env.root_public_key());
    let phone = tempfile::tempdir().unwrap();
    assert_eq!(common::vaxpass_cli(phone.path(), &["wallet", "init"]).0, 0);
    let (code, out) = common::vaxpass_cli(
        phone.path(),
        &["--json", "wallet", "oidc-nonce", "--server", &url],
    );
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let bound = json["oidc_nonce"].as_str().unwrap().to_owned();
    let login = Browser::new(&issuer).login(WALLET_CLIENT, &subject, &bound);
    let token_file = phone.path().join("id-token.jwt");
    std::fs::write(&token_file, &login.id_token).unwrap();
    let (code, out) = common::cli_enrol(
        phone.path(),
        &url,
        &root,
        &["--oidc-token-file", token_file.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("enrolled:"), "{out}");
    // The kept nonce was used: the same token cannot be sent again.
    let (code, out) = common::cli_enrol(
        phone.path(),
        &url,
        &root,
        &["--oidc-token-file", token_file.to_str().unwrap()],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("oidc-nonce"), "{out}");
    assert_log_clean(&server, &[&login.id_token, &login.code, &subject]);
}

/// A token with the right claims, signed by a key of the test's own (`EdDSA`, kid unknown to
/// the provider), or claiming `none` or `HS256` with a made-up signature.
fn self_signed(issuer: &str, subject: &str, nonce: &str, alg: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let header = serde_json::json!({ "alg": alg, "typ": "JWT", "kid": "not-the-providers" });
    let claims = serde_json::json!({
        "iss": issuer, "aud": WALLET_CLIENT, "sub": subject, "nonce": nonce,
        "iat": now, "exp": now + 300,
    });
    let message = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
        Base64UrlUnpadded::encode_string(claims.to_string().as_bytes())
    );
    let signature = match alg {
        "EdDSA" => vaxpass::keys::Ed25519KeyPair::generate()
            .sign(message.as_bytes())
            .to_vec(),
        "none" => Vec::new(),
        _ => common::rand_bytes::<32>().to_vec(),
    };
    format!("{message}.{}", Base64UrlUnpadded::encode_string(&signature))
}
