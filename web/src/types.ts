// Shapes of the API's answers, as far as the page reads them.

export type Role = "employee" | "manager" | "hr-admin";

export interface DemoPerson {
  employee_id: string;
  name: string;
  department: string;
  grade: string;
  roles: Role[];
  manages: string | null;
}

export interface DevToken {
  token: string;
  expires_in: number;
  employee_id: string;
  department: string;
  roles: string[];
  manages: string | null;
}

export interface InboxItemBody {
  id: number;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  created_at: string;
  read_at: string | null;
  revoked_at?: string | null;
  revoke_reason?: string | null;
  // Absent from servers that predate archiving: not archived.
  archived?: boolean;
  action_url?: string | null;
}

export interface InboxPage {
  items: InboxItemBody[];
  next_cursor: string | null;
}

export interface Criteria {
  departments?: string[] | null;
  grades?: string[] | null;
  min_years_experience?: number | null;
  max_years_experience?: number | null;
  // Everyone; never combined with the other fields.
  all_employees?: boolean | null;
}

export interface VoucherSpec {
  name: string;
  amount: string;
  currency: string;
  expires_on: string;
  code_prefix: string;
}

export type AllocationStatus =
  | "pending_approval"
  | "scheduled"
  | "requested"
  | "inserting"
  | "published"
  | "completed"
  | "failed"
  | "rejected"
  | "expired"
  | "cancelled"
  | "revoked"
  | "partly_revoked";

export interface Approval {
  required: boolean;
  // Unapproved by then, the request expires.
  expires_at: string | null;
  decided_by: string | null;
  decided_at: string | null;
  // Why it was rejected or cancelled.
  reason: string | null;
}

export interface Allocation {
  id: string;
  status: AllocationStatus;
  voucher: VoucherSpec;
  criteria: Criteria;
  counts: { matched: number; inserted: number; published: number };
  // Chunks delivered of chunks expected, once the inserter began writing (null before,
  // and for allocations written before chunks).
  chunks?: { done: number; total: number } | null;
  timings: {
    requested_at: string;
    completed_at: string | null;
    duration_seconds: number | null;
  };
  // Written for people; failure_detail is the technical cause.
  failure_reason: string | null;
  failure_detail: string | null;
  // Still "requested" and no worker has picked it up for a while; the age in seconds.
  waiting_for_worker: boolean;
  waiting_seconds: number | null;
  requested_by: string | null;
  // When it is (or was) sent: the rule is evaluated then. Null: at once.
  send_at: string | null;
  approval: Approval;
  cancelled_by: string | null;
  cancelled_at: string | null;
}

export interface AuditEntry {
  seq: number;
  step: string;
  actor: string;
  recorded_at: string;
  detail: Record<string, unknown>;
  hash: string;
}

export interface AuditTrail {
  allocation_id: string;
  items: AuditEntry[];
}

export interface AllocationRequest {
  voucher: VoucherSpec;
  criteria: Criteria;
  confirmed_recipients?: number;
  // ISO 8601 with a time zone; absent: send now.
  send_at?: string;
}

export interface AllocationPreview {
  matched: number;
  by_department: { department: string; count: number }[];
  total_cost: { currency: string; amount: string }[];
  sample: { employee_id: string; name: string; department: string }[];
  confirmation: "review" | "typed";
  typed_confirmation_above: number;
  // Sending waits for a second hr-admin (over the approval rule), and why.
  approval_required: boolean;
  approval_reason: string | null;
  recounted_at: string | null;
}

export interface AllocationPage {
  items: Allocation[];
  next_cursor: string | null;
}

export interface Department {
  name: string;
  employees: number;
}

export interface Employee {
  id: string;
  name: string;
  department: string;
  grade: string;
}

export interface Preferences {
  employee_id: string;
  // Notification kind -> whether it is also sent by email; in-app is always on.
  email: Record<string, boolean>;
}

export type Delivery = "live" | "inbox";

export interface TeamRecipient {
  employee_id: string;
  name: string;
  code: string;
  amount: string;
  currency: string;
  delivery: Delivery;
  read: boolean;
  read_at: string | null;
}

// The allocation as a team page needs it.
export interface TeamAllocation {
  id: string;
  name: string;
  amount: string;
  currency: string;
  expires_on: string;
  created_at: string;
  status: AllocationStatus;
}

export interface AllocationTeam {
  allocation: TeamAllocation;
  team: { department: string; size: number };
  recipients: TeamRecipient[];
}

export interface DeliveryFigures {
  total: number;
  delivered_live: number;
  waiting_in_inbox: number;
  read: number;
}
