//! Where the authority's private keys live and sign: the key file (the embedded default, for
//! development) or a hardware security module. The authority holds only public keys and asks its
//! vault to sign; nothing secret crosses this trait.

use std::fmt;

use crate::error::Result;

/// An Ed25519 key store that signs inside itself.
pub trait KeyVault: Send + Sync + fmt::Debug {
    /// Generates a new Ed25519 key pair inside the vault and returns its public key.
    fn generate(&self) -> Result<[u8; 32]>;

    /// Signs `message` (pure Ed25519, RFC 8032) with the private key of `public_key`.
    /// `Error::NotFound` when the vault holds no such key.
    fn sign(&self, public_key: &[u8; 32], message: &[u8]) -> Result<[u8; 64]>;

    /// Signs several messages with one key: one call per batch, so a vault with sessions or a
    /// network hop pays its fixed cost once. The default signs one by one.
    fn sign_all(&self, public_key: &[u8; 32], messages: &[Vec<u8>]) -> Result<Vec<[u8; 64]>> {
        messages.iter().map(|m| self.sign(public_key, m)).collect()
    }
}
