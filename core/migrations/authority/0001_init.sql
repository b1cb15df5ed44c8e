-- Authority schema v1. Private keys live here in the clear: a production deployment keeps them
-- in an HSM (see docs/architecture.md). No personal data is stored.
CREATE TABLE authority (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    issuer      TEXT NOT NULL,            -- CWT iss, e.g. 'KR'
    root_secret BLOB NOT NULL,
    trust_sequence      INTEGER NOT NULL DEFAULT 0,
    revocation_sequence INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE issuer_keys (
    kid         BLOB PRIMARY KEY,
    secret      BLOB NOT NULL,
    public_key  BLOB NOT NULL,
    not_before  INTEGER NOT NULL,
    not_after   INTEGER NOT NULL,
    revoked_after INTEGER,
    active      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX one_active_key ON issuer_keys (active) WHERE active = 1;
CREATE TABLE issued (                     -- audit log of issuance: ids and times only
    id          BLOB PRIMARY KEY,         -- credential id (cti)
    kid         BLOB NOT NULL REFERENCES issuer_keys (kid),
    issued_at   INTEGER NOT NULL,
    expires     INTEGER NOT NULL,
    revoked_at  INTEGER
);
