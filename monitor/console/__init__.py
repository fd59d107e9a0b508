"""The desk's console: alerts, stories, sources, a rule tester and the desk's verdicts, in a
browser. Served by the daemon on ``daemon.listen`` beside ``/healthz`` and by ``monitor
console`` from the database alone.

``app`` (routes and responses), ``pages`` (what each page reads and each form writes),
``listing`` (filters, cards and exports: pure), ``security`` (who may read and write, and the
headers every page carries); templates and static files ship in the package: no build step,
nothing fetched from elsewhere.
"""
