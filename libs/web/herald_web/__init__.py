"""HTTP pieces shared by Herald's HTTP services: auth, limits, CORS, probes, the runtime."""
