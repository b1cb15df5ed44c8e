-- Verifier schema v3: the rules list is stored beside the other two (the kind CHECK is widened,
-- which SQLite can only do by rebuilding the table), and the venue mode the shop picked.
CREATE TABLE lists_v3 (
    kind        TEXT PRIMARY KEY CHECK (kind IN ('trust', 'revocation', 'rules')),
    sequence    INTEGER NOT NULL,
    issued_at   INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    signed      BLOB NOT NULL,            -- the signed bytes as received
    etag        TEXT
);
INSERT INTO lists_v3 (kind, sequence, issued_at, next_update, signed, etag)
    SELECT kind, sequence, issued_at, next_update, signed, etag FROM lists;
DROP TABLE lists;
ALTER TABLE lists_v3 RENAME TO lists;
CREATE TABLE venue_mode (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL             -- a mode name of the rules list, as the shop picked it
);
