-- Handoff.Orleans cluster mode on PostgreSQL, migration 1: the Orleans query table and clustering.
--
-- Orleans' ADO.NET providers read every statement they run from the table orleansquery
-- ("SELECT QueryKey, QueryText FROM OrleansQuery"), by key. The providers bind parameters by
-- name (@DeploymentId, @Address, ...) and read result columns by name, so each query aliases
-- its columns to the quoted names Orleans expects; the tables themselves use our own
-- snake_case names. Needs PostgreSQL 15 or later (see 0002).
--
-- Membership follows Orleans' extended membership protocol: one version row per deployment
-- (cluster id) is the table's etag. Inserting or updating a silo's row succeeds only when the
-- caller's version still matches, and bumps it in the same statement; the per-row etag is not
-- used by the provider. The "I am alive" heartbeat deliberately does not bump the version.

CREATE TABLE orleansquery
(
    querykey  text NOT NULL,
    querytext text NOT NULL,
    CONSTRAINT orleansquery_pkey PRIMARY KEY (querykey)
);

CREATE TABLE orleans_membership_version
(
    deployment_id text        NOT NULL,
    version       integer     NOT NULL DEFAULT 0,
    changed_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orleans_membership_version_pkey PRIMARY KEY (deployment_id)
);

CREATE TABLE orleans_membership
(
    deployment_id   text        NOT NULL,
    address         text        NOT NULL,
    port            integer     NOT NULL,
    generation      integer     NOT NULL,
    silo_name       text        NOT NULL,
    host_name       text        NOT NULL,
    status          integer     NOT NULL,
    proxy_port      integer     NOT NULL DEFAULT 0,
    suspect_times   text        NULL,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    CONSTRAINT orleans_membership_pkey PRIMARY KEY (deployment_id, address, port, generation),
    -- Deleting a deployment's version row removes its silos with it.
    CONSTRAINT orleans_membership_version_fkey FOREIGN KEY (deployment_id)
        REFERENCES orleans_membership_version (deployment_id) ON DELETE CASCADE
);

INSERT INTO orleansquery (querykey, querytext) VALUES

-- Creates the deployment's version row once; true only for the caller that created it.
('InsertMembershipVersionKey', $q$
WITH created AS
(
    INSERT INTO orleans_membership_version (deployment_id)
    VALUES (@DeploymentId)
    ON CONFLICT (deployment_id) DO NOTHING
    RETURNING deployment_id
)
SELECT count(*) > 0 AS "Created" FROM created;
$q$),

-- The version row is locked first, so a concurrent writer either sees our new version or
-- waits and then finds its expected version gone; the silo row is inserted only when the
-- version matched, and the version is bumped only when the row was inserted.
('InsertMembershipKey', $q$
WITH expected AS
(
    SELECT deployment_id
    FROM orleans_membership_version
    WHERE deployment_id = @DeploymentId AND version = @Version
    FOR UPDATE
),
inserted AS
(
    INSERT INTO orleans_membership
        (deployment_id, address, port, generation, silo_name, host_name, status, proxy_port, start_time, i_am_alive_time)
    SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM expected
    ON CONFLICT (deployment_id, address, port, generation) DO NOTHING
    RETURNING deployment_id
),
bumped AS
(
    UPDATE orleans_membership_version AS v
    SET version = v.version + 1, changed_at = now()
    FROM inserted AS i
    WHERE v.deployment_id = i.deployment_id
    RETURNING v.version
)
SELECT count(*) > 0 AS "Inserted" FROM bumped;
$q$),

('UpdateMembershipKey', $q$
WITH expected AS
(
    SELECT deployment_id
    FROM orleans_membership_version
    WHERE deployment_id = @DeploymentId AND version = @Version
    FOR UPDATE
),
updated AS
(
    UPDATE orleans_membership AS m
    SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
    FROM expected AS e
    WHERE m.deployment_id = e.deployment_id
        AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING m.deployment_id
),
bumped AS
(
    UPDATE orleans_membership_version AS v
    SET version = v.version + 1, changed_at = now()
    FROM updated AS u
    WHERE v.deployment_id = u.deployment_id
    RETURNING v.version
)
SELECT count(*) > 0 AS "Updated" FROM bumped;
$q$),

('UpdateIAmAlivetimeKey', $q$
UPDATE orleans_membership
SET i_am_alive_time = @IAmAliveTime
WHERE deployment_id = @DeploymentId
    AND address = @Address AND port = @Port AND generation = @Generation;
$q$),

-- Orleans takes the table version from the first row, so the version row is always returned,
-- with NULL silo columns when the silo has no row.
('MembershipReadRowKey', $q$
SELECT
    v.version         AS "Version",
    m.address         AS "Address",
    m.port            AS "Port",
    m.generation      AS "Generation",
    m.silo_name       AS "SiloName",
    m.host_name       AS "HostName",
    m.status          AS "Status",
    m.proxy_port      AS "ProxyPort",
    m.suspect_times   AS "SuspectTimes",
    m.start_time      AS "StartTime",
    m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version AS v
LEFT JOIN orleans_membership AS m
    ON m.deployment_id = v.deployment_id
    AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.deployment_id = @DeploymentId;
$q$),

('MembershipReadAllKey', $q$
SELECT
    v.version         AS "Version",
    m.address         AS "Address",
    m.port            AS "Port",
    m.generation      AS "Generation",
    m.silo_name       AS "SiloName",
    m.host_name       AS "HostName",
    m.status          AS "Status",
    m.proxy_port      AS "ProxyPort",
    m.suspect_times   AS "SuspectTimes",
    m.start_time      AS "StartTime",
    m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version AS v
LEFT JOIN orleans_membership AS m ON m.deployment_id = v.deployment_id
WHERE v.deployment_id = @DeploymentId;
$q$),

('GatewaysQueryKey', $q$
SELECT
    address    AS "Address",
    proxy_port AS "ProxyPort",
    generation AS "Generation"
FROM orleans_membership
WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0;
$q$),

('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId;
$q$),

-- Any silo that is not Active and has not been heard from since the cut-off is gone; this is
-- what Orleans' own in-memory table does. Removing old rows does not change the version.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleans_membership
WHERE deployment_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status <> 3;
$q$)

ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;
