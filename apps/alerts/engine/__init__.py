"""The alert evaluation engine: an in-memory index fed by the tick stream (docs/alerts.md).

`index` is pure Python with no I/O (the benchmark and property tests drive it directly);
`series` computes the watched values per tick; `loader` builds rules and seeds indicator
state from the database; `firing` writes the outbox; `stream` connects the ingest listener,
the engine and rule-change messages through Redis; `runner` is the long-lived loop.
"""
