-- Managers in the employee directory, and what Herald sends them after an allocation:
-- one summary per manager (in-app always, by email unless they opted out).

-- Deferred, so one import may name a manager that appears later in the same file.
ALTER TABLE employees
    ADD COLUMN manager_id text
        REFERENCES employees (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT employees_not_own_manager CHECK (manager_id <> id);
-- Summaries group an allocation's recipients by their manager.
CREATE INDEX employees_by_manager ON employees (manager_id) WHERE manager_id IS NOT NULL;

-- One row per (allocation, manager), created with the in-app notification in one
-- transaction. The email is claimed (pending -> sending) before it is handed to SMTP,
-- so an interrupted send is never repeated: it ends `unknown` instead (docs/decisions/0011).
CREATE TABLE manager_summaries (
    allocation_id    uuid NOT NULL,
    manager_id       text NOT NULL,
    department       text NOT NULL,
    recipients       integer NOT NULL CHECK (recipients > 0),
    notification_id  bigint NOT NULL,
    pushed_at        timestamptz,
    email_status     text NOT NULL DEFAULT 'pending'
                     CHECK (email_status IN ('pending', 'sending', 'sent', 'failed', 'unknown',
                                             'skipped')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    message_id       text,
    claimed_at       timestamptz,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (allocation_id, manager_id)
);

-- Opt-outs per notification kind; no row means the email is wanted.
CREATE TABLE email_preferences (
    employee_id  text NOT NULL REFERENCES employees (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    enabled      boolean NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (employee_id, kind)
);
