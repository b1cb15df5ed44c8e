-- Verifier schema: the check log (docs/format.md, "Check log"). One row per verdict, in the
-- order given; the chain hash is not stored per row (it is recomputed from the entries), only
-- the head, so a million entries stay small.
CREATE TABLE check_log (
    seq         INTEGER PRIMARY KEY,      -- 1, 2, 3, ... with no gap
    at          INTEGER NOT NULL,         -- the verdict's time, Unix seconds (the device clock)
    entry       BLOB NOT NULL             -- the entry's canonical CBOR, as hashed
);
CREATE INDEX check_log_at ON check_log (at);
-- Where the next entry links: the last entry's sequence and the chain hash after it.
CREATE TABLE check_log_head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    seq         INTEGER NOT NULL,
    hash        BLOB NOT NULL
);
-- What pruning cut, signed by the shop key: the chain position the oldest kept entry links to.
CREATE TABLE check_log_checkpoint (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    seq         INTEGER NOT NULL,
    hash        BLOB NOT NULL,
    public_key  BLOB NOT NULL,
    signature   BLOB NOT NULL
);
-- The key of the day's credential tags: random, one per local day, deleted when the day is over.
CREATE TABLE check_log_day_key (
    day         TEXT PRIMARY KEY,         -- YYYY-MM-DD in the policy's time zone
    key         BLOB NOT NULL
);
-- Running totals for the status screen: scans per local hour by verdict code.
CREATE TABLE check_counts (
    hour        INTEGER NOT NULL,         -- local hour: floor((at + UTC offset) / 3600)
    code        TEXT NOT NULL,            -- 'valid' or the reason code
    n           INTEGER NOT NULL,
    PRIMARY KEY (hour, code)
) WITHOUT ROWID;
-- The shop key that signs reports, checkpoints and anchors: as the wallet's device key.
CREATE TABLE shop_key (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    algorithm   TEXT NOT NULL,            -- 'Ed25519' (software) or 'ES256' (platform signer)
    public_key  BLOB NOT NULL,
    wrapped_secret BLOB                   -- software key, as returned by the key protector
);
