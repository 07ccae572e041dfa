"""
`make cluster`: Keystand as it runs scaled out, on this machine, checked.

Three gunicorn replicas on loopback ports behind HAProxy (round robin, X-Forwarded-For), one
PostgreSQL database of the run's own on the local server, and a private Redis on a free port.
Then: the limits hold across replicas at the documented numbers, a token created or deleted
through one replica is seen so by the others at once, the one-time display survives landing on
another replica, a replica killed with SIGKILL under load loses nothing, and Redis stopped for
10 s changes only what was decided (token requests keep working, sign-in answers 503). Every
check needs a minimum number of observations and proof that its fault happened, or it fails.

Modules: stack (the processes), client (HTTP as a browser and an API client would speak it),
checks (the limit and visibility checks), faults (load with SIGKILL and the Redis outage),
report (docs/scaling.md).
"""
