-- Wallet schema v1: the device key and the holder's credentials.
CREATE TABLE device_key (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    algorithm   TEXT NOT NULL,            -- 'Ed25519' (software) or 'ES256' (platform signer)
    public_key  BLOB NOT NULL,
    wrapped_secret BLOB                   -- software key, as returned by the key protector
);
CREATE TABLE passes (
    id          TEXT PRIMARY KEY,         -- credential id (cti), hex
    credential  BLOB NOT NULL,            -- the credential exactly as issued
    imported_at INTEGER NOT NULL
);
