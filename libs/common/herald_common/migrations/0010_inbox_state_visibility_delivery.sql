-- Issue 17: archive, who may see a notification, and live delivery per recipient
-- (docs/decisions/0050, 0051, 0052).

-- Archived items leave the default inbox listing and the unread count; read_at is untouched.
ALTER TABLE notifications ADD COLUMN archived_at timestamptz;
-- 'private': the employee alone. 'department': also the department's watchers (its
-- manager, hr-admins) live, on replay and in any department view. Private unless said.
ALTER TABLE notifications ADD COLUMN visibility text NOT NULL DEFAULT 'private'
    CHECK (visibility IN ('private', 'department'));
-- When the notifier first handed the event to one of the employee's own open streams;
-- NULL: it waits in the inbox. Written in batches by the notifiers.
ALTER TABLE notifications ADD COLUMN delivered_at timestamptz;
-- An item's action link (absolute URL), when it has one.
ALTER TABLE notifications ADD COLUMN action_url text CHECK (length(action_url) <= 2000);

-- What was visible to the department before stays so: vouchers of allocations and pushes
-- aimed at a department. Pushes to named employees or criteria become private.
UPDATE notifications SET visibility = 'department'
 WHERE kind = 'herald.voucher.allocated'
    OR push_id IN (SELECT id FROM pushes WHERE request -> 'target' ->> 'department' IS NOT NULL);

-- Unread counts leave archived items out; the old index counted read_at alone.
DROP INDEX IF EXISTS notifications_unread_by_employee;
CREATE INDEX notifications_unread_by_employee ON notifications (employee_id)
    WHERE read_at IS NULL AND archived_at IS NULL;
-- Department channels replay only what their watchers may see.
DROP INDEX IF EXISTS notifications_by_department;
CREATE INDEX notifications_by_department ON notifications (department, id)
    WHERE visibility = 'department';
