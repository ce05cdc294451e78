-- Handoff.Orleans cluster mode on PostgreSQL, migration 4: the ledger journal.
--
-- A household's ledger was one grain state holding every charge ever made, rewritten whole on each
-- charge. It becomes two tables: handoff_ledger_entry, one row per charge, and
-- handoff_ledger_balance, one row per account and currency. PostgresLedgerJournal appends a charge
-- and posts it to both balances in a single statement, so either all of it is stored or none.
--
-- Rows are keyed by service id and household id (the ledger grain's key), like the grain state:
-- clusters sharing a database never mix. Within a household, the entry number and the payment id
-- are each unique: a replayed charge or a second writer with the same entry number inserts nothing.
-- Amounts and balances are numeric, exact like the decimals they come from.

CREATE TABLE handoff_ledger_entry
(
    service_id     text        NOT NULL,
    household_id   text        NOT NULL,
    sequence       bigint      NOT NULL,
    payment_id     text        NOT NULL,
    debit_account  text        NOT NULL,
    credit_account text        NOT NULL,
    amount         numeric     NOT NULL,
    currency       text        NOT NULL,
    charged_at     timestamptz NOT NULL,
    CONSTRAINT handoff_ledger_entry_pkey PRIMARY KEY (service_id, household_id, sequence),
    CONSTRAINT handoff_ledger_entry_payment UNIQUE (service_id, household_id, payment_id),
    CONSTRAINT handoff_ledger_entry_sequence_positive CHECK (sequence > 0),
    CONSTRAINT handoff_ledger_entry_amount_positive CHECK (amount > 0),
    CONSTRAINT handoff_ledger_entry_two_accounts CHECK (debit_account <> credit_account)
);

CREATE TABLE handoff_ledger_balance
(
    service_id   text    NOT NULL,
    household_id text    NOT NULL,
    account      text    NOT NULL,
    currency     text    NOT NULL,
    balance      numeric NOT NULL,
    CONSTRAINT handoff_ledger_balance_pkey PRIMARY KEY (service_id, household_id, account, currency)
);

-- Ledgers stored before this migration, as JSON grain state of type 'ledger' (keyed by the household
-- id in the key extension), move into the tables, and their grain state goes: the ledger grain no
-- longer reads it. A balance key is '<account>/<currency>'; an account may itself contain '/'.
INSERT INTO handoff_ledger_entry
    (service_id, household_id, sequence, payment_id, debit_account, credit_account, amount, currency, charged_at)
SELECT s.service_id,
       s.grain_id_extension,
       (c.value ->> 'sequence')::bigint,
       c.value ->> 'paymentId',
       c.value ->> 'debitAccount',
       c.value ->> 'creditAccount',
       (c.value ->> 'amount')::numeric,
       c.value ->> 'currency',
       (c.value ->> 'at')::timestamptz
FROM orleans_grain_state AS s
CROSS JOIN LATERAL jsonb_each(convert_from(s.payload, 'UTF8')::jsonb -> 'charges') AS c
WHERE s.grain_type = 'ledger' AND s.payload IS NOT NULL AND s.grain_id_extension IS NOT NULL;

INSERT INTO handoff_ledger_balance (service_id, household_id, account, currency, balance)
SELECT s.service_id,
       s.grain_id_extension,
       regexp_replace(b.key, '/[^/]*$', ''),
       substring(b.key FROM '[^/]*$'),
       (b.value #>> '{}')::numeric
FROM orleans_grain_state AS s
CROSS JOIN LATERAL jsonb_each(convert_from(s.payload, 'UTF8')::jsonb -> 'balances') AS b
WHERE s.grain_type = 'ledger' AND s.payload IS NOT NULL AND s.grain_id_extension IS NOT NULL;

DELETE FROM orleans_grain_state WHERE grain_type = 'ledger';
