-- Revoking a completed allocation, whole or for listed employees (docs/decisions/0047).

-- One row per revoke request: accepted by the API (or recorded by the inserter when it
-- came straight from the topic) and written once, like an allocation or a push.
CREATE TABLE revocations (
    id               uuid PRIMARY KEY,
    allocation_id    uuid NOT NULL REFERENCES allocations (id),
    requested_by     text NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 64),
    idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash     text NOT NULL,
    reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    -- NULL: every voucher of the allocation; else the employees named.
    employee_ids     jsonb,
    status           text NOT NULL DEFAULT 'requested'
                     CHECK (status IN ('requested', 'inserting', 'completed', 'failed')),
    failure_reason   text,
    failure_detail   text,
    matched_count    integer NOT NULL DEFAULT 0,
    inserted_count   integer NOT NULL DEFAULT 0,
    published_count  integer NOT NULL DEFAULT 0,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    inserted_at      timestamptz,
    completed_at     timestamptz,
    UNIQUE (requested_by, idempotency_key)
);
CREATE INDEX revocations_by_allocation ON revocations (allocation_id, requested_at);

-- A voucher is voided, never deleted: who revoked it, when, why, by which request.
ALTER TABLE employee_vouchers
    ADD COLUMN revoked_at     timestamptz,
    ADD COLUMN revoked_by     text,
    ADD COLUMN revoke_reason  text,
    ADD COLUMN revocation_id  uuid;
CREATE INDEX employee_vouchers_by_revocation ON employee_vouchers (revocation_id)
    WHERE revocation_id IS NOT NULL;

-- The revocation notices name their request, as allocations' and pushes' rows do.
ALTER TABLE notifications ADD COLUMN revocation_id uuid;
CREATE INDEX notifications_by_revocation ON notifications (revocation_id)
    WHERE revocation_id IS NOT NULL;

-- Codes are UNIQUE; since no voucher row can be deleted and no code changed, a code once
-- issued (revoked or not) can never be issued again. A revoked voucher stays revoked.
CREATE FUNCTION employee_vouchers_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'voucher % cannot be deleted: revoke it instead', OLD.code
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.code IS DISTINCT FROM OLD.code THEN
        RAISE EXCEPTION 'voucher code % cannot be changed', OLD.code
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.revoked_at IS NOT NULL AND (NEW.revoked_at, NEW.revoked_by, NEW.revoke_reason,
            NEW.revocation_id) IS DISTINCT FROM (OLD.revoked_at, OLD.revoked_by,
            OLD.revoke_reason, OLD.revocation_id) THEN
        RAISE EXCEPTION 'voucher % is revoked and stays revoked', OLD.code
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER employee_vouchers_keep BEFORE UPDATE OR DELETE ON employee_vouchers
    FOR EACH ROW EXECUTE FUNCTION employee_vouchers_keep();

-- Each manager of an employee whose voucher a revocation voided gets one summary of it,
-- in-app and by email, with the email states of manager_summaries (docs/decisions/0011).
CREATE TABLE revocation_summaries
    (LIKE manager_summaries INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE revocation_summaries RENAME COLUMN allocation_id TO revocation_id;
ALTER TABLE revocation_summaries ADD PRIMARY KEY (revocation_id, manager_id);
