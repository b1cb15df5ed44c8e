//! The issuer service of vaxpass: the one online step (enrolment) and the distribution of the
//! signed lists, built to survive a national lunch-time peak.
//!
//! Keys and signing stay in the core [`vaxpass::Authority`]; the service's own state (nonces, the
//! registry, the audit log of issuance, revocations, published lists) lives behind
//! [`store::Store`], in SQLite or PostgreSQL; the key of the registry's code hashes lies beside
//! the key file ([`identity::CodeKey`]). Who is enrolling is an OpenID Connect ID token or a
//! one-time enrolment code ([`identity`]). Enrolments are signed and recorded in group commits
//! ([`batcher`]), and acknowledged only once durable; overload is refused fast ([`overload`]), and
//! failed attempts are limited ([`attempts`]).

pub mod attempts;
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
pub mod server;
pub mod store;
