-- The third signed list, the rules list, is published beside the trust and revocation lists.
ALTER TABLE lists DROP CONSTRAINT lists_kind_check,
    ADD CONSTRAINT lists_kind_check CHECK (kind IN ('trust', 'revocation', 'rules'));
ALTER TABLE list_history DROP CONSTRAINT list_history_kind_check,
    ADD CONSTRAINT list_history_kind_check CHECK (kind IN ('trust', 'revocation', 'rules'));
