-- The site's one search (greenweb/search.py) over the board too: published questions with
-- their answers, and the resources, beside the bulletin's own index (bulletin_search,
-- 0001). Accents are folded as there. Only public text: a question that is not
-- 'pubblicata' has no entry, and no moderator's note or reason is ever indexed.
--
-- Kept in step by board/search_entries.py, called by every write of a question or a
-- resource in its own transaction (as the importer and the newsroom write bulletin_search).

-- rowid = questions.id; answer = the text of the rendered answer (no Markdown syntax).
CREATE VIRTUAL TABLE question_search USING fts5(
    text,
    answer,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- rowid = resources.id.
CREATE VIRTUAL TABLE resource_search USING fts5(
    title,
    source,
    summary,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The entries of what is there already. plain_text() is markup.plain_text, which db.migrate
-- lends to the migrations: the same function the writes use.
INSERT INTO question_search (rowid, text, answer)
    SELECT id, text, plain_text(coalesce(answer_html, '')) FROM questions
    WHERE state = 'pubblicata';
INSERT INTO resource_search (rowid, title, source, summary)
    SELECT id, title, source, summary FROM resources;

-- Aggregate counts of the board, no personal data: a name and a number.
-- 'anchio_da_anteprima': how often a visitor said "anch'io" to a similar question shown in
-- the preview of their own, instead of sending a new one (only votes that counted).
CREATE TABLE board_counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL DEFAULT 0 CHECK (value >= 0)
) WITHOUT ROWID;
INSERT INTO board_counters (name, value) VALUES ('anchio_da_anteprima', 0);
