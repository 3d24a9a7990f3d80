-- Shelters, and small facts about the database itself.
CREATE TABLE shelters (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL -- the shelter's description as JSON (ShelterInfo)
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
