"""Herald's channels service: the Pusher Channels protocol (version 7) for unmodified
Pusher clients, with Herald's replay of what they missed.

app.py        the app factory and lifespan
settings.py   HERALD_CHANNELS_* (app id, key, secret, timeouts, limits)
api/          the WebSocket endpoint /app/{key}, channel and user authorization, probes
domain/       connections, the local hub, the cross-replica directory and broadcast,
              Herald's notifications and their replay
metrics.py    Prometheus metrics
"""
