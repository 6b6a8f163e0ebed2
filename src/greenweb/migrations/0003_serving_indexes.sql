-- Indexes that keep the bulletin's date lists cheap however many items there are
-- (measured in benchmarks/README.md: upcoming events 3.4 ms -> 0.18 ms with 2,000 items).
-- Serving's migration: the lead renumbers it after the board's 0002 at merge.

-- Upcoming and past events: kind = 'evento' AND starts >= / < ? ORDER BY starts, position.
CREATE INDEX bulletin_item_kind_starts ON bulletin_item (kind, starts, position)
    WHERE starts IS NOT NULL;

-- Open and closed calls: deadline >= / < ? ORDER BY deadline, position.
CREATE INDEX bulletin_item_deadline_position ON bulletin_item (deadline, position)
    WHERE deadline IS NOT NULL;
