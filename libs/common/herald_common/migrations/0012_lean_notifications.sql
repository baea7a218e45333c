-- Issue 19: lean inbox rows (docs/decisions/0066, 0067).
--
-- What one request shares (kind, source, title, body, the payload around the per-employee
-- values, allocation/push/revocation id, action link, created_at) is stored once in
-- `notification_contents`; each employee's row in `notifications_per_employee` keeps only
-- what differs: its id, the employee, the department, the voucher code and the revoked
-- notification's id where the kind has them, and its own state (read, archived,
-- delivered, visible to the department). `notifications` becomes a view with the old
-- columns, so every reader reads the same values it read before.

-- A payload is its content's five parts around four per-employee values:
-- parts[1] ‖ ref ‖ parts[2] ‖ "employee_id" ‖ parts[3] ‖ "department" ‖ parts[4] ‖ "code" ‖ parts[5]
-- (ref: a revoked notification's id; employee, department and code as JSON strings; an
-- absent ref or code is empty). SQL and IMMUTABLE, so the planner inlines it.
CREATE FUNCTION notification_payload(
    parts text[], ref bigint, employee_id text, department text, code text
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT parts[1] || coalesce(ref::text, '') || parts[2] || to_json(employee_id)::text
        || parts[3] || to_json(department)::text || parts[4]
        || coalesce(to_json(code)::text, '') || parts[5]
$$;

ALTER TABLE notifications RENAME TO notifications_0011;
-- The ids keep their sequence (herald_common.inbox_writes draws from it by name).
ALTER SEQUENCE notifications_id_seq OWNED BY NONE;

-- One row per request and kind (per written batch, when a request is written in parts;
-- per notification for a manager's summary, whose text is the manager's own). Its id is
-- the id of its first notification, its rows' ids lie in [id, last_id].
CREATE TABLE notification_contents (
    id             bigint PRIMARY KEY,
    last_id        bigint NOT NULL CHECK (last_id >= id),
    kind           text NOT NULL,
    source         text NOT NULL,
    title          text NOT NULL,
    body           text NOT NULL,
    allocation_id  uuid,
    push_id        uuid,
    revocation_id  uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    action_url     text CHECK (length(action_url) <= 2000),
    -- NULL: each row carries its payload in full.
    payload_parts  text[] CHECK (payload_parts IS NULL OR cardinality(payload_parts) = 5)
);

-- Fixed-width columns first: no alignment padding between them.
CREATE TABLE notifications_per_employee (
    id                  bigint PRIMARY KEY DEFAULT nextval('notifications_id_seq'),
    content_id          bigint NOT NULL,
    read_at             timestamptz,
    archived_at         timestamptz,
    -- When the notifier first handed the event to one of the employee's own streams.
    delivered_at        timestamptz,
    -- A revocation notice's revoked notification id (the payload's hole `ref`).
    ref                 bigint,
    -- Visibility, per row because the department channels' partial index needs it here
    -- (docs/decisions/0051, 0066): true is 'department', false 'private'.
    department_visible  boolean NOT NULL DEFAULT false,
    employee_id         text NOT NULL,
    department          text NOT NULL,
    code                text,
    -- The whole payload, for a row whose content has no parts (summaries, other kinds).
    payload             json
);
ALTER SEQUENCE notifications_id_seq OWNED BY notifications_per_employee.id;

