-- Verifier schema v1: the last accepted trust list and revocation list, stored as signed and
-- as parsed, so a restart needs no network and no re-verification of history.
CREATE TABLE lists (
    kind        TEXT PRIMARY KEY CHECK (kind IN ('trust', 'revocation')),
    sequence    INTEGER NOT NULL,
    issued_at   INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    signed      BLOB NOT NULL             -- the signed bytes as received
);
CREATE TABLE revoked (
    entry       BLOB PRIMARY KEY          -- truncated SHA-256 of a credential id
) WITHOUT ROWID;
