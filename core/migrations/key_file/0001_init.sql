-- Key file schema v1: the development vault. Ed25519 secrets in the clear, by public key, and
-- nothing else (a production authority keeps its keys in a hardware security module).
CREATE TABLE keys (
    public_key BLOB PRIMARY KEY,
    secret     BLOB NOT NULL
);
