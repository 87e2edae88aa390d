-- Loads are ingest runs. Rows of a load that never completed (a crash, an
-- interrupt) are removed when the case is next opened for writing, so the
-- case is never half-written.
CREATE TABLE loads (
    load_id         BIGINT PRIMARY KEY,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    harrier_version VARCHAR,
    operator        VARCHAR,
    host            VARCHAR,
    inputs          VARCHAR,
    files           BIGINT,
    files_failed    BIGINT,
    records_read    BIGINT,
    stored          BIGINT,
    duplicates      BIGINT,
    rejected        BIGINT,
    completed       BOOLEAN NOT NULL DEFAULT false
);

-- One row per evidence file per load: what it held and what became of it.
CREATE TABLE files (
    load_id       BIGINT NOT NULL,
    evidence_file VARCHAR NOT NULL,
    original_path VARCHAR,
    sha256        VARCHAR,
    size          BIGINT,
    format        VARCHAR,
    records       BIGINT,
    stored        BIGINT,
    duplicates    BIGINT,
    rejected      BIGINT,
    error         VARCHAR
);

-- Every record that was read and not stored, and why.
CREATE TABLE rejections (
    load_id       BIGINT NOT NULL,
    evidence_file VARCHAR NOT NULL,
    record_index  BIGINT,
    byte_offset   BIGINT,
    reason        VARCHAR NOT NULL
);

-- One row per CloudTrail event. Documented in docs/SCHEMA.md. Nested members
-- and the raw record are JSON text in VARCHAR columns: DuckDB's JSON operators
-- (->, ->>) read them as they are, and the Go driver would re-encode values
-- appended to a JSON-typed column as JSON strings.
CREATE TABLE events (
    event_time                TIMESTAMP,
    event_id                  VARCHAR,
    event_name                VARCHAR,
    event_source              VARCHAR,
    aws_region                VARCHAR,
    source_ip                 VARCHAR,
    user_agent                VARCHAR,
    error_code                VARCHAR,
    error_message             VARCHAR,
    read_only                 BOOLEAN,
    event_type                VARCHAR,
    event_category            VARCHAR,
    management_event          BOOLEAN,
    recipient_account_id      VARCHAR,
    shared_event_id           VARCHAR,
    request_id                VARCHAR,
    event_version             VARCHAR,
    vpc_endpoint_id           VARCHAR,
    identity_type             VARCHAR,
    identity_arn              VARCHAR,
    principal_id              VARCHAR,
    identity_account_id       VARCHAR,
    access_key_id             VARCHAR,
    user_name                 VARCHAR,
    session_issuer_type       VARCHAR,
    session_issuer_arn        VARCHAR,
    session_issuer_name       VARCHAR,
    session_issuer_account_id VARCHAR,
    mfa_authenticated         BOOLEAN,
    session_created           TIMESTAMP,
    invoked_by                VARCHAR,
    identity_provider         VARCHAR,
    source_identity           VARCHAR,
    resource                  VARCHAR,
    request_parameters        VARCHAR,
    response_elements         VARCHAR,
    additional_event_data     VARCHAR,
    resources                 VARCHAR,
    raw                       VARCHAR NOT NULL,
    evidence_file             VARCHAR NOT NULL,
    record_index              BIGINT NOT NULL,
    byte_offset               BIGINT NOT NULL,
    load_id                   BIGINT NOT NULL
);
