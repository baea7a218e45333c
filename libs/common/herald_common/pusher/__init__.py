"""The Pusher Channels protocol pieces more than one service needs: signatures and the
cross-replica broadcast record."""
