-- The inbox API, generic pushes and single-use stream tickets.

-- `json` keeps a payload exactly as written: `jsonb` cannot hold U+0000, which other
-- systems may legitimately send inside their data. Titles and bodies keep their columns for
-- listing, with U+0000 replaced; the payload is what streams and the inbox return.
ALTER TABLE notifications ALTER COLUMN payload TYPE json USING payload::json;
CREATE INDEX notifications_unread_by_employee ON notifications (employee_id) WHERE read_at IS NULL;
-- Department channels replay by department.
CREATE INDEX notifications_by_department ON notifications (department, id);

CREATE TABLE pushes (
    id               uuid PRIMARY KEY,
    requested_by     text NOT NULL,
    idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash     text NOT NULL,
    request          json NOT NULL,
    status           text NOT NULL DEFAULT 'requested'
                     CHECK (status IN ('requested', 'inserting', 'published', 'completed', 'failed')),
    failure_reason   text,
    matched_count    integer NOT NULL DEFAULT 0,
    inserted_count   integer NOT NULL DEFAULT 0,
    published_count  integer NOT NULL DEFAULT 0,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    inserted_at      timestamptz,
    completed_at     timestamptz,
    -- Idempotency keys are scoped to the caller that chose them.
    UNIQUE (requested_by, idempotency_key)
);
ALTER TABLE notifications ADD COLUMN push_id uuid;

-- A ticket is stored only as its SHA-256; redeeming marks it used in the same statement.
CREATE TABLE stream_tickets (
    ticket_hash  text PRIMARY KEY,
    subject      text NOT NULL,
    roles        text[] NOT NULL,
    manages      text,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX stream_tickets_by_expiry ON stream_tickets (expires_at);
