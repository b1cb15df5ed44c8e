-- The authority's public half, shared by every replica: its name, the root public key verifiers
-- pin, and its issuer keys (validity, leak, which one signs). The private keys are in the vault
-- (the key file or a hardware security module), never here.
CREATE TABLE authority (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    issuer          TEXT NOT NULL,
    root_public_key BLOB NOT NULL
);
CREATE TABLE issuer_keys (
    kid           BLOB PRIMARY KEY,
    public_key    BLOB NOT NULL UNIQUE,
    not_before    INTEGER NOT NULL,
    not_after     INTEGER NOT NULL,
    revoked_after INTEGER,
    active        INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
);
CREATE UNIQUE INDEX one_active_issuer_key ON issuer_keys (active) WHERE active = 1;
