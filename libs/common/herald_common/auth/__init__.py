"""Authentication and channel authorization shared by the HTTP services."""
