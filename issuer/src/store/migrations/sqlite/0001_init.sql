-- Issuer service schema v1 (SQLite). Times are Unix seconds. Keys live in the authority's own
-- key file, not here.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- Enrolment nonces handed out and not yet used; a use deletes the row.
CREATE TABLE nonces (
    nonce      BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

-- The registry: who may enrol (by a salted hash of their one-time code) and their events.
CREATE TABLE citizens (
    id           INTEGER PRIMARY KEY,
    code_hash    BLOB NOT NULL UNIQUE,
    code_used_at INTEGER,
    code_used_by BLOB,                  -- SHA-256 of the device key that used the code
    name         TEXT NOT NULL,
    birth_date   TEXT NOT NULL          -- YYYY-MM-DD
);
CREATE TABLE events (
    citizen_id INTEGER NOT NULL REFERENCES citizens (id),
    pass_no    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    event      TEXT NOT NULL,           -- registry text form, e.g. comirnaty:1/2:2021-06-20
    PRIMARY KEY (citizen_id, pass_no, seq)
) WITHOUT ROWID;

-- Audit log of issuance: ids and times only, no personal data. The primary key keeps ids unique.
CREATE TABLE issued (
    credential_id BLOB PRIMARY KEY,
    kid           BLOB NOT NULL,
    issued_at     INTEGER NOT NULL,
    expires       INTEGER NOT NULL,
    citizen_id    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE revoked (
    credential_id BLOB PRIMARY KEY REFERENCES issued (credential_id),
    revoked_at    INTEGER NOT NULL,
    expires       INTEGER NOT NULL
) WITHOUT ROWID;

-- The lists currently published, exactly as signed.
CREATE TABLE lists (
    kind         TEXT PRIMARY KEY CHECK (kind IN ('trust', 'revocation')),
    sequence     INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    etag         TEXT NOT NULL,
    published_at INTEGER NOT NULL
) WITHOUT ROWID;
