//! OpenID Connect: the identity proof is an ID token (`OIDC:<jwt>`) the wallet obtained from the
//! authority's identity provider with the authorization code flow and PKCE, its `nonce` set to
//! [`vaxpass::enrolment::oidc_nonce`] of this enrolment's nonce and device key.
//!
//! The token is checked before anything is built from it: its size, its signature against the
//! provider's published keys (discovered from `/.well-known/openid-configuration`, cached, fetched
//! again when they grow old or a token names an unknown `kid`, at most once per
//! [`OidcConfig::refetch_interval`], so a stream of bogus kids cannot make the service hammer the
//! provider), with only the asymmetric algorithms the provider announces (never `none` or HS*);
//! then `iss`, `aud` (and `azp`), `exp`, `iat` (not in the future beyond the leeway, not older
//! than [`OidcConfig::max_age`]), the bound `nonce`, and that this token was not presented
//! before. The configured claim (`sub` by default) is then looked up, as a keyed hash, in the
//! registry. A provider that cannot be asked is [`IdentityError::Unavailable`] (a 503): retrying
//! later helps. Nothing here logs or returns the token or its claims.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use vaxpass::enrolment::{oidc_nonce, parse_oidc_identity_proof};

use super::{CodeKey, Enrolling, Identified, IdentityError, IdentityProvider, RefusalCause};
use crate::store::Store;

/// The signature algorithms an ID token may use, whatever a provider announces: asymmetric only
/// (a shared secret would let every client of the provider forge tokens for the others).
const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Largest discovery document or key set read from the provider.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// Most keys of a key set that are kept.
const MAX_KEYS: usize = 32;

/// How the service trusts its identity provider.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider's issuer identifier, exactly as its tokens' `iss` (https, or http on a
    /// loopback address for tests).
    pub issuer: String,
    /// The wallet app's client id at the provider: the tokens' audience.
    pub client_id: String,
    /// The claim that names the citizen in the registry (`registry add --subject`).
    pub subject_claim: String,
    /// Clock difference tolerated with the provider, for `exp` and `iat`.
    pub leeway: Duration,
    /// Oldest `iat` accepted: a token is used right after the login that made it.
    pub max_age: Duration,
    /// How long a request to the provider may take.
    pub http_timeout: Duration,
    /// How long fetched keys are used before they are fetched again.
    pub keys_lifetime: Duration,
    /// Fewest time between two fetches: after an unknown `kid`, a failed fetch, or at start.
    pub refetch_interval: Duration,
}

impl OidcConfig {
    pub fn new(issuer: &str, client_id: &str) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            subject_claim: "sub".to_owned(),
            leeway: Duration::from_secs(60),
            max_age: Duration::from_secs(10 * 60),
            http_timeout: Duration::from_secs(5),
            keys_lifetime: Duration::from_secs(60 * 60),
            refetch_interval: Duration::from_secs(30),
        }
    }
}

/// Refuses a URL the service would fetch keys from unless it is https, or http to loopback.
pub fn check_provider_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "{url}: the identity provider is reached over https (http only on loopback)"
        )),
    }
}

/// What the provider publishes, as last fetched.
struct Published {
    algorithms: Vec<Algorithm>,
    keys: Vec<Jwk>,
    fetched: Instant,
}

#[derive(Default)]
struct Keys {
    published: Option<Published>,
    last_attempt: Option<Instant>,
}

/// Hashes of the tokens accepted, each until its expiry has passed.
#[derive(Default)]
struct Seen {
    tokens: HashMap<[u8; 32], i64>,
    prune_at: usize,
}

/// Verifies ID tokens of one provider and maps them to the registry.
pub struct OidcProvider {
    config: OidcConfig,
    store: Arc<dyn Store>,
    key: CodeKey,
    http: reqwest::Client,
    keys: tokio::sync::Mutex<Keys>,
    seen: Mutex<Seen>,
}

impl fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcProvider")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    aud: Audience,
    azp: Option<String>,
    exp: i64,
    iat: i64,
    nonce: Option<String>,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

