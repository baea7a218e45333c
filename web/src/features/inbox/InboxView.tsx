// The person's inbox: tabs, vouchers and notifications newest first, read and archive marks.

import { type KeyboardEvent, useEffect, useRef, useState } from "react";

import { errorText } from "../../api";
import { CopyCode } from "../../components/CopyCode";
import { RelativeTime } from "../../components/RelativeTime";
import { TableHead } from "../../components/TableHead";
import { formatDay, formatMoney, formatWhen, plural } from "../../format";
import { type Item, VOUCHER_REVOKED } from "../../items";
import { focusAfter } from "./focus";
import { TABS } from "./tabs";
import type { Inbox, ItemAction } from "./useInbox";

const KIND_LABELS: Record<string, string> = {
  "herald.voucher.allocated": "Voucher",
  "herald.notification.pushed": "Notice",
  "herald.allocation.summary": "Team summary",
  "herald.voucher.revoked": "Revoked",
  "herald.revocation.summary": "Team revocation",
};

const EMPTY: Record<Inbox["tab"], string> = {
  unread: "Nothing unread. New vouchers appear here the moment they are allocated.",
  all: "Nothing here yet. New vouchers appear here the moment they are allocated.",
  vouchers: "No vouchers yet. They appear here the moment they are allocated.",
  archived: "Nothing archived. Archive an item to keep it out of the way.",
};

function nameOf(item: Item): string {
  return item.voucher?.name || item.title || "Notification";
}

function actionLabel(item: Item): string {
  return item.kind === "herald.allocation.summary" ? "See your team's part" : "Open";
}

function Tabs({ inbox }: { inbox: Inbox }) {
  const refs = useRef(new Map<string, HTMLButtonElement>());
  // Arrow keys move between tabs, as in every tab strip.
  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const at = TABS.findIndex((tab) => tab.id === inbox.tab);
    let next = -1;
    if (event.key === "ArrowRight") next = (at + 1) % TABS.length;
    else if (event.key === "ArrowLeft") next = (at - 1 + TABS.length) % TABS.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = TABS.length - 1;
    const tab = TABS[next];
    if (tab === undefined) return;
    event.preventDefault();
    inbox.selectTab(tab.id);
    refs.current.get(tab.id)?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label="Show" onKeyDown={onKey}>
      {TABS.map((tab) => (
        <button
          key={tab.id}
          ref={(element) => {
            if (element) refs.current.set(tab.id, element);
            else refs.current.delete(tab.id);
          }}
          type="button"
          role="tab"
          id={`tab-${tab.id}`}
          aria-selected={inbox.tab === tab.id}
          aria-controls="inbox-panel"
          tabIndex={inbox.tab === tab.id ? 0 : -1}
          className="tab"
          onClick={() => inbox.selectTab(tab.id)}
        >
          {tab.label}
          {tab.id === "unread" && inbox.unread > 0 && (
            <span className="tab-count" aria-label={`, ${inbox.unread} unread`}>
              {inbox.unread}
            </span>
          )}
        </button>
      ))}
    </div>
  );
}

