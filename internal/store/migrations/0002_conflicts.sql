-- Copies of one event (same eventID) whose content differs: CloudTrail never
-- writes that, so it is a sign that evidence was altered. The copy kept in
-- events and each differing copy are named; neither is silently dropped.
CREATE TABLE conflicts (
    load_id        BIGINT NOT NULL,
    event_id       VARCHAR NOT NULL,
    kept_file      VARCHAR NOT NULL,
    kept_index     BIGINT NOT NULL,
    other_file     VARCHAR NOT NULL,
    other_index    BIGINT NOT NULL,
    other_raw      VARCHAR NOT NULL
);
