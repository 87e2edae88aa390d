-- What the latest `harrier verify` found of each evidence file, so that
-- timelines and findings can say when an event comes from evidence that was
-- modified or that no digest vouches for. Replaced by each verify run.
CREATE TABLE evidence_integrity (
    evidence_file VARCHAR NOT NULL,
    status        VARCHAR NOT NULL, -- verified | modified | unverifiable | changed-since-acquired
    detail        VARCHAR,
    verified_at   TIMESTAMP NOT NULL
);
