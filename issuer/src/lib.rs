//! The issuer service of vaxpass: the one online step (enrolment) and the distribution of the
//! signed lists, built to survive a national lunch-time peak.
//!
//! Signing is the core [`vaxpass::Authority`]'s, through a vault that holds the private keys
//! ([`authority::open_vault`]: the key file, or a PKCS#11 token through [`hsm`]); everything else
//! (the issuer keys and which one is active, nonces, the registry, the audit log of issuance,
//! revocations, list sequence numbers and the published lists) lives in one store of record
//! behind [`store::Store`], in SQLite or PostgreSQL, shared by every replica; the key of the
//! registry's code hashes lies beside the key file ([`identity::CodeKey`]). Who is enrolling is
//! an OpenID Connect ID token or a one-time enrolment code ([`identity`]). Enrolments are signed
//! and recorded in group commits
//! ([`batcher`]), and acknowledged only once durable; overload is refused fast ([`overload`]), and
//! failed attempts are limited ([`attempts`]).

pub mod attempts;
pub mod authority;
pub mod batcher;
pub mod config;
pub mod config_file;
pub mod hsm;
pub mod http;
pub mod identity;
pub mod logging;
pub mod metrics;
pub mod ops;
pub mod overload;
pub mod registry;
pub mod rules_file;
pub mod server;
pub mod store;