impl OidcProvider {
    pub fn new(config: OidcConfig, store: Arc<dyn Store>, key: CodeKey) -> Result<Self, String> {
        check_provider_url(&config.issuer)?;
        let http = reqwest::Client::builder()
            .timeout(config.http_timeout)
            .connect_timeout(config.http_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(Self {
            config,
            store,
            key,
            http,
            keys: tokio::sync::Mutex::new(Keys::default()),
            seen: Mutex::new(Seen::default()),
        })
    }

    /// Checks the token and returns the configured claim's value.
    async fn verify(
        &self,
        token: &str,
        enrolling: &Enrolling<'_>,
    ) -> Result<String, IdentityError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| RefusalCause::Malformed)?;
        if !ASYMMETRIC.contains(&header.alg) {
            return Err(RefusalCause::BadSignature.into());
        }
        let key = self.key_for(header.kid.as_deref(), header.alg).await?;
        let mut validation = Validation::new(header.alg);
        // The claims are checked below, against this service's clock and its own rules.
        validation.required_spec_claims = HashSet::new();
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidToken
                | ErrorKind::Base64(_)
                | ErrorKind::Json(_)
                | ErrorKind::Utf8(_)
                | ErrorKind::MissingRequiredClaim(_)
                | ErrorKind::InvalidClaimFormat(_) => RefusalCause::Malformed,
                _ => RefusalCause::BadSignature,
            })?
            .claims;

        if claims.iss != self.config.issuer {
            return Err(RefusalCause::WrongIssuer.into());
        }
        let client = &self.config.client_id;
        let audience_ok = match &claims.aud {
            Audience::One(aud) => aud == client,
            // Several audiences: the token must say it was issued to us (`azp`).
            Audience::Many(auds) => auds.contains(client) && claims.azp.is_some(),
        };
        if !audience_ok || claims.azp.as_ref().is_some_and(|azp| azp != client) {
            return Err(RefusalCause::WrongAudience.into());
        }
        let now = chrono::Utc::now().timestamp();
        let leeway = seconds(self.config.leeway);
        if now > claims.exp.saturating_add(leeway) {
            return Err(RefusalCause::Expired.into());
        }
        if claims.iat > now.saturating_add(leeway)
            || now.saturating_sub(claims.iat) > seconds(self.config.max_age)
        {
            return Err(RefusalCause::NotFresh.into());
        }
        let expected = oidc_nonce(enrolling.nonce, enrolling.device_key);
        let nonce_ok = claims
            .nonce
            .as_ref()
            .is_some_and(|nonce| bool::from(nonce.as_bytes().ct_eq(expected.as_bytes())));
        if !nonce_ok {
            return Err(RefusalCause::NonceMismatch.into());
        }
        let subject = match claims.other.get(&self.config.subject_claim) {
            Some(serde_json::Value::String(subject)) if !subject.is_empty() => subject.clone(),
            _ => return Err(RefusalCause::Malformed.into()),
        };
        self.first_use(token, claims.exp.saturating_add(leeway), now)?;
        Ok(subject)
    }

    /// Records the token as presented; refuses it if it was presented before.
    fn first_use(&self, token: &str, until: i64, now: i64) -> Result<(), IdentityError> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.tokens.len() >= seen.prune_at {
            seen.tokens.retain(|_, until| *until >= now);
            seen.prune_at = (2 * seen.tokens.len()).max(1024);
        }
        if seen.tokens.get(&hash).is_some_and(|until| *until >= now) {
            return Err(RefusalCause::Replayed.into());
        }
        seen.tokens.insert(hash, until);
        Ok(())
    }

    /// The published key a token names, fetching the keys when there are none yet, when they are
    /// old, or when the kid is unknown, each at most once per refetch interval.
    async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, IdentityError> {
        let mut keys = self.keys.lock().await;
        let old = keys
            .published
            .as_ref()
            .is_none_or(|p| p.fetched.elapsed() >= self.config.keys_lifetime);
        if old && self.may_fetch(&keys) {
            self.fetch(&mut keys).await;
        }
        let find = |keys: &Keys| {
            let published = keys.published.as_ref()?;
            let jwk = match kid {
                Some(kid) => published
                    .keys
                    .iter()
                    .find(|k| k.common.key_id.as_deref() == Some(kid))?,
                // Without a kid, only a provider with a single key is unambiguous.
                None if published.keys.len() == 1 => published.keys.first()?,
                None => return None,
            };
            Some((jwk.clone(), published.algorithms.contains(&alg)))
        };
        let (found, asked) = match find(&keys) {
            Some(found) => (Some(found), true),
            None if self.may_fetch(&keys) => {
                let asked = self.fetch(&mut keys).await;
                (find(&keys), asked)
            }
            None => (None, true),
        };
        let Some((jwk, announced)) = found else {
            // A key the provider may have just rotated in, but it could not be asked: later.
            return Err(if keys.published.is_none() || !asked {
                IdentityError::Unavailable
            } else {
                RefusalCause::BadSignature.into()
            });
        };
        let alg_matches = jwk
            .common
            .key_algorithm
            .is_none_or(|key_alg| Algorithm::from_str(&key_alg.to_string()).ok() == Some(alg));
        if !announced || !alg_matches {
            return Err(RefusalCause::BadSignature.into());
        }
        DecodingKey::from_jwk(&jwk).map_err(|_| RefusalCause::BadSignature.into())
    }

    fn may_fetch(&self, keys: &Keys) -> bool {
        keys.last_attempt
            .is_none_or(|at| at.elapsed() >= self.config.refetch_interval)
    }

    /// Fetches the discovery document and the key set; on failure the keys held are kept.
    /// Whether the provider answered.
    async fn fetch(&self, keys: &mut Keys) -> bool {
        keys.last_attempt = Some(Instant::now());
        match self.fetch_published().await {
            Ok(published) => {
                keys.published = Some(published);
                true
            }
            Err(why) => {
                tracing::warn!(provider = %self.config.issuer, error = %why, "identity provider unreachable");
                false
            }
        }
    }

    async fn fetch_published(&self) -> Result<Published, String> {
        let discovery: Discovery = self
            .get_json(&format!(
                "{}/.well-known/openid-configuration",
                self.config.issuer
            ))
            .await?;
        if discovery.issuer != self.config.issuer {
            return Err("its discovery document names another issuer".into());
        }
        check_provider_url(&discovery.jwks_uri)?;
        let algorithms: Vec<Algorithm> = discovery
            .id_token_signing_alg_values_supported
            .iter()
            .filter_map(|name| Algorithm::from_str(name).ok())
            .filter(|alg| ASYMMETRIC.contains(alg))
            .collect();
        if algorithms.is_empty() {
            return Err("it announces no asymmetric ID token signing algorithm".into());
        }
        let set: KeySet = self.get_json(&discovery.jwks_uri).await?;
        // A key of a type this service does not know is skipped, not a reason to keep none.
        let keys: Vec<Jwk> = set
            .keys
            .into_iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
            .filter(|key| {
                !matches!(
                    key.common.public_key_use,
                    Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
                )
            })
            .take(MAX_KEYS)
            .collect();
        if keys.is_empty() {
            return Err("its key set has no usable key".into());
        }
        Ok(Published {
            algorithms,
            keys,
            fetched: Instant::now(),
        })
    }

    /// GETs a JSON document of at most [`MAX_DOCUMENT_BYTES`].
    async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let mut response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("fetching {url}: {}", e.without_url()))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let too_large = || format!("{url} sent more than {MAX_DOCUMENT_BYTES} bytes");
        if response
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading {url}: {}", e.without_url()))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("{url} is not the JSON expected: {e}"))
    }
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[async_trait]
impl IdentityProvider for OidcProvider {
    async fn identify(
        &self,
        proof: &[u8],
        enrolling: &Enrolling<'_>,
    ) -> Result<Identified, IdentityError> {
        let token = parse_oidc_identity_proof(proof)
            .ok_or(IdentityError::Refused(RefusalCause::Malformed))?;
        let subject = self.verify(token, enrolling).await?;
        let citizen = self
            .store
            .citizen_by_subject(&self.key.hash_subject(&subject))
            .await
            .map_err(|_| IdentityError::Unavailable)?
            .ok_or(IdentityError::Refused(RefusalCause::NoMatch))?;
        Ok(Identified {
            citizen,
            one_time_code: None,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use base64ct::{Base64UrlUnpadded, Encoding};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use vaxpass::keys::Ed25519KeyPair;

    use super::*;
    use crate::config::StoreUrl;
    use crate::store::DeviceHash;

    #[test]
    fn keys_are_fetched_over_https_or_from_loopback_only() {
        for good in [
            "https://id.example.kr",
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(check_provider_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://id.example.kr",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "not a url",
        ] {
            assert!(check_provider_url(bad).is_err(), "{bad}");
        }
    }

    /// A provider on a loopback port that publishes one Ed25519 key and counts key-set fetches.
    async fn tiny_provider(key: &Ed25519KeyPair) -> (String, Arc<AtomicUsize>) {
        let (issuer, fetches, _) = tiny_provider_padded(key, 0).await;
        (issuer, fetches)
    }

    /// Like [`tiny_provider`], its discovery document padded with `padding` bytes of whitespace.
    async fn tiny_provider_padded(
        key: &Ed25519KeyPair,
        padding: usize,
    ) -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let mut discovery = serde_json::json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/jwks"),
            "id_token_signing_alg_values_supported": ["EdDSA", "HS256", "none"],
        })
        .to_string();
        discovery.push_str(&" ".repeat(padding));
        let jwks = serde_json::json!({ "keys": [{
            "kty": "OKP", "crv": "Ed25519", "kid": "k1", "alg": "EdDSA", "use": "sig",
            "x": Base64UrlUnpadded::encode_string(&key.public()),
        }]})
        .to_string();
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut head = vec![0u8; 4096];
                let n = stream.read(&mut head).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&head[..n]);
                let body = if head.starts_with("GET /jwks ") {
                    counter.fetch_add(1, Ordering::SeqCst);
                    &jwks
                } else {
                    &discovery
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (issuer, fetches, server)
    }

    fn token(key: &Ed25519KeyPair, kid: &str, claims: serde_json::Value) -> String {
        let header = serde_json::json!({ "alg": "EdDSA", "kid": kid });
        let message = format!(
            "{}.{}",
            Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
            Base64UrlUnpadded::encode_string(claims.to_string().as_bytes())
        );
        let signature = Base64UrlUnpadded::encode_string(&key.sign(message.as_bytes()));
        format!("{message}.{signature}")
    }

    async fn provider(issuer: &str, refetch: Duration) -> OidcProvider {
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::Sqlite(dir.path().join("issuer.sqlite"));
        let store = crate::store::open(&url).await.unwrap();
        std::mem::forget(dir); // the store outlives this helper
        let config = OidcConfig {
            refetch_interval: refetch,
            ..OidcConfig::new(issuer, "wallet")
        };
        OidcProvider::new(config, store, CodeKey::from_bytes([3; 32])).unwrap()
    }

    #[tokio::test]
    async fn a_stream_of_unknown_kids_fetches_the_keys_at_most_once_per_interval() {
        let key = Ed25519KeyPair::generate();
        let (issuer, fetches) = tiny_provider(&key).await;
        let device =
            vaxpass::DevicePublicKey::from_bytes(&Ed25519KeyPair::generate().public()).unwrap();
        let nonce = [5u8; 32];
        let enrolling = Enrolling {
            nonce: &nonce,
            device_key: &device,
            device: DeviceHash::of(&device),
        };
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": issuer, "aud": "wallet", "sub": "nobody", "iat": now, "exp": now + 60,
            "nonce": oidc_nonce(&nonce, &device),
        });
        let proof =
            |kid: &str| vaxpass::enrolment::oidc_identity_proof(&token(&key, kid, claims.clone()));

