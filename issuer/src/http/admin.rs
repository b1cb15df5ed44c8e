//! The admin API, behind `Authorization: Bearer <token>` (compared in constant time):
//! `POST /v1/admin/revoke/{credential-id-hex}`, `/restore/{citizen-id}`, `/rotate-key`,
//! `/compromise`, `/publish` and `/publish-rules` (the body is a rules file, TOML).

use hyper::body::Incoming;
use hyper::header::AUTHORIZATION;
use hyper::{HeaderMap, Method, Request, StatusCode};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::errors::ApiError;
use super::{json, read_body, AppState, Resp};
use crate::config::Secret;
use crate::ops::{self, OpsError};
use crate::store::{CitizenId, Revoked, StoreError};

/// The admin token, kept only as its SHA-256 (so comparing takes the same time at any length).
#[derive(Debug, Clone)]
pub struct AdminAuth {
    token_hash: Option<[u8; 32]>,
}

impl AdminAuth {
    /// Without a token every admin request is refused.
    pub fn new(token: Option<&Secret>) -> Self {
        Self {
            token_hash: token.map(|t| Sha256::digest(t.0.as_bytes()).into()),
        }
    }

    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let expected = self.token_hash.ok_or_else(ApiError::unauthorized)?;
        let presented = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then_some(token.trim())
            })
            .ok_or_else(ApiError::unauthorized)?;
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        if bool::from(presented.ct_eq(&expected)) {
            Ok(())
        } else {
            Err(ApiError::unauthorized())
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompromiseBody {
    kid: String,
    revoked_after: String,
}

/// Dispatches `/v1/admin/{operation}` after checking the token.
pub async fn handle(
    state: &AppState,
    operation: &str,
    request: Request<Incoming>,
) -> Result<Resp, ApiError> {
    state.admin.check(request.headers())?;
    let known = matches!(
        operation,
        "rotate-key" | "compromise" | "publish" | "publish-rules"
    ) || operation.starts_with("revoke/")
        || operation.starts_with("restore/");
    if !known {
        return Err(ApiError::not_found());
    }
    if request.method() != Method::POST {
        return Err(ApiError::method_not_allowed());
    }
    if let Some(id) = operation.strip_prefix("revoke/") {
        let id = ops::parse_credential_id(id).map_err(ops_error)?;
        return match ops::revoke(state.store.as_ref(), id)
            .await
            .map_err(ops_error)?
        {
            Revoked::NotIssued => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "credential_unknown",
                "this service has not issued that credential",
            )),
            outcome => {
                tracing::info!(credential_id = %id, "admin: revoked a credential");
                Ok(json(
                    StatusCode::OK,
                    &serde_json::json!({
                        "credential_id": id.to_string(),
                        "already_revoked": outcome == Revoked::Already,
                        "next": "publish to put it on the served revocation list",
                    }),
                ))
            }
        };
    }
    if let Some(citizen) = operation.strip_prefix("restore/") {
        let citizen = citizen
            .parse()
            .map(CitizenId)
            .map_err(|_| ApiError::bad_request("invalid_argument", "a citizen id is a number"))?;
        let restored = ops::restore(state.store.as_ref(), &state.code_key, citizen)
            .await
            .map_err(ops_error)?;
        tracing::info!(
            citizen = citizen.0,
            revoked = restored.revoked.len(),
            "admin: restored a citizen"
        );
        let publication = publish(state).await?;
        return Ok(json(
            StatusCode::OK,
            &serde_json::json!({
                "citizen": citizen.0,
                "revoked": restored.revoked.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "code": restored.code.to_string(),
                "revocation_sequence": publication.revocation_sequence,
            }),
        ));
    }
    match operation {
        "rotate-key" => {
            let kid = ops::rotate(&state.authority).await.map_err(ops_error)?;
            tracing::info!(kid = %hex::encode(kid), "admin: rotated the issuer key");
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({
                    "kid": hex::encode(kid),
                    "next": "publish so verifiers learn the new key",
                }),
            ))
        }
        "compromise" => {
            let body = read_body(
                request,
                state.config.body_limit,
                state.config.commit_timeout,
            )
            .await?;
            let body: CompromiseBody = serde_json::from_slice(&body).map_err(|_| {
                ApiError::bad_request(
                    "malformed_request",
                    "expected JSON {\"kid\": \"<hex>\", \"revoked_after\": \"<RFC 3339>\"}",
                )
            })?;
            let kid = ops::parse_kid(&body.kid).map_err(ops_error)?;
            let revoked_after = ops::parse_time(&body.revoked_after).map_err(ops_error)?;
            ops::compromise(&state.authority, kid, revoked_after)
                .await
                .map_err(ops_error)?;
            tracing::warn!(kid = %hex::encode(kid), "admin: marked an issuer key compromised");
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({
                    "kid": hex::encode(kid),
                    "revoked_after": revoked_after.to_rfc3339(),
                    "next": "rotate-key to keep issuing if it was the active key, then publish",
                }),
            ))
        }
        "publish-rules" => {
            let body = read_body(
                request,
                crate::rules_file::MAX_RULES_FILE_BYTES,
                state.config.commit_timeout,
            )
            .await?;
            let text = std::str::from_utf8(&body).map_err(|_| {
                ApiError::bad_request("invalid_rules", "a rules file is UTF-8 TOML")
            })?;
            let publication = {
                let _one_at_a_time = state.publishing.lock().await;
                ops::publish_rules(
                    &state.authority,
                    state.store.as_ref(),
                    text,
                    state.config.lists_valid_for,
                )
                .await
                .map_err(ops_error)?
            };
            if let Err(e) = state.lists.reload(state.store.as_ref()).await {
                tracing::warn!(error = %e, "reloading the lists after publishing failed");
            }
            tracing::info!(
                rules_sequence = publication.rules_sequence,
                rule_sets = publication.rule_sets,
                "admin: published a rules list"
            );
            let body = serde_json::to_value(&publication).map_err(|_| {
                ApiError::internal("encoding_failed", "the answer could not be encoded")
            })?;
            Ok(json(StatusCode::OK, &body))
        }
        _ => {
            let publication = publish(state).await?;
            let body = serde_json::to_value(&publication).map_err(|_| {
                ApiError::internal("encoding_failed", "the answer could not be encoded")
            })?;
            Ok(json(StatusCode::OK, &body))
        }
    }
}

