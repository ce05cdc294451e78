-- Handoff.Orleans cluster mode on PostgreSQL, migration 2: grain storage.
--
-- One row per grain state, identified by service id, grain type and grain key (two 64-bit
-- halves plus an optional string extension). Orleans also hands us hashes of the type and
-- the key; they lead the unique key so a lookup touches a handful of index entries even for
-- string-keyed grains, whose numeric halves are all zero. NULLS NOT DISTINCT (PostgreSQL 15)
-- makes "no extension" a single value, so two first writes of a grain cannot both insert.
--
-- The version column is the etag. A write names the version it read (NULL for a grain never
-- stored) and succeeds only if it still matches; every query returns exactly one row, whose
-- value is the new version or NULL when the etag was stale, which Orleans turns into an
-- InconsistentStateException.

CREATE TABLE orleans_grain_state
(
    service_id         text        NOT NULL,
    grain_type_hash    integer     NOT NULL,
    grain_id_hash      integer     NOT NULL,
    grain_type         text        NOT NULL,
    grain_id_n0        bigint      NOT NULL,
    grain_id_n1        bigint      NOT NULL,
    grain_id_extension text        NULL,
    payload            bytea       NULL,
    version            integer     NOT NULL,
    modified_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orleans_grain_state_key UNIQUE NULLS NOT DISTINCT
        (service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0, grain_id_n1, grain_id_extension)
);

INSERT INTO orleansquery (querykey, querytext) VALUES

('ReadFromStorageKey', $q$
SELECT payload AS "PayloadBinary", version AS "Version"
FROM orleans_grain_state
WHERE service_id = @ServiceId
    AND grain_type_hash = @GrainTypeHash AND grain_id_hash = @GrainIdHash
    AND grain_type = @GrainTypeString
    AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
    AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString;
$q$),

-- Exactly one of the two branches can act: an update when the grain names a version, an
-- insert when it does not. A concurrent first write loses on the unique key and gets NULL.
('WriteToStorageKey', $q$
WITH updated AS
(
    UPDATE orleans_grain_state
    SET payload = @PayloadBinary, version = version + 1, modified_at = now()
    WHERE @GrainStateVersion IS NOT NULL
        AND service_id = @ServiceId
        AND grain_type_hash = @GrainTypeHash AND grain_id_hash = @GrainIdHash
        AND grain_type = @GrainTypeString
        AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
        AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
        AND version = @GrainStateVersion
    RETURNING version
),
inserted AS
(
    INSERT INTO orleans_grain_state
        (service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0, grain_id_n1, grain_id_extension, payload, version)
    SELECT @ServiceId, @GrainTypeHash, @GrainIdHash, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString, @PayloadBinary, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT ON CONSTRAINT orleans_grain_state_key DO NOTHING
    RETURNING version
)
SELECT (SELECT version FROM updated UNION ALL SELECT version FROM inserted) AS "NewGrainStateVersion";
$q$),

-- Clearing keeps the row with no payload and a new version, so a later write by a stale
-- activation is still refused.
('ClearStorageKey', $q$
WITH cleared AS
(
    UPDATE orleans_grain_state
    SET payload = NULL, version = version + 1, modified_at = now()
    WHERE service_id = @ServiceId
        AND grain_type_hash = @GrainTypeHash AND grain_id_hash = @GrainIdHash
        AND grain_type = @GrainTypeString
        AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
        AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
        AND version = @GrainStateVersion
    RETURNING version
)
SELECT (SELECT version FROM cleared) AS "NewGrainStateVersion";
$q$),

-- Used when DeleteStateOnClear is set. Orleans expects the deleted version plus one, to tell
-- success from a stale etag; it then forgets the etag.
('DeleteStorageKey', $q$
WITH deleted AS
(
    DELETE FROM orleans_grain_state
    WHERE service_id = @ServiceId
        AND grain_type_hash = @GrainTypeHash AND grain_id_hash = @GrainIdHash
        AND grain_type = @GrainTypeString
        AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
        AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
        AND version = @GrainStateVersion
    RETURNING version
)
SELECT (SELECT version + 1 FROM deleted) AS "NewGrainStateVersion";
$q$)

ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;
