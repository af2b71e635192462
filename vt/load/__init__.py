"""`vt load`: scenario files as distributed load on Locust (see `vt.load.command`).

`driver` (one user's scenario runs, timed; asyncio), `lean` (events-only tabs), `bridge`
(the asyncio loop thread of a Locust process), `users` (Locust user classes and reports),
`locustfile` (what Locust imports), `command` (the command line). Only `bridge`, `users` and
`locustfile` import gevent or Locust.
"""
