"""faust as the services run it: the app factory, the agent loop, health, the worker process."""
