-- Wallet schema v3: the rules list the wallet last saw, as signed, with the root key it verified
-- against and its ETag, so the citizen's app can say when each pass is valid with no network.
CREATE TABLE rules_list (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    sequence    INTEGER NOT NULL,
    root_public_key BLOB NOT NULL,        -- the root key the app pinned when it applied the list
    signed      BLOB NOT NULL,            -- the signed bytes as received
    etag        TEXT
);
