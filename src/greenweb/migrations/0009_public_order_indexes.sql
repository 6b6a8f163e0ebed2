-- The bulletin's public lists, led by the item's state.
--
-- Since the newsroom (0005) every public query says `state = 'published'`, and without
-- ANALYZE SQLite answered that equality with bulletin_item_state and then sorted every
-- published item for each page: /bollettino took 12 ms instead of 1.6 ms with 2,000
-- items (benchmarks/README.md). With `state` first, each list is again one range of one
-- index, already in order; tests/bulletin/test_query_plans.py checks every plan.

DROP INDEX bulletin_item_order;
DROP INDEX bulletin_item_kind_order;
DROP INDEX bulletin_item_kind_starts;
DROP INDEX bulletin_item_deadline_position;

CREATE INDEX bulletin_item_public_order
    ON bulletin_item (state, published IS NULL, published DESC, position);
CREATE INDEX bulletin_item_public_kind_order
    ON bulletin_item (state, kind, published IS NULL, published DESC, position);
-- Upcoming and past events: kind = 'evento' AND starts >= / < ? ORDER BY starts, position.
CREATE INDEX bulletin_item_public_kind_starts ON bulletin_item (state, kind, starts, position)
    WHERE starts IS NOT NULL;
-- Open and closed calls: deadline >= / < ? ORDER BY deadline, position.
CREATE INDEX bulletin_item_public_deadline ON bulletin_item (state, deadline, position)
    WHERE deadline IS NOT NULL;

-- The board's open data and e-book are dated by the newest public change of a question
-- (board/export.content_modified): max() over this index instead of a scan of every
-- question, 4.5 ms with 10,000 of them.
CREATE INDEX questions_public_updated ON questions (updated_at) WHERE published_at IS NOT NULL;
