-- The bulletin by e-mail: subscribers, the outbox of messages, the one sender's lease and
-- the weeks whose digest was enqueued.

-- Of a person only what delivering needs: the address and what they chose. No client
-- address, no user agent. AUTOINCREMENT: an id is never given again, so a signed link made
-- for a subscriber who left can never act for a later one.
CREATE TABLE newsletter_subscriber (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(address) <= 254),
    choice TEXT NOT NULL CHECK (choice IN ('numero', 'settimanale')),
    -- JSON list of item kinds; '[]' is every kind.
    kinds TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(kinds) AND json_type(kinds) = 'array'),
    state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed')),
    created_at TEXT NOT NULL,       -- UTC ISO time
    confirmed_at TEXT,              -- UTC ISO time; NULL while pending
    bounces INTEGER NOT NULL DEFAULT 0 CHECK (bounces >= 0)  -- 5xx answers since the last 250
);

CREATE INDEX newsletter_subscriber_state ON newsletter_subscriber (state, choice);

-- One row per message, its bytes built when it was enqueued so that what is sent is what
-- was decided in the enqueuing transaction. UNIQUE (address, kind, ref): a numero or a
-- week is never enqueued twice for one address. A subscriber who leaves or is forgotten
-- takes the address and the bytes of their rows with them (address NULL, message empty);
-- the row stays for the delivery figures.
CREATE TABLE newsletter_outbox (
    id INTEGER PRIMARY KEY,
    subscriber_id INTEGER REFERENCES newsletter_subscriber (id) ON DELETE SET NULL,
    address TEXT COLLATE NOCASE,
    kind TEXT NOT NULL CHECK (kind IN ('conferma', 'gestione', 'numero', 'riepilogo')),
    ref TEXT NOT NULL,              -- the numero's number, the digest's ISO week, a request
    message BLOB NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),   -- bytes as sent, kept when message is erased
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'sent', 'retrying', 'bounced')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,  -- UTC ISO time
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (address, kind, ref)
);

CREATE INDEX newsletter_outbox_due ON newsletter_outbox (state, next_attempt_at);
CREATE INDEX newsletter_outbox_subscriber ON newsletter_outbox (subscriber_id);

-- At most one row: who sends now, until when. Every `greenweb serve` worker and a cron
-- `greenweb newsletter send` may try; only the holder of a live lease sends.
CREATE TABLE newsletter_sender_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,           -- host:pid:random of the sending process
    expires_at REAL NOT NULL        -- Unix time
);

-- The ISO weeks ('2026-W49') whose digest was enqueued, in the same transaction.
CREATE TABLE newsletter_digest_week (
    week TEXT PRIMARY KEY,
    enqueued_at TEXT NOT NULL,
    messages INTEGER NOT NULL
) WITHOUT ROWID;