export function InboxView({ inbox }: { inbox: Inbox }) {
  const { items, unread, loaded, error, hasOlder } = inbox;
  const [failure, setFailure] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const panel = useRef<HTMLDivElement>(null);
  // Where focus goes once an action's result is on the page: asked for after the server
  // answered, so the rows read here are the ones after the action.
  const [focusRequest, setFocusRequest] = useState<{ before: number[]; id: number } | null>(
    null,
  );

  useEffect(() => {
    if (focusRequest === null || panel.current === null) return;
    const rows = panel.current.querySelectorAll<HTMLElement>('[data-testid="inbox-row"]');
    const after = [...rows].map((row) => Number(row.dataset.id));
    const target = focusAfter(focusRequest.before, after, focusRequest.id);
    const row = [...rows].find((candidate) => Number(candidate.dataset.id) === target);
    (row ?? panel.current).focus();
  }, [focusRequest]);

  const run = (work: () => Promise<void>) => {
    setFailure(null);
    work().catch((error: unknown) => setFailure(errorText(error)));
  };
  const act = (item: Item, action: ItemAction) =>
    run(async () => {
      const before = items.map((i) => i.id);
      await inbox.act(item.id, action);
      setFocusRequest({ before, id: item.id });
    });

  return (
    <section aria-labelledby="inbox-title" className="page">
      <div className="page-head">
        <div>
          <h1 id="inbox-title">Inbox</h1>
          <p className="muted" data-testid="unread-summary">
            {unread === 0 ? "You are all caught up." : `${plural(unread, "unread item", "unread items")}.`}
          </p>
        </div>
        <button
          type="button"
          className="secondary"
          disabled={unread === 0}
          onClick={() => run(inbox.markAllRead)}
        >
          Mark all as read
        </button>
      </div>
      <Tabs inbox={inbox} />
      {(failure || error) && (
        <p className="error" role="alert">
          {failure ?? `Could not load your inbox: ${error}`}
        </p>
      )}
      <div
        className="card table-card"
        id="inbox-panel"
        role="tabpanel"
        aria-labelledby={`tab-${inbox.tab}`}
        tabIndex={-1}
        ref={panel}
      >
        <table className="table cards" data-testid="inbox-table">
          <caption className="visually-hidden">Your vouchers and notifications, newest first</caption>
          <TableHead
            columns={[
              { label: "Status", hidden: true },
              { label: "Name" },
              { label: "Voucher code" },
              { label: "Amount", numeric: true },
              { label: "When" },
              { label: "Actions", hidden: true },
            ]}
          />
          <tbody>
            {items.map((item) => {
              const name = nameOf(item);
              const isUnread = item.readAt === null;
              const readLabel = isUnread ? "Mark as read" : "Mark as unread";
              const revoked = item.revokedAt !== null;
              return (
                <tr
                  key={item.id}
                  className={isUnread ? "unread" : undefined}
                  data-testid="inbox-row"
                  data-id={item.id}
                  data-state={isUnread ? "unread" : "read"}
                  data-kind={item.kind}
                  data-revoked={revoked ? "true" : undefined}
                  tabIndex={-1}
                >
                  <td className="status-cell">
                    {isUnread ? (
                      <span className="unread-label">
                        <span className="unread-dot" aria-hidden="true" />
                        Unread
                      </span>
                    ) : (
                      <span className="visually-hidden">Read</span>
                    )}
                  </td>
                  <td className="name-cell">
                    <div className="item-name">{name}</div>
                    <div className="item-detail">
                      <span className="kind">{KIND_LABELS[item.kind] ?? "Notification"}</span>
                      {item.revokedAt !== null ? (
                        <span className="revoked" data-testid="revoked-note">
                          Revoked {formatWhen(item.revokedAt)}
                          {item.revokeReason ? `: ${item.revokeReason}` : ""}
                        </span>
                      ) : item.voucher && item.kind !== VOUCHER_REVOKED ? (
                        `Valid until ${formatDay(item.voucher.expiresOn)}`
                      ) : (
                        item.body
                      )}
                    </div>
                    {item.actionUrl && (
                      <a
                        className="item-action"
                        href={item.actionUrl}
                        data-testid="item-action"
                        aria-label={`${actionLabel(item)}: ${name}`}
                      >
                        {actionLabel(item)}
                      </a>
                    )}
                  </td>
                  <td className={item.voucher ? "code-cell" : "code-cell empty-cell"}>
                    {item.voucher ? (
                      // A voided code is struck through and offers nothing to copy.
                      revoked || item.kind === VOUCHER_REVOKED ? (
                        <del className="code">{item.voucher.code}</del>
                      ) : (
                        <CopyCode code={item.voucher.code} label={name} />
                      )
                    ) : (
                      "—"
                    )}
                  </td>
                  <td className={item.voucher ? "numeric" : "numeric empty-cell"}>
                    {item.voucher ? formatMoney(item.voucher.amount, item.voucher.currency) : "—"}
                  </td>
                  <td className="when-cell">
                    <RelativeTime iso={item.createdAt} />
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      className="link"
                      onClick={() => act(item, isUnread ? "read" : "unread")}
                      aria-label={`${readLabel}: “${name}”`}
                    >
                      {readLabel}
                    </button>
                    <button
                      type="button"
                      className="link"
                      onClick={() => act(item, item.archived ? "unarchive" : "archive")}
                      aria-label={`${item.archived ? "Unarchive" : "Archive"}: “${name}”`}
                    >
                      {item.archived ? "Unarchive" : "Archive"}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {loaded && items.length === 0 && (
          <p className="empty" data-testid="inbox-empty">
            {EMPTY[inbox.tab]}
          </p>
        )}
        {!loaded && !error && <p className="empty">Loading your inbox…</p>}
      </div>
      {hasOlder && (
        <button
          type="button"
          className="secondary"
          disabled={loadingOlder}
          onClick={() =>
            run(async () => {
              setLoadingOlder(true);
              try {
                await inbox.loadOlder();
              } finally {
                setLoadingOlder(false);
              }
            })
          }
        >
          Show older items
        </button>
      )}
    </section>
  );
}
