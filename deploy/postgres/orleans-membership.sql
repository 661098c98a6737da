-- NoKV: the Orleans membership table in PostgreSQL (Clustering:Provider = AdoNet, invariant Npgsql).
--
-- Run once per database before the first silo starts, as the database owner:
--   psql "host=pg.internal dbname=nokv user=nokv_admin" -v ON_ERROR_STOP=1 -f deploy/postgres/orleans-membership.sql
-- It is idempotent: running it again (after an upgrade of this file) replaces the queries and keeps the rows.
--
-- How Orleans uses it (Microsoft.Orleans.Clustering.AdoNet 10.4): at start a silo reads every row of OrleansQuery
-- (SELECT QueryKey, QueryText FROM OrleansQuery) and from then on runs only those texts, binding named parameters
-- (@DeploymentId = the cluster id, @Address, @Port, @Generation, @Status, @Version, ...) and reading result columns by
-- name. The table and column names below are ours; the query keys, the parameter names and the result column names
-- are Orleans' contract and must not change.
--
-- Consistency: the table version (one row per cluster) is the etag of the whole table. Every insert or update of a
-- member row is one statement that first bumps the version where it still equals @Version and then writes the member
-- row only if the bump happened, so a writer that read an older table changes nothing and gets false, and two
-- writers racing on one version are serialized by the version row's lock (the loser re-checks and fails). Reads are
-- one statement, so members and version come from one snapshot.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

CREATE TABLE IF NOT EXISTS nokv_membership_version
(
    deployment_id varchar(150) NOT NULL PRIMARY KEY,
    version       integer      NOT NULL DEFAULT 0,
    updated_at    timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS nokv_membership
(
    deployment_id   varchar(150)   NOT NULL REFERENCES nokv_membership_version (deployment_id) ON DELETE CASCADE,
    address         varchar(45)    NOT NULL,
    port            integer        NOT NULL,
    generation      integer        NOT NULL,
    silo_name       varchar(150)   NOT NULL,
    host_name       varchar(150)   NOT NULL,
    status          integer        NOT NULL,
    proxy_port      integer        NULL,
    suspect_times   varchar(8000)  NULL,
    start_time      timestamptz(3) NOT NULL,
    i_am_alive_time timestamptz(3) NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- Creates the cluster's version row; true if this call created it.
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO nokv_membership_version (deployment_id) VALUES (@DeploymentId)
    ON CONFLICT (deployment_id) DO NOTHING
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM created) AS "Succeeded";
$q$),

-- Adds a silo incarnation if the table is still at @Version and the row is new; true on success.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE nokv_membership_version v
    SET version = v.version + 1, updated_at = now()
    WHERE v.deployment_id = @DeploymentId AND v.version = @Version AND v.version < 2147483647
      AND NOT EXISTS (SELECT 1 FROM nokv_membership m
                      WHERE m.deployment_id = @DeploymentId AND m.address = @Address
                        AND m.port = @Port AND m.generation = @Generation)
    RETURNING v.deployment_id),
added AS (
    INSERT INTO nokv_membership (deployment_id, address, port, generation, silo_name, host_name, status,
                                 proxy_port, start_time, i_am_alive_time)
    SELECT b.deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
           @ProxyPort, @StartTime, @IAmAliveTime
    FROM bumped b
    ON CONFLICT (deployment_id, address, port, generation) DO NOTHING
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM added) AS "Succeeded";
$q$),

-- Changes a silo incarnation's status and suspicions if the table is still at @Version; true on success.
-- The alive time never moves backwards (a delayed write must not make a live silo look stale).
('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE nokv_membership_version v
    SET version = v.version + 1, updated_at = now()
    WHERE v.deployment_id = @DeploymentId AND v.version = @Version AND v.version < 2147483647
      AND EXISTS (SELECT 1 FROM nokv_membership m
                  WHERE m.deployment_id = @DeploymentId AND m.address = @Address
                    AND m.port = @Port AND m.generation = @Generation)
    RETURNING v.deployment_id),
changed AS (
    UPDATE nokv_membership m
    SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = GREATEST(m.i_am_alive_time, @IAmAliveTime)
    FROM bumped b
    WHERE m.deployment_id = b.deployment_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM changed) AS "Succeeded";
$q$),

-- The heartbeat: not versioned (Orleans does not condition it), never moves backwards.
('UpdateIAmAlivetimeKey', $q$
UPDATE nokv_membership
SET i_am_alive_time = GREATEST(i_am_alive_time, @IAmAliveTime)
WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation;
$q$),

-- One silo incarnation and the table version (one row with null member columns when the silo has no row).
('MembershipReadRowKey', $q$
SELECT v.deployment_id AS "DeploymentId", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime",
       v.version AS "Version"
FROM nokv_membership_version v
LEFT JOIN nokv_membership m
       ON m.deployment_id = v.deployment_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.deployment_id = @DeploymentId;
$q$),

-- Every silo incarnation and the table version, from one snapshot.
('MembershipReadAllKey', $q$
SELECT v.deployment_id AS "DeploymentId", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime",
       v.version AS "Version"
FROM nokv_membership_version v
LEFT JOIN nokv_membership m ON m.deployment_id = v.deployment_id
WHERE v.deployment_id = @DeploymentId;
$q$),

-- Gateways for clients: silos in @Status (Active) that accept clients.
('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
FROM nokv_membership
WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0;
$q$),

-- Removes the whole cluster (tests and tooling; the member rows go with the version row).
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM nokv_membership_version WHERE deployment_id = @DeploymentId;
$q$),

-- Removes incarnations declared Dead (status 6) that have not been alive since @IAmAliveTime.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM nokv_membership
WHERE deployment_id = @DeploymentId AND status = 6 AND i_am_alive_time < @IAmAliveTime;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
