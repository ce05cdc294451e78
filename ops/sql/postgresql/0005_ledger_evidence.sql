-- Handoff.Orleans cluster mode on PostgreSQL, migration 5: each journal row carries its evidence.
--
-- evidence is what authorized the row (EvidenceJson): for a payment's charge the initiator's signed
-- request and the payer's or guardian's signed approval, for a refund the initiator's signed refund,
-- each as the exact statement text with its signature and the signer's public key (base64); for a
-- top-up or a budget's refill, which no device signs, who moved the money. `handoff ledger check`
-- verifies every signature from the row alone. Rows stored before this migration keep their terms and
-- carry none (NULL). A nullable column without a default changes only the table's definition: the
-- migration takes no time however many rows the journal has.

ALTER TABLE handoff_ledger_entry ADD COLUMN evidence jsonb NULL;
