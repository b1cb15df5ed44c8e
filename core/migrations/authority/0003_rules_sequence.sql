-- Authority schema v3: the sequence counter of the rules list, like the other two lists'.
ALTER TABLE authority ADD COLUMN rules_sequence INTEGER NOT NULL DEFAULT 0;
