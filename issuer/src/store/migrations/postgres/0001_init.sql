-- Issuer service schema v1 (PostgreSQL). Times are Unix seconds. Keys live in the authority's
-- own key file, not here.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

-- Enrolment nonces handed out and not yet used; a use deletes the row.
CREATE TABLE nonces (
    nonce      BYTEA PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

-- The registry: who may enrol (by a salted hash of their one-time code) and their events.
CREATE TABLE citizens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_hash    BYTEA NOT NULL UNIQUE,
    code_used_at BIGINT,
    code_used_by BYTEA,                 -- SHA-256 of the device key that used the code
    name         TEXT NOT NULL,
    birth_date   TEXT NOT NULL          -- YYYY-MM-DD
);
CREATE TABLE events (
    citizen_id BIGINT NOT NULL REFERENCES citizens (id),
    pass_no    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    event      TEXT NOT NULL,           -- registry text form, e.g. comirnaty:1/2:2021-06-20
    PRIMARY KEY (citizen_id, pass_no, seq)
);

-- Audit log of issuance: ids and times only, no personal data. The primary key keeps ids unique.
CREATE TABLE issued (
    credential_id BYTEA PRIMARY KEY,
    kid           BYTEA NOT NULL,
    issued_at     BIGINT NOT NULL,
    expires       BIGINT NOT NULL,
    citizen_id    BIGINT NOT NULL
);

CREATE TABLE revoked (
    credential_id BYTEA PRIMARY KEY REFERENCES issued (credential_id),
    revoked_at    BIGINT NOT NULL,
    expires       BIGINT NOT NULL
);

-- The lists currently published, exactly as signed.
CREATE TABLE lists (
    kind         TEXT PRIMARY KEY CHECK (kind IN ('trust', 'revocation')),
    sequence     BIGINT NOT NULL,
    bytes        BYTEA NOT NULL,
    etag         TEXT NOT NULL,
    published_at BIGINT NOT NULL
);