/// Publishes fresh lists and serves them at once.
async fn publish(state: &AppState) -> Result<ops::Publication, ApiError> {
    let publication = {
        let _one_at_a_time = state.publishing.lock().await;
        ops::publish(
            &state.authority,
            state.store.as_ref(),
            state.config.lists_valid_for,
        )
        .await
        .map_err(ops_error)?
    };
    if let Err(e) = state.lists.reload(state.store.as_ref()).await {
        tracing::warn!(error = %e, "reloading the lists after publishing failed");
    }
    tracing::info!(
        trust_sequence = publication.trust_sequence,
        revocation_sequence = publication.revocation_sequence,
        revoked = publication.revoked,
        "admin: published the lists"
    );
    Ok(publication)
}

fn ops_error(e: OpsError) -> ApiError {
    match e {
        OpsError::Invalid(why) => ApiError::bad_request("invalid_argument", why),
        // The details name parts of the file: `vaxpass authority rules --check` shows them.
        OpsError::Rules(_) => ApiError::bad_request(
            "invalid_rules",
            "the rules file is malformed or outside the bounds verifiers accept",
        ),
        OpsError::Authority(vaxpass::Error::NotFound(_)) => ApiError::new(
            StatusCode::NOT_FOUND,
            "kid_unknown",
            "the authority has no such issuer key",
        ),
        OpsError::Store(StoreError::Conflict(_)) => ApiError::new(
            StatusCode::CONFLICT,
            "publish_conflict",
            "a list with a higher sequence was published meanwhile; publish again",
        ),
        OpsError::Store(e) => {
            tracing::error!(error = %e, "admin: store error");
            ApiError::store()
        }
        OpsError::Authority(e) => {
            tracing::error!(error = %e, "admin: authority error");
            ApiError::internal("authority_failed", "the authority could not do that")
        }
        OpsError::Join | OpsError::Vault(_) => {
            ApiError::internal("authority_failed", "the authority could not do that")
        }
    }
}