-- Every existing row, split where its payload is exactly its parts around its values; the
-- check compares the text, so a row that does not fit keeps its payload in full.
CREATE TEMP TABLE lean_split ON COMMIT DROP AS
WITH base AS (
    SELECT n.*, n.payload::text AS t, to_json(n.employee_id)::text AS e,
           to_json(n.department)::text AS d,
           CASE WHEN n.kind IN ('herald.voucher.allocated', 'herald.voucher.revoked')
                 AND json_typeof(n.payload -> 'voucher' -> 'code') = 'string'
                THEN n.payload -> 'voucher' ->> 'code' END AS v_code,
           CASE WHEN n.kind = 'herald.voucher.revoked'
                 AND (n.payload ->> 'revoked_notification_id') ~ '^[0-9]{1,18}$'
                THEN (n.payload ->> 'revoked_notification_id')::bigint END AS v_ref
      FROM notifications_0011 n
     WHERE n.kind IN ('herald.voucher.allocated', 'herald.notification.pushed',
                      'herald.voucher.revoked')
       AND json_typeof(n.payload) = 'object'
), employee AS (
    SELECT b.*, position('"employee_id":' || e || ',"department":' || d IN t) AS pe
      FROM base b
), holes AS (
    SELECT x.*, x.pe + 14 AS s_e, x.pe + 14 + length(x.e) AS e_e,
           x.pe + 28 + length(x.e) AS s_d, x.pe + 28 + length(x.e) + length(x.d) AS e_d,
           CASE WHEN x.v_ref IS NULL THEN 0
                ELSE position('"revoked_notification_id":' || x.v_ref IN x.t) END AS pr
      FROM employee x WHERE x.pe > 0
), refs AS (
    SELECT h.*,
           CASE WHEN h.v_ref IS NULL THEN h.s_e ELSE h.pr + 26 END AS s_r,
           CASE WHEN h.v_ref IS NULL THEN h.s_e
                ELSE h.pr + 26 + length(h.v_ref::text) END AS e_r,
           CASE WHEN h.v_code IS NULL THEN 0
                ELSE position('"code":' || to_json(h.v_code)::text IN substr(h.t, h.e_d)) END
               AS pc
      FROM holes h WHERE h.v_ref IS NULL OR h.pr > 0
), codes AS (
    SELECT r.*,
           CASE WHEN r.v_code IS NULL THEN r.e_d ELSE r.e_d - 1 + r.pc + 7 END AS s_c,
           CASE WHEN r.v_code IS NULL THEN r.e_d
                ELSE r.e_d - 1 + r.pc + 7 + length(to_json(r.v_code)::text) END AS e_c
      FROM refs r WHERE (r.v_code IS NULL OR r.pc > 0) AND r.e_r <= r.s_e
), cut AS (
    SELECT c.id, c.v_ref, c.v_code,
           ARRAY[substr(c.t, 1, c.s_r - 1), substr(c.t, c.e_r, c.s_e - c.e_r),
                 substr(c.t, c.e_e, c.s_d - c.e_e), substr(c.t, c.e_d, c.s_c - c.e_d),
                 substr(c.t, c.e_c)] AS parts,
           c.t, c.employee_id, c.department
      FROM codes c
), verified AS (
    SELECT cut.id, cut.v_ref, cut.v_code, cut.parts FROM cut
     WHERE notification_payload(cut.parts, cut.v_ref, cut.employee_id, cut.department,
                                cut.v_code) = cut.t
)
SELECT n.id, n.employee_id, n.department, n.kind, n.source, n.title, n.body, n.payload,
       n.allocation_id, n.push_id, n.revocation_id, n.created_at, n.read_at, n.archived_at,
       n.delivered_at, n.visibility, n.action_url, v.parts, v.v_ref AS ref, v.v_code AS code,
       min(n.id) OVER content AS content_id, max(n.id) OVER content AS last_id
  FROM notifications_0011 n LEFT JOIN verified v ON v.id = n.id
WINDOW content AS (PARTITION BY n.kind, n.source, n.title, n.body, n.created_at,
                   n.allocation_id, n.push_id, n.revocation_id, n.action_url, v.parts);

INSERT INTO notification_contents (id, last_id, kind, source, title, body, allocation_id,
                                   push_id, revocation_id, created_at, action_url,
                                   payload_parts)
SELECT DISTINCT ON (content_id) content_id, last_id, kind, source, title, body,
       allocation_id, push_id, revocation_id, created_at, action_url, parts
  FROM lean_split ORDER BY content_id;

INSERT INTO notifications_per_employee (id, content_id, read_at, archived_at, delivered_at, ref,
                                     department_visible, employee_id, department, code,
                                     payload)
SELECT id, content_id, read_at, archived_at, delivered_at, ref, visibility = 'department',
       employee_id, department, code, CASE WHEN parts IS NULL THEN payload END
  FROM lean_split ORDER BY id;

DROP TABLE notifications_0011;

-- The same indexes as before, on the lean rows: replay and the inbox page by employee,
-- unread counts, department channels' replay of what their watchers may see.
CREATE INDEX notifications_by_employee ON notifications_per_employee (employee_id, id);
CREATE INDEX notifications_unread_by_employee ON notifications_per_employee (employee_id)
    WHERE read_at IS NULL AND archived_at IS NULL;
