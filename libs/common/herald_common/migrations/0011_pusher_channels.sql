-- The channels service's state shared by its replicas (docs/decisions/0056): which sockets
-- are subscribed where (occupancy, presence members), which replicas are alive (a replica
-- that stops heartbeating takes its sockets out of the directory), and each Herald
-- channel's delivery watermark (the replay cursor of a client that sends none, 0057).
CREATE TABLE channel_replicas (
    replica_id  text PRIMARY KEY,
    seen_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE channel_subscriptions (
    channel     text NOT NULL,
    socket_id   text NOT NULL,
    replica_id  text NOT NULL,
    -- Presence channels only: the member the socket joined as.
    user_id     text,
    user_info   jsonb,
    PRIMARY KEY (channel, socket_id)
);
CREATE INDEX channel_subscriptions_by_replica ON channel_subscriptions (replica_id);
CREATE INDEX channel_subscriptions_members ON channel_subscriptions (channel, user_id)
    WHERE user_id IS NOT NULL;

CREATE TABLE channel_watermarks (
    channel       text PRIMARY KEY,
    delivered_id  bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
