-- Issuer service schema v3 (PostgreSQL). A citizen who enrols with OpenID Connect is found by
-- the configured claim of their ID token (`sub` by default): HMAC-SHA256 of its value under the
-- code key, like the codes, so the store holds no identifier. At most one citizen per subject.
ALTER TABLE citizens ADD COLUMN subject_hash BYTEA;
CREATE UNIQUE INDEX citizens_by_subject ON citizens (subject_hash);
