-- Issuer service schema v2 (PostgreSQL). Enrolment codes are now stored as HMAC-SHA256 over the code
-- and the date of birth under the code key, which lives beside the authority's key file and never
-- in this store; the store's own salt is dropped. Hashes made under v1 (salted SHA-256 of a
-- 33-bit code) match nothing any more: give those citizens new codes (`restore`).
DELETE FROM settings WHERE key = 'code_salt';

-- Restoring a citizen revokes every credential issued to them.
CREATE INDEX issued_by_citizen ON issued (citizen_id);
