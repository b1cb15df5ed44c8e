//! The key file: the embedded default [`KeyVault`], for development. Ed25519 secrets in the
//! clear in an SQLite file, by public key, and nothing else; a production authority keeps its
//! keys in a hardware security module instead.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::keys::Ed25519KeyPair;
use crate::store::{self, Create};
use crate::vault::KeyVault;

const MIGRATIONS: &[&str] = &[include_str!("../migrations/key_file/0001_init.sql")];

/// Secrets by public key in one SQLite file. Safe to share between threads and processes.
pub struct KeyFile {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyFile(..)")
    }
}

impl KeyFile {
    /// Opens the key file, creating an empty one if it is missing.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Self::from(store::open(path.as_ref(), Create::IfMissing, MIGRATIONS)?)
    }

    /// Opens an existing key file; a missing file is `NotFound`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::from(store::open(path.as_ref(), Create::Never, MIGRATIONS)?)
    }

    fn from(conn: Connection) -> Result<Self> {
        // A file of another schema at the same version would only fail at the first signature.
        conn.query_row("SELECT count(*) FROM keys", [], |r| r.get::<_, i64>(0))
            .map_err(|_| Error::InvalidArgument("this file is not a key file".into()))?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn key(&self, public_key: &[u8; 32]) -> Result<Ed25519KeyPair> {
        let secret: Option<Vec<u8>> = self
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .query_row(
                "SELECT secret FROM keys WHERE public_key = ?1",
                [&public_key[..]],
                |r| r.get(0),
            )
            .optional()?;
        let secret = zeroize::Zeroizing::new(secret.ok_or(Error::NotFound("key in the vault"))?);
        let key = Ed25519KeyPair::from_secret(&secret)?;
        if key.public() != *public_key {
            return Err(Error::malformed(
                "stored key",
                "secret and public key differ",
            ));
        }
        Ok(key)
    }
}

impl KeyFile {
    /// Stores an existing secret (a key file of an older schema being imported).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn import(&self, secret: &[u8]) -> Result<[u8; 32]> {
        self.insert(&Ed25519KeyPair::from_secret(secret)?)
    }

    fn insert(&self, key: &Ed25519KeyPair) -> Result<[u8; 32]> {
        self.conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .execute(
                "INSERT OR IGNORE INTO keys (public_key, secret) VALUES (?1, ?2)",
                params![&key.public()[..], &key.secret()[..]],
            )?;
        Ok(key.public())
    }
}

impl KeyVault for KeyFile {
    fn generate(&self) -> Result<[u8; 32]> {
        self.insert(&Ed25519KeyPair::generate())
    }

    fn sign(&self, public_key: &[u8; 32], message: &[u8]) -> Result<[u8; 64]> {
        Ok(self.key(public_key)?.sign(message))
    }

    fn sign_all(&self, public_key: &[u8; 32], messages: &[Vec<u8>]) -> Result<Vec<[u8; 64]>> {
        let key = self.key(public_key)?;
        Ok(messages.iter().map(|m| key.sign(m)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::verify_ed25519;

    #[test]
    fn a_key_file_signs_with_the_keys_it_generated_and_knows_no_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.sqlite");
        let public = KeyFile::create(&path).unwrap().generate().unwrap();
        let vault = KeyFile::open(&path).unwrap();
        let signatures = vault
            .sign_all(&public, &[b"a".to_vec(), b"b".to_vec()])
            .unwrap();
        assert!(verify_ed25519(&public, b"b", &signatures[1]).is_ok());
        assert!(matches!(
            vault.sign(&[9; 32], b"a"),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            KeyFile::open(dir.path().join("missing")),
            Err(Error::NotFound(_))
        ));
    }
}
