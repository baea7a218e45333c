"""The gateway: the web console and Herald's APIs from one origin."""
