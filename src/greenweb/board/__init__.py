"""The question board "Dubbi sul clima": questions, visitors' votes and reports,
moderation and the curated resources (the moderators' accounts are ``greenweb.staff``).

Free of the web layer: functions take a connection (or a ``Database``) and return plain
frozen dataclasses. ``text`` cleans and checks what people type; ``questions`` reads
questions; ``visitors`` and ``moderation`` write them; ``moderation_log`` is the public
log; ``topics``, ``resources`` and ``seed`` hold the topics and the library; ``export``
writes questions as CSV or JSON.
"""
