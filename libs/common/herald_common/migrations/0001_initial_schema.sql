-- Employee directory, allocations, issued vouchers and the notification inbox.

CREATE TABLE employees (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    department  text NOT NULL CHECK (length(department) BETWEEN 1 AND 64),
    grade       text NOT NULL CHECK (grade ~ '^G[1-9]$'),
    hired_on    date NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Criteria resolve by department first, then grade and hire date.
CREATE INDEX employees_by_department ON employees (department, grade, hired_on);

CREATE TABLE allocations (
    id               uuid PRIMARY KEY,
    idempotency_key  text UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash     text NOT NULL,
    voucher          jsonb NOT NULL,
    criteria         jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'requested'
                     CHECK (status IN ('requested', 'inserting', 'published', 'completed', 'failed')),
    failure_reason   text,
    matched_count    integer NOT NULL DEFAULT 0,
    inserted_count   integer NOT NULL DEFAULT 0,
    published_count  integer NOT NULL DEFAULT 0,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    inserting_at     timestamptz,
    inserted_at      timestamptz,
    published_at     timestamptz,
    completed_at     timestamptz
);
CREATE INDEX allocations_by_time ON allocations (requested_at DESC, id DESC);

CREATE TABLE notifications (
    id             bigserial PRIMARY KEY,
    employee_id    text NOT NULL,
    department     text NOT NULL,
    kind           text NOT NULL,
    source         text NOT NULL,
    title          text NOT NULL,
    body           text NOT NULL,
    payload        jsonb NOT NULL,
    allocation_id  uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    read_at        timestamptz
);
-- Replay reads one employee's rows after an id; the inbox pages the same way.
CREATE INDEX notifications_by_employee ON notifications (employee_id, id);

-- Written only by the inserter, in bulk with COPY; rows are derived from `employees` in
-- the same transaction, so foreign keys would only add a per-row check to the COPY.
CREATE TABLE employee_vouchers (
    id               bigserial PRIMARY KEY,
    allocation_id    uuid NOT NULL,
    employee_id      text NOT NULL,
    code             text NOT NULL UNIQUE,
    amount           numeric(12, 2) NOT NULL,
    currency         char(3) NOT NULL,
    expires_on       date NOT NULL,
    notification_id  bigint NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (allocation_id, employee_id)
);
