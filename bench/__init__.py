"""Herald's benchmark and its baselines: `make bench`, or `python -m bench --help`."""