CREATE INDEX notifications_by_department ON notifications_per_employee (department, id)
    WHERE department_visible;
-- A request's contents (republishing, summaries, revocations), instead of an index on
-- every row: a content's rows are found by their id range.
CREATE INDEX notification_contents_by_allocation ON notification_contents (allocation_id, kind)
    WHERE allocation_id IS NOT NULL;
CREATE INDEX notification_contents_by_push ON notification_contents (push_id, kind)
    WHERE push_id IS NOT NULL;
CREATE INDEX notification_contents_by_revocation ON notification_contents (revocation_id, kind)
    WHERE revocation_id IS NOT NULL;

-- The old shape, column for column (plus `department_visible`, which the department
-- channels filter on to use their index). A LEFT JOIN on the content's key, so a query
-- that needs no content column (an unread count) reads the rows alone.
CREATE VIEW notifications AS
SELECT r.id, r.employee_id, r.department, c.kind, c.source, c.title, c.body,
       coalesce(r.payload, notification_payload(c.payload_parts, r.ref, r.employee_id,
                                                 r.department, r.code)::json) AS payload,
       c.allocation_id, c.created_at, r.read_at, c.push_id, c.revocation_id, r.archived_at,
       CASE WHEN r.department_visible THEN 'department' ELSE 'private' END AS visibility,
       r.delivered_at, c.action_url, r.department_visible
  FROM notifications_per_employee r LEFT JOIN notification_contents c ON c.id = r.content_id;
ALTER VIEW notifications ALTER COLUMN id SET DEFAULT nextval('notifications_id_seq');
ALTER VIEW notifications ALTER COLUMN created_at SET DEFAULT now();
ALTER VIEW notifications ALTER COLUMN visibility SET DEFAULT 'private';

-- Writing through the view: a row inserted there is a content of its own with the payload
-- in full (how the mailer writes a manager's summary); updates change a row's state only.
CREATE FUNCTION notifications_view_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' AND NEW.visibility NOT IN ('private', 'department') THEN
        RAISE EXCEPTION 'visibility must be private or department, not %', NEW.visibility
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO notification_contents (id, last_id, kind, source, title, body,
                                           allocation_id, push_id, revocation_id, created_at,
                                           action_url)
        VALUES (NEW.id, NEW.id, NEW.kind, NEW.source, NEW.title, NEW.body, NEW.allocation_id,
                NEW.push_id, NEW.revocation_id, NEW.created_at, NEW.action_url);
        INSERT INTO notifications_per_employee (id, content_id, read_at, archived_at,
                                             delivered_at, department_visible, employee_id,
                                             department, payload)
        VALUES (NEW.id, NEW.id, NEW.read_at, NEW.archived_at, NEW.delivered_at,
                NEW.visibility = 'department', NEW.employee_id, NEW.department, NEW.payload);
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF (NEW.id, NEW.employee_id, NEW.department, NEW.kind, NEW.source, NEW.title, NEW.body,
            NEW.payload::text, NEW.allocation_id, NEW.created_at, NEW.push_id,
            NEW.revocation_id, NEW.action_url)
           IS DISTINCT FROM
           (OLD.id, OLD.employee_id, OLD.department, OLD.kind, OLD.source, OLD.title, OLD.body,
            OLD.payload::text, OLD.allocation_id, OLD.created_at, OLD.push_id,
            OLD.revocation_id, OLD.action_url) THEN
            RAISE EXCEPTION 'notification %: only read_at, archived_at, delivered_at and'
                ' visibility can change', OLD.id USING ERRCODE = 'restrict_violation';
        END IF;
        UPDATE notifications_per_employee
           SET read_at = NEW.read_at, archived_at = NEW.archived_at,
               delivered_at = NEW.delivered_at,
               department_visible = NEW.visibility = 'department'
         WHERE id = OLD.id;
        RETURN NEW;
    END IF;
    DELETE FROM notifications_per_employee WHERE id = OLD.id;
    RETURN OLD;
END
$$;
CREATE TRIGGER notifications_view_write INSTEAD OF INSERT OR UPDATE OR DELETE ON notifications
    FOR EACH ROW EXECUTE FUNCTION notifications_view_write();
