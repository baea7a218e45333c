-- The allocation lifecycle: four-eyes approval, scheduling, cancelling and the audit trail
-- (docs/decisions/0043-0046).

-- New states. pending_approval and scheduled rows carry no outbox record: their request
-- event is written when they are approved / due. revoked and partly_revoked follow
-- completed (revoking vouchers).
ALTER TABLE allocations DROP CONSTRAINT allocations_status_check;
ALTER TABLE allocations ADD CONSTRAINT allocations_status_check CHECK (status IN (
    'pending_approval', 'scheduled', 'requested', 'inserting', 'published', 'completed',
    'failed', 'rejected', 'expired', 'cancelled', 'revoked', 'partly_revoked'));
-- When the request is sent to the inserter (NULL: at once); the rule is evaluated then.
ALTER TABLE allocations ADD COLUMN send_at timestamptz;
-- Four eyes: whether approval was needed, until when it may be given, and who decided.
ALTER TABLE allocations ADD COLUMN approval_required boolean NOT NULL DEFAULT false;
ALTER TABLE allocations ADD COLUMN approval_expires_at timestamptz;
ALTER TABLE allocations ADD COLUMN decided_by text;
ALTER TABLE allocations ADD COLUMN decided_at timestamptz;
ALTER TABLE allocations ADD COLUMN decision_reason text;
ALTER TABLE allocations ADD COLUMN cancelled_by text;
ALTER TABLE allocations ADD COLUMN cancelled_at timestamptz;
-- The supervised task's two queries: due schedules and stale approvals.
CREATE INDEX allocations_due ON allocations (send_at) WHERE status = 'scheduled';
CREATE INDEX allocations_pending ON allocations (approval_expires_at)
    WHERE status = 'pending_approval';

-- Every step of an allocation, append-only. Each record carries the hash of the previous
-- record of the same allocation (seq - 1; a fixed genesis value for seq 1) and its own
-- hash over its content and that previous hash, so `herald audit verify` finds an edited
-- or deleted record.
CREATE TABLE audit_records (
    id             bigserial PRIMARY KEY,
    allocation_id  uuid NOT NULL,
    seq            integer NOT NULL CHECK (seq >= 1),
    step           text NOT NULL CHECK (step IN (
                       'requested', 'approved', 'rejected', 'expired', 'scheduled',
                       'cancelled', 'started', 'completed', 'failed', 'revoked')),
    actor          text NOT NULL CHECK (length(actor) BETWEEN 1 AND 255),
    -- json, not jsonb: kept exactly as hashed.
    detail         json NOT NULL,
    recorded_at    timestamptz NOT NULL,
    prev_hash      text NOT NULL,
    hash           text NOT NULL,
    UNIQUE (allocation_id, seq)
);

-- Append-only inside PostgreSQL: no role that goes through Herald can change the past.
CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_records_no_update BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only();
