-- The time to shelter an admin set on a region (PATCH /api/v1/regions/{id}), over the
-- registry file's; a region without a row has the file's or its ancestors'.
CREATE TABLE shelter_times (
    region_id BIGINT  PRIMARY KEY,
    seconds   INTEGER NOT NULL CHECK (seconds BETWEEN 0 AND 3600)
);
