-- Verifier schema v2: the ETag each list was served with, sent back as If-None-Match so an
-- unchanged list costs the server (or its CDN) a 304 and no body.
ALTER TABLE lists ADD COLUMN etag TEXT;
