-- Every list ever published, by kind and sequence. The primary key is the rule replicas share:
-- one sequence number names one list, whichever replica signed it. Sequences are allocated by
-- the publishing transaction (one above the current list), not by any replica's own counter.
CREATE TABLE list_history (
    kind         TEXT NOT NULL CHECK (kind IN ('trust', 'revocation')),
    sequence     BIGINT NOT NULL,
    etag         TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (kind, sequence)
);
INSERT INTO list_history (kind, sequence, etag, published_at)
    SELECT kind, sequence, etag, published_at FROM lists;