        for (refetch, most) in [(Duration::from_secs(3600), 1), (Duration::ZERO, 21)] {
            let before = fetches.load(Ordering::SeqCst);
            let oidc = provider(&issuer, refetch).await;
            for i in 0..20 {
                let refused = oidc
                    .identify(&proof(&format!("bogus-{i}")), &enrolling)
                    .await;
                assert_eq!(
                    refused,
                    Err(IdentityError::Refused(RefusalCause::BadSignature))
                );
            }
            assert_eq!(fetches.load(Ordering::SeqCst) - before, most, "{refetch:?}");
            // The published key verifies: the token is refused only for its unknown subject.
            let known = oidc.identify(&proof("k1"), &enrolling).await;
            assert_eq!(known, Err(IdentityError::Refused(RefusalCause::NoMatch)));
        }
    }

    #[tokio::test]
    async fn each_wrong_claim_is_refused_with_its_own_cause() {
        let key = Ed25519KeyPair::generate();
        let (issuer, _) = tiny_provider(&key).await;
        let oidc = provider(&issuer, Duration::from_secs(30)).await;
        let device =
            vaxpass::DevicePublicKey::from_bytes(&Ed25519KeyPair::generate().public()).unwrap();
        let nonce = [6u8; 32];
        let enrolling = Enrolling {
            nonce: &nonce,
            device_key: &device,
            device: DeviceHash::of(&device),
        };
        let now = chrono::Utc::now().timestamp();
        let good = serde_json::json!({
            "iss": issuer, "aud": "wallet", "sub": "nobody", "iat": now, "exp": now + 60,
            "nonce": oidc_nonce(&nonce, &device),
        });
        let with = |field: &str, value: serde_json::Value| {
            let mut claims = good.clone();
            claims[field] = value;
            claims
        };
        let without = |field: &str| {
            let mut claims = good.clone();
            claims.as_object_mut().unwrap().remove(field);
            claims
        };
        let cases = [
            (good.clone(), RefusalCause::NoMatch),
            (
                with("iss", "https://other.example".into()),
                RefusalCause::WrongIssuer,
            ),
            (with("aud", "other-app".into()), RefusalCause::WrongAudience),
            (
                with("aud", serde_json::json!(["wallet", "other-app"])),
                RefusalCause::WrongAudience,
            ),
            (with("azp", "other-app".into()), RefusalCause::WrongAudience),
            (with("exp", (now - 61).into()), RefusalCause::Expired),
            (with("iat", (now + 120).into()), RefusalCause::NotFresh),
            (with("iat", (now - 3600).into()), RefusalCause::NotFresh),
            (
                with("nonce", oidc_nonce(&[7u8; 32], &device).into()),
                RefusalCause::NonceMismatch,
            ),
            (without("nonce"), RefusalCause::NonceMismatch),
            (without("exp"), RefusalCause::Malformed),
            (without("sub"), RefusalCause::Malformed),
            (with("sub", 42.into()), RefusalCause::Malformed),
        ];
        for (claims, cause) in cases {
            let proof = vaxpass::enrolment::oidc_identity_proof(&token(&key, "k1", claims.clone()));
            assert_eq!(
                oidc.identify(&proof, &enrolling).await,
                Err(IdentityError::Refused(cause)),
                "{claims}"
            );
        }
        // Several audiences with `azp` naming this client are accepted (up to the subject).
        let mut claims = with("aud", serde_json::json!(["wallet", "other-app"]));
        claims["azp"] = "wallet".into();
        let proof = vaxpass::enrolment::oidc_identity_proof(&token(&key, "k1", claims));
        assert_eq!(
            oidc.identify(&proof, &enrolling).await,
            Err(IdentityError::Refused(RefusalCause::NoMatch))
        );
        for malformed in [&b"OIDC:"[..], b"OIDC:not-a-jwt", b"OIDC:a.b.c"] {
            assert_eq!(
                oidc.identify(malformed, &enrolling).await,
                Err(IdentityError::Refused(RefusalCause::Malformed))
            );
        }
    }

    #[tokio::test]
    async fn a_provider_answering_more_than_the_bound_is_unavailable() {
        let key = Ed25519KeyPair::generate();
        let (issuer, fetches, _) = tiny_provider_padded(&key, MAX_DOCUMENT_BYTES).await;
        let oidc = provider(&issuer, Duration::from_secs(30)).await;
        let device =
            vaxpass::DevicePublicKey::from_bytes(&Ed25519KeyPair::generate().public()).unwrap();
        let nonce = [6u8; 32];
        let enrolling = Enrolling {
            nonce: &nonce,
            device_key: &device,
            device: DeviceHash::of(&device),
        };
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": issuer, "aud": "wallet", "sub": "nobody", "iat": now, "exp": now + 60,
            "nonce": oidc_nonce(&nonce, &device),
        });
        let proof = vaxpass::enrolment::oidc_identity_proof(&token(&key, "k1", claims));
        assert_eq!(
            oidc.identify(&proof, &enrolling).await,
            Err(IdentityError::Unavailable)
        );
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            0,
            "the key set was never asked for"
        );
    }

    #[tokio::test]
    async fn keys_fetched_before_the_provider_went_down_still_verify() {
        let key = Ed25519KeyPair::generate();
        let (issuer, _, server) = tiny_provider_padded(&key, 0).await;
        let oidc = provider(&issuer, Duration::ZERO).await;
        let device =
            vaxpass::DevicePublicKey::from_bytes(&Ed25519KeyPair::generate().public()).unwrap();
        let nonce = [6u8; 32];
        let enrolling = Enrolling {
            nonce: &nonce,
            device_key: &device,
            device: DeviceHash::of(&device),
        };
        let now = chrono::Utc::now().timestamp();
        // Ed25519 signatures are deterministic: each token gets its own `iat` to be a new one.
        let proof = |kid: &str, iat: i64| {
            let claims = serde_json::json!({
                "iss": issuer, "aud": "wallet", "sub": "nobody", "iat": iat, "exp": iat + 60,
                "nonce": oidc_nonce(&nonce, &device),
            });
            vaxpass::enrolment::oidc_identity_proof(&token(&key, kid, claims))
        };
        let no_match = Err(IdentityError::Refused(RefusalCause::NoMatch));
        assert_eq!(oidc.identify(&proof("k1", now), &enrolling).await, no_match);
        // The provider goes away: its port refuses connections from now on.
        server.abort();
        let _ = server.await;
        // Known keys still verify …
        assert_eq!(
            oidc.identify(&proof("k1", now - 1), &enrolling).await,
            no_match
        );
        // … and a kid that cannot be looked up (a rotation?) is a 503, not a refusal.
        assert_eq!(
            oidc.identify(&proof("rotated", now - 2), &enrolling).await,
            Err(IdentityError::Unavailable)
        );
    }

    #[tokio::test]
    async fn a_token_presented_twice_is_refused_the_second_time() {
        let key = Ed25519KeyPair::generate();
        let (issuer, _) = tiny_provider(&key).await;
        let oidc = provider(&issuer, Duration::from_secs(30)).await;
        let now = chrono::Utc::now().timestamp();
        assert_eq!(oidc.first_use("a.b.c", now + 60, now), Ok(()));
        assert_eq!(
            oidc.first_use("a.b.c", now + 60, now),
            Err(RefusalCause::Replayed.into())
        );
        assert_eq!(oidc.first_use("a.b.d", now + 60, now), Ok(()));
        // Once expired it is forgotten (and refused for its expiry anyway).
        assert_eq!(oidc.first_use("a.b.c", now + 60, now + 61), Ok(()));
    }
}
