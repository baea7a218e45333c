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
}

export interface VoucherSpec {
  name: string;
  amount: string;
  currency: string;
  expires_on: string;
  code_prefix: string;
}

export type AllocationStatus = "requested" | "inserting" | "published" | "completed" | "failed";

export interface Allocation {
  id: string;
  status: AllocationStatus;
  voucher: VoucherSpec;
  criteria: Criteria;
  counts: { matched: number; inserted: number; published: number };
  timings: {
    requested_at: string;
    completed_at: string | null;
    duration_seconds: number | null;
  };
  failure_reason: string | null;
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
