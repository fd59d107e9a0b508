"""The SQL of each domain, spoken by both SQL stores (SQLite and PostgreSQL): ``sources`` (the
configured list and each one's state), ``articles`` (what is stored, edits, retention),
``plans`` (stories, and the rows a plan says to write), ``outbox`` (alerts and notices to send,
deliveries); ``base`` holds what they share. A backend provides the connection
(``base.Connection``), its schema and migrations, and what is its own (compaction)."""
