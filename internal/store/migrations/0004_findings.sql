-- Hunts: each `harrier hunt` run, and the findings of the latest one.
CREATE TABLE hunts (
    hunt_id         BIGINT PRIMARY KEY,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    harrier_version VARCHAR,
    operator        VARCHAR,
    host            VARCHAR,
    rule_sources    VARCHAR,  -- JSON list: "builtin", rule folders given
    rules           BIGINT,   -- detection and correlation rules run
    analytics       BOOLEAN,
    baseline        VARCHAR,  -- JSON: the analytics' baseline window
    findings        BIGINT
);

-- The findings of the latest hunt, one per rule and principal (or, for a
-- correlation, per group). List members are JSON text.
CREATE TABLE findings (
    hunt_id        BIGINT NOT NULL,
    finding_id     BIGINT NOT NULL,
    rule_id        VARCHAR NOT NULL,
    title          VARCHAR,
    severity       VARCHAR,
    severity_rank  INTEGER,
    techniques     VARCHAR,
    tactics        VARCHAR,
    principal      VARCHAR,
    access_key_ids VARCHAR,
    source_ips     VARCHAR,
    accounts       VARCHAR,
    regions        VARCHAR,
    first_seen     TIMESTAMP,
    last_seen      TIMESTAMP,
    event_count    BIGINT,
    description    VARCHAR,
    rule_source    VARCHAR
);

-- Every event behind each finding (the JSON output caps its list).
CREATE TABLE finding_events (
    hunt_id    BIGINT NOT NULL,
    finding_id BIGINT NOT NULL,
    event_id   VARCHAR NOT NULL
);
