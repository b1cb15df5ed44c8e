-- Authority schema v2: the private keys move to the key file beside this one (the vault); this
-- file keeps public keys only. Opening a v1 file moves its secrets there and blanks them here.
ALTER TABLE authority ADD COLUMN root_public_key BLOB;
