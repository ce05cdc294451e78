-- Handoff's embedded store: grain state, reminders and the ledger in one SQLite file.
-- Every write goes through the file's SqliteWriter (group commit; synchronous=FULL on its connection).
-- Grain state is written by SqliteGrainStorage, in the rows that Orleans' ADO.NET grain storage wrote
-- with the queries below in earlier hubs (a test holds both to the same rows). The queries stay, for
-- that test and so that a file still opens in an earlier hub: Orleans reads the texts in table
-- OrleansQuery (its fixed name), binds @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash,
-- @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary, and
-- reads the columns PayloadBinary, Version and NewGrainStateVersion.

PRAGMA journal_mode = WAL;

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
);

-- One row per grain state. The string key is stored as '' when the grain has none, so the
-- whole identity can be the primary key.
CREATE TABLE IF NOT EXISTS handoff_grain_state
(
    service_id      TEXT    NOT NULL,
    grain_type      TEXT    NOT NULL,
    grain_n0        INTEGER NOT NULL,
    grain_n1        INTEGER NOT NULL,
    grain_key       TEXT    NOT NULL,
    payload         BLOB    NULL,
    version         INTEGER NOT NULL,
    modified_at     TEXT    NOT NULL,
    PRIMARY KEY (service_id, grain_type, grain_n0, grain_n1, grain_key)
) WITHOUT ROWID;

-- Reminders of the embedded hub (Orleans ships no SQLite reminder table; ours is SqliteReminderTable).
CREATE TABLE IF NOT EXISTS handoff_reminder
(
    service_id    TEXT    NOT NULL,
    grain_id      TEXT    NOT NULL,
    reminder_name TEXT    NOT NULL,
    grain_hash    INTEGER NOT NULL,
    start_at      TEXT    NOT NULL,
    period_ms     INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS handoff_reminder_by_hash ON handoff_reminder (service_id, grain_hash);

-- The ledger: one row per charge, appended together with its two balance postings in one write
-- transaction (SqliteLedgerJournal). A household's payment ids and entry numbers are unique, so a
-- replayed charge or a second writer appends nothing. Amounts and balances are decimal text
-- (invariant culture), which SQLite keeps exactly; the journal adds them up in .NET decimals.
-- evidence is what authorized the row, as JSON (EvidenceJson: the signed statements with their
-- signatures and keys, or who moved money no device signs); NULL in rows stored before it was kept.
-- A file made before the column existed gets it from SqliteEvidenceColumn (user_version 2).
CREATE TABLE IF NOT EXISTS handoff_ledger_entry
(
    service_id     TEXT    NOT NULL,
    household_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL CHECK (sequence > 0),
    payment_id     TEXT    NOT NULL,
    debit_account  TEXT    NOT NULL,
    credit_account TEXT    NOT NULL,
    amount         TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    charged_at     TEXT    NOT NULL,
    evidence       TEXT    NULL,
    PRIMARY KEY (service_id, household_id, sequence),
    UNIQUE (service_id, household_id, payment_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS handoff_ledger_balance
(
    service_id   TEXT NOT NULL,
    household_id TEXT NOT NULL,
    account      TEXT NOT NULL,
    currency     TEXT NOT NULL,
    balance      TEXT NOT NULL,
    PRIMARY KEY (service_id, household_id, account, currency)
) WITHOUT ROWID;

-- Read: the payload and its version, or no row.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
SELECT payload AS PayloadBinary, version AS Version
FROM handoff_grain_state
WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
  AND grain_n0 = @GrainIdN0 AND grain_n1 = @GrainIdN1
  AND grain_key = COALESCE(@GrainIdExtensionString, '''');
');

-- Write: with a version, update only that version (optimistic concurrency); without one, insert
-- only when no row exists. Each statement returns the new version when it changed a row; an
-- empty answer tells Orleans the etag did not match.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
UPDATE handoff_grain_state
SET payload = @PayloadBinary, version = version + 1, modified_at = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
  AND grain_n0 = @GrainIdN0 AND grain_n1 = @GrainIdN1
  AND grain_key = COALESCE(@GrainIdExtensionString, '''')
  AND version = @GrainStateVersion
RETURNING version AS NewGrainStateVersion;
INSERT INTO handoff_grain_state (service_id, grain_type, grain_n0, grain_n1, grain_key, payload, version, modified_at)
SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, COALESCE(@GrainIdExtensionString, ''''), @PayloadBinary, 1,
       strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
WHERE @GrainStateVersion IS NULL
ON CONFLICT DO NOTHING
RETURNING version AS NewGrainStateVersion;
');

-- Clear: empty the payload of that version, keeping the row so the version keeps growing.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
UPDATE handoff_grain_state
SET payload = NULL, version = version + 1, modified_at = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
  AND grain_n0 = @GrainIdN0 AND grain_n1 = @GrainIdN1
  AND grain_key = COALESCE(@GrainIdExtensionString, '''')
  AND version = @GrainStateVersion
RETURNING version AS NewGrainStateVersion;
');
