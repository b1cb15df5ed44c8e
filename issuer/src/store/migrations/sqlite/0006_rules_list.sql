-- The third signed list, the rules list, is published beside the trust and revocation lists.
-- SQLite cannot change a CHECK constraint in place: both tables are rebuilt with 'rules' allowed.
CREATE TABLE lists_new (
    kind         TEXT PRIMARY KEY CHECK (kind IN ('trust', 'revocation', 'rules')),
    sequence     INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    etag         TEXT NOT NULL,
    published_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO lists_new (kind, sequence, bytes, etag, published_at)
    SELECT kind, sequence, bytes, etag, published_at FROM lists;
DROP TABLE lists;
ALTER TABLE lists_new RENAME TO lists;

CREATE TABLE list_history_new (
    kind         TEXT NOT NULL CHECK (kind IN ('trust', 'revocation', 'rules')),
    sequence     INTEGER NOT NULL,
    etag         TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (kind, sequence)
);
INSERT INTO list_history_new (kind, sequence, etag, published_at)
    SELECT kind, sequence, etag, published_at FROM list_history;
DROP TABLE list_history;
ALTER TABLE list_history_new RENAME TO list_history;
