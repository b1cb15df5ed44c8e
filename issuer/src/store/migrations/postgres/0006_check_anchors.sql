-- Issuer service schema v6 (PostgreSQL). Shops anchor their check log's chain head whenever
-- they sync: the shop key, the count and hash (no personal data), the signed anchor as
-- received, and when it arrived. Every anchor is kept: a later one never replaces an earlier one.
CREATE TABLE check_anchors (
    shop_key    BYTEA NOT NULL,           -- 32 bytes Ed25519 or 33 bytes P-256
    count       BIGINT NOT NULL,
    hash        BYTEA NOT NULL,
    signed      BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (shop_key, count)
);
