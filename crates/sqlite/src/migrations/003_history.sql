-- Finished alerts, live (written with the event that finished them; id = the alert id) or
-- imported (ids from 2^40 up, see tryvoha_store::IMPORTED_ID_BASE). Times in unix milliseconds.
CREATE TABLE history (
    id          INTEGER PRIMARY KEY,
    region_id   INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    level       TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    -- For imported rows: what identifies the row in its source, so a re-import adds nothing.
    import_key  TEXT UNIQUE
);
CREATE INDEX history_by_region ON history (region_id, started_at);
CREATE INDEX history_by_start ON history (started_at);

-- Alerts that finished before this table existed.
INSERT INTO history (id, region_id, kind, level, status, started_at, finished_at, source)
SELECT id, region_id, json_extract(body, '$.kind'), json_extract(body, '$.level'), json_extract(body, '$.status'),
       CAST(strftime('%s', json_extract(body, '$.started_at')) AS INTEGER) * 1000,
       CAST(strftime('%s', json_extract(body, '$.finished_at')) AS INTEGER) * 1000,
       'live'
FROM alerts WHERE NOT active;
