// The inbox's tabs: what each asks the server for, and which items each shows.

import type { Item } from "../../items";

export type InboxTab = "unread" | "all" | "vouchers" | "archived";

export const TABS: { id: InboxTab; label: string }[] = [
  { id: "unread", label: "Unread" },
  { id: "all", label: "All" },
  { id: "vouchers", label: "Vouchers" },
  { id: "archived", label: "Archived" },
];

export const VOUCHER_KIND = "herald.voucher.allocated";

export function queryFor(tab: InboxTab): Record<string, string> {
  switch (tab) {
    case "unread":
      return { archived: "false", status: "unread" };
    case "vouchers":
      return { archived: "false", kind: VOUCHER_KIND };
    case "archived":
      return { archived: "true" };
    default:
      return { archived: "false" };
  }
}

// Also checked on the page: items change tab when read or archived here or elsewhere.
export function belongsTo(item: Item, tab: InboxTab): boolean {
  switch (tab) {
    case "unread":
      return !item.archived && item.readAt === null;
    case "vouchers":
      return !item.archived && item.kind === VOUCHER_KIND;
    case "archived":
      return item.archived;
    default:
      return !item.archived;
  }
}
