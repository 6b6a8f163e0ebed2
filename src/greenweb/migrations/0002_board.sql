-- The question board "Dubbi sul clima": topics, questions, votes, reports, the curated
-- resources, moderators and their public log, plus the abuse-resistance bookkeeping.
--
-- Times are INTEGER Unix seconds (UTC): compact in indexes, trivially compared, and the
-- same for every worker process. No table stores a client address: only keyed hashes.

CREATE TABLE topics (
    slug TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    position INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE questions (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    original_text TEXT,                 -- the text as sent, kept when a moderator edits it
    display_name TEXT,
    topic TEXT REFERENCES topics (slug) ON UPDATE CASCADE ON DELETE SET NULL,
    -- ricevuta: waits for a moderator; segnalata: hidden by reports until reviewed;
    -- nascosta: withdrawn by a moderator; only 'pubblicata' is shown to visitors.
    state TEXT NOT NULL DEFAULT 'ricevuta'
        CHECK (state IN ('ricevuta', 'pubblicata', 'segnalata', 'nascosta', 'respinta')),
    created_at INTEGER NOT NULL,
    published_at INTEGER,               -- first publication; keeps its place in "recenti"
    answered_at INTEGER,
    updated_at INTEGER NOT NULL,        -- last change visible to the public (sitemap)
    answer_md TEXT,
    answer_html TEXT,                   -- rendered once when the answer is saved
    piece_title TEXT,                   -- the theatre piece ("pillola teatrale")
    piece_url TEXT,
    piece_text TEXT,
    piece_at INTEGER,
    me_too INTEGER NOT NULL DEFAULT 0 CHECK (me_too >= 0),   -- = count of votes rows
    CHECK ((answer_md IS NULL) = (answer_html IS NULL)),
    CHECK ((answered_at IS NULL) = (answer_md IS NULL)),
    CHECK ((piece_at IS NULL) = (piece_title IS NULL)),
    CHECK (state = 'ricevuta' OR state = 'respinta' OR published_at IS NOT NULL)
);

-- One index per public ordering, with and without a topic, each led by `state`: a list
-- page is then one range of one index, already in order, and the pagination subquery
-- reads only index entries (covering). Partial indexes (WHERE state = 'pubblicata') would
-- be smaller, but SQLite 3.40 does not treat them as covering when the query repeats the
-- index's WHERE, and without ANALYZE it may prefer another index and sort; with `state`
-- as a column neither happens. tests/test_board_lists.py checks every plan.
CREATE INDEX questions_recent ON questions (state, published_at DESC, id DESC);
CREATE INDEX questions_topic_recent ON questions (state, topic, published_at DESC, id DESC);
CREATE INDEX questions_shared ON questions (state, me_too DESC, published_at DESC, id DESC);
CREATE INDEX questions_topic_shared
    ON questions (state, topic, me_too DESC, published_at DESC, id DESC);
CREATE INDEX questions_answered ON questions (state, answered_at DESC, id DESC);
CREATE INDEX questions_topic_answered ON questions (state, topic, answered_at DESC, id DESC);
CREATE INDEX questions_pieces ON questions (state, piece_at DESC, id DESC);
-- The moderators' queue: a state, oldest first.
CREATE INDEX questions_queue ON questions (state, created_at, id);

-- "Anch'io": one row per person and question. voter_hash is an HMAC of the client address
-- and the question id, so the same person cannot be followed from one question to another.
CREATE TABLE votes (
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    voter_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (question_id, voter_hash)
) WITHOUT ROWID;

CREATE TABLE reports (
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    reporter_hash TEXT NOT NULL,
    reason TEXT NOT NULL
        CHECK (reason IN ('offensiva', 'spam', 'dati-personali', 'fuori-tema', 'altro')),
    created_at INTEGER NOT NULL,
    reviewed_at INTEGER,                -- set when a moderator reviewed the question
    PRIMARY KEY (question_id, reporter_hash)
) WITHOUT ROWID;

CREATE TABLE resources (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('leggere', 'ascoltare', 'guardare')),
    source TEXT NOT NULL,
    language TEXT NOT NULL,
    summary TEXT NOT NULL,
    position INTEGER NOT NULL,
    seed_hash TEXT,                     -- data/resources.toml entry last loaded into this row
    edited_at INTEGER,                  -- set by a moderator's edit: the seed no longer overwrites
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE resource_topics (
    resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    topic TEXT NOT NULL REFERENCES topics (slug) ON UPDATE CASCADE ON DELETE CASCADE,
    PRIMARY KEY (topic, resource_id)
) WITHOUT ROWID;

CREATE INDEX resource_topics_resource ON resource_topics (resource_id);

CREATE TABLE question_resources (
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (question_id, resource_id)
) WITHOUT ROWID;

CREATE INDEX question_resources_resource ON question_resources (resource_id);

CREATE TABLE moderators (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,        -- argon2id, PHC string
    created_at INTEGER NOT NULL
);

-- The cookie carries a random id; only its SHA-256 is stored, so a copy of the database
-- does not let anyone log in.
CREATE TABLE moderator_sessions (
    id_hash TEXT PRIMARY KEY,
    moderator_id INTEGER NOT NULL REFERENCES moderators (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX moderator_sessions_moderator ON moderator_sessions (moderator_id);
CREATE INDEX moderator_sessions_expires ON moderator_sessions (expires_at);

-- The public log: what happened to which question, when and why. `moderator` is shown to
-- moderators only; no row holds anything about the people who asked, voted or reported.
CREATE TABLE moderation_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN (
        'received', 'published', 'rejected', 'reported', 'restored', 'unpublished',
        'edited', 'answered', 'piece', 'resource_added', 'resource_edited'
    )),
    question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL,
    resource_id INTEGER REFERENCES resources (id) ON DELETE SET NULL,
    reason TEXT,
    moderator TEXT
);

CREATE INDEX moderation_log_question ON moderation_log (question_id);

-- Rate limits and login throttling, shared by every worker process through the database.
CREATE TABLE rate_events (
    client_hash TEXT NOT NULL,
    action TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE INDEX rate_events_client ON rate_events (client_hash, action, at);
CREATE INDEX rate_events_at ON rate_events (at);

-- Nonces of form tokens already used; kept as long as a token can live.
CREATE TABLE used_nonces (
    nonce TEXT PRIMARY KEY,
    form TEXT NOT NULL,
    used_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX used_nonces_used_at ON used_nonces (used_at);
