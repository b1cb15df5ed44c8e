-- Wallet schema v2: the lower bound of the real time the wallet signs presentations against
-- (docs/architecture.md, "The wallet's clock"). One row, moved only forward.
CREATE TABLE trusted_time (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    at_ms           INTEGER NOT NULL,   -- the real time was at least this (Unix ms) ...
    boot_elapsed_ms INTEGER             -- ... when the monotonic clock read this; NULL: no clock
);
