-- The bulletin: one row per Markdown file of data/bulletin, written only by `greenweb import`.

CREATE TABLE content_version (
    version INTEGER NOT NULL
);
INSERT INTO content_version (version) VALUES (1);

CREATE TABLE bulletin_item (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('bando', 'premio', 'evento', 'notizia')),
    position INTEGER NOT NULL,
    published TEXT,            -- ISO date
    deadline TEXT,             -- ISO date
    opens TEXT,                -- ISO date
    starts TEXT,               -- ISO date or local date-time, Europe/Rome
    ends TEXT,                 -- ISO date or local date-time, Europe/Rome
    place TEXT,
    organisers TEXT NOT NULL DEFAULT '[]',   -- JSON list of strings
    amount_min INTEGER,
    amount_max INTEGER,
    budget INTEGER,
    contact_email TEXT,
    links TEXT NOT NULL DEFAULT '[]',        -- JSON list of URLs
    author TEXT,
    summary TEXT NOT NULL,
    body_html TEXT NOT NULL,
    source_file TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    updated_at TEXT NOT NULL   -- UTC ISO time of the import that last changed the item
);

CREATE INDEX bulletin_item_order ON bulletin_item (published IS NULL, published DESC, position);
CREATE INDEX bulletin_item_kind_order
    ON bulletin_item (kind, published IS NULL, published DESC, position);
CREATE INDEX bulletin_item_deadline ON bulletin_item (deadline) WHERE deadline IS NOT NULL;
CREATE INDEX bulletin_item_starts ON bulletin_item (starts) WHERE starts IS NOT NULL;

CREATE TABLE bulletin_tag (
    item_id INTEGER NOT NULL REFERENCES bulletin_item (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (tag, item_id)
) WITHOUT ROWID;

CREATE INDEX bulletin_tag_item ON bulletin_tag (item_id);

-- rowid = bulletin_item.id; kept in step by the importer.
CREATE VIRTUAL TABLE bulletin_search USING fts5(
    title,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);
