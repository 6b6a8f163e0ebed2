-- Following the board: duplicates merged into the question they repeat, and their step in
-- the public log. Taking back an "anch'io" and the feeds need no new table.
--
-- A merged duplicate keeps its row (its asker's private feed tells where it went) in the
-- final, non-public state 'respinta' (the one state a never-published question may end in),
-- with `duplicate_of` naming the kept question. Adding a
-- column spares rebuilding `questions`: a rebuild would DROP it, and with foreign keys on
-- (migrations run inside a transaction, where PRAGMA foreign_keys cannot be switched off)
-- that DROP deletes every vote, report and link by cascade.
ALTER TABLE questions ADD COLUMN duplicate_of INTEGER
    REFERENCES questions (id) ON DELETE SET NULL;

-- A kept question's duplicates: the old vote hashes to look a person up by, the 301s.
CREATE INDEX questions_duplicate_of ON questions (duplicate_of) WHERE duplicate_of IS NOT NULL;

-- Its voters were moved to the kept question: a merged duplicate is never public again.
CREATE TRIGGER questions_merged_stay_hidden
BEFORE UPDATE OF state, duplicate_of ON questions
WHEN NEW.duplicate_of IS NOT NULL AND NEW.state = 'pubblicata'
BEGIN
    SELECT RAISE(ABORT, 'a merged duplicate question is never published again');
END;

-- The log's actions gain 'merged', and a merge's row names the kept question: the action
-- CHECK can only change by rebuilding the table (SQLite's 12-step procedure; nothing
-- references moderation_log, so its DROP cascades nowhere; no trigger or view reads it).
CREATE TABLE moderation_log_new (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN (
        'received', 'published', 'rejected', 'reported', 'restored', 'unpublished',
        'edited', 'answered', 'piece', 'resource_added', 'resource_edited', 'merged'
    )),
    question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL,
    resource_id INTEGER REFERENCES resources (id) ON DELETE SET NULL,
    reason TEXT,
    moderator TEXT,
    kept_question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL  -- 'merged' only
);

INSERT INTO moderation_log_new (id, at, action, question_id, resource_id, reason, moderator)
SELECT id, at, action, question_id, resource_id, reason, moderator FROM moderation_log;

DROP TABLE moderation_log;

ALTER TABLE moderation_log_new RENAME TO moderation_log;

CREATE INDEX moderation_log_question ON moderation_log (question_id);
