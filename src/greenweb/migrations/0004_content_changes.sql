-- What each public write changed, for the page cache (greenweb/changes.py).
--
-- content_version.version stays the one number every public write moves: the write
-- sequence. content_changes says, for each thing pages show, the sequence number of its
-- last change. A cached page made at sequence S is current while nothing it shows has a
-- number above S.

CREATE TABLE IF NOT EXISTS content_changes (
    name TEXT PRIMARY KEY,          -- 'bulletin', 'question:42', ... (changes.py names them)
    version INTEGER NOT NULL        -- content_version.version of its last change
) WITHOUT ROWID;

-- The page cache reads the names changed since the sequence it last saw.
CREATE INDEX IF NOT EXISTS content_changes_version ON content_changes (version);

-- A write that moves the sequence without naming what it changed (a hand-made UPDATE, an
-- old script) changed everything: the safe reading.
CREATE TRIGGER IF NOT EXISTS content_version_unnamed AFTER UPDATE OF version ON content_version
WHEN NOT EXISTS (SELECT 1 FROM content_changes WHERE version = NEW.version)
BEGIN
    INSERT OR REPLACE INTO content_changes (name, version) VALUES ('everything', NEW.version);
END;
