"""The bulletin: items read from Markdown files, imported into SQLite, queried for pages.

A file is TOML front matter between ``+++`` lines, then the Markdown body (``files``).
``importer`` validates every file before it touches the database, then loads them all in
one transaction, so a bad file changes nothing. ``queries`` and ``search`` read the stored
``items`` for pages; ``syndication`` writes the Atom feed, the calendar and the sitemap.
"""
