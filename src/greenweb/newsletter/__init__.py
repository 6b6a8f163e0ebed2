"""The bulletin by e-mail: subscribers, messages, the outbox and its delivery.

No Starlette here: the web views, the CLI and the background loop of ``greenweb serve``
call these modules. ``messages`` builds a message's bytes, ``outbox`` enqueues them inside
the caller's transaction, ``delivery`` sends them (one sender at a time), ``digest`` and
``announce`` decide what is due.
"""
