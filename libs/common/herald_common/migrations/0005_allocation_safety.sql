-- Allocation safety: idempotency keys per caller, failures told to people, and the
-- transactional outbox for request events (docs/decisions/0034, 0035, 0036).

-- Who asked (the token's subject); NULL for requests written straight to the topic.
ALTER TABLE allocations ADD COLUMN requested_by text;
-- One scope for every Idempotency-Key: the caller's. Two callers may use the same key.
ALTER TABLE allocations DROP CONSTRAINT allocations_idempotency_key_key;
ALTER TABLE allocations ADD CONSTRAINT allocations_idempotency_per_caller
    UNIQUE (requested_by, idempotency_key);
-- failure_reason is written for people; the technical cause goes here.
ALTER TABLE allocations ADD COLUMN failure_detail text;
ALTER TABLE pushes ADD COLUMN failure_detail text;
-- "Waiting for a worker" looks for old requests nobody picked up.
CREATE INDEX allocations_requested ON allocations (requested_at) WHERE status = 'requested';

-- Kafka records committed in the same transaction as the row they announce; sent after
-- the commit and deleted once Kafka acknowledged them (a relay sends what is left).
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text NOT NULL,
    key         bytea,
    value       bytea NOT NULL,
    headers     jsonb NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL DEFAULT now()
);
