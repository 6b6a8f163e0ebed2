-- The newsroom: staff roles, items written on the site with their revisions, and numeri.

-- Staff accounts stay in `moderators` (one login for both areas); what each may do is here.
CREATE TABLE staff_roles (
    moderator_id INTEGER NOT NULL REFERENCES moderators (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('moderatore', 'redattore')),
    PRIMARY KEY (moderator_id, role)
) WITHOUT ROWID;

-- Every account made before roles existed was a moderator.
INSERT INTO staff_roles (moderator_id, role) SELECT id, 'moderatore' FROM moderators;

-- An item's life: a draft, scheduled for publish_at, published, or withdrawn (its address
-- answers 410). Imported items are published. Public pages show published items only.
ALTER TABLE bulletin_item ADD COLUMN state TEXT NOT NULL DEFAULT 'published'
    CHECK (state IN ('draft', 'scheduled', 'published', 'withdrawn'));
-- UTC ISO time: when a scheduled item appears, or when the item was published on the site.
ALTER TABLE bulletin_item ADD COLUMN publish_at TEXT;
-- The Markdown after the front matter, as written (NULL for rows imported before 0005,
-- until the next import fills it).
ALTER TABLE bulletin_item ADD COLUMN body_markdown TEXT;
-- Moves by one with every save; a form carries the number it was made from, so a stale
-- save is refused instead of overwriting another editor's work.
ALTER TABLE bulletin_item ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
-- 1 once an editor saved the item on the site after its last import: `greenweb import`
-- then leaves it alone unless forced.
ALTER TABLE bulletin_item ADD COLUMN edited_on_site INTEGER NOT NULL DEFAULT 0;

CREATE INDEX bulletin_item_state ON bulletin_item (state, publish_at);

-- Every saved version of an item: who, when, what was done, and all its fields as saved
-- (the page of revisions shows the difference between consecutive ones).
CREATE TABLE bulletin_revision (
    item_id INTEGER NOT NULL REFERENCES bulletin_item (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    editor TEXT NOT NULL,     -- the staff name, kept as text: it outlives the account
    saved_at TEXT NOT NULL,   -- UTC ISO time
    action TEXT NOT NULL
        CHECK (action IN ('importato', 'bozza', 'programmato', 'pubblicato', 'modificato',
                          'ritirato')),
    fields TEXT NOT NULL,     -- JSON object: every front-matter field and "body"
    PRIMARY KEY (item_id, revision)
) WITHOUT ROWID;

-- Numbered issues of the bulletin.
CREATE TABLE bulletin_numero (
    number INTEGER PRIMARY KEY CHECK (number >= 1),
    title TEXT NOT NULL,
    intro_markdown TEXT NOT NULL DEFAULT '',
    intro_html TEXT NOT NULL DEFAULT '',
    issued TEXT,              -- ISO date shown on the numero; NULL when its source gives none
    state TEXT NOT NULL CHECK (state IN ('draft', 'published')),
    published_at TEXT,        -- UTC ISO time of publication
    source TEXT NOT NULL DEFAULT 'site' CHECK (source IN ('site', 'file')),
    updated_at TEXT NOT NULL
);

-- A numero's items in order. A draft follows its items; publication freezes what the numero
-- says of each (snapshot), so later edits show on the item's page and never in the numero.
CREATE TABLE bulletin_numero_entry (
    number INTEGER NOT NULL REFERENCES bulletin_numero (number) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    item_id INTEGER REFERENCES bulletin_item (id) ON DELETE SET NULL,
    snapshot TEXT,            -- JSON, set at publication; NULL while the numero is a draft
    PRIMARY KEY (number, position)
) WITHOUT ROWID;

CREATE INDEX bulletin_numero_entry_item ON bulletin_numero_entry (item_id);
