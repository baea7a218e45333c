// A manager's live feed of their department, with the people's names.

import type { Api } from "../../api";
import { TableHead } from "../../components/TableHead";
import { formatMoney, formatTime, formatWhen, plural } from "../../format";
import type { Item } from "../../items";
import { useTeam } from "./useTeam";

export function TeamFeedView({
  api,
  department,
  feed,
}: {
  api: Api;
  department: string;
  feed: Item[];
}) {
  const team = useTeam(api, department);
  // The feed is newest first; what it covers starts at its last item.
  const oldest = feed.at(-1)?.createdAt ?? null;
  return (
    <section aria-labelledby="feed-title" className="page">
      <div className="page-head">
        <div>
          <h1 id="feed-title">{department} team feed</h1>
          <p className="muted">
            What reached your team since your own latest inbox item, newest first, then live as
            it arrives. Voucher codes stay with the people they belong to.
          </p>
          {oldest && (
            <p className="muted" data-testid="feed-range">
              Showing {plural(feed.length, "item", "items")} from{" "}
              <time dateTime={oldest}>{formatWhen(oldest)}</time> on.
            </p>
          )}
        </div>
        <p className="stat">
          <span className="stat-value">{team.size || "—"}</span>
          <span className="stat-label">people in {department}</span>
        </p>
      </div>
      <div className="card table-card">
        <table className="table cards" data-testid="feed-table">
          <caption className="visually-hidden">Live feed of the {department} department</caption>
          <TableHead
            columns={[
              { label: "Time" },
              { label: "Employee" },
              { label: "What" },
              { label: "Amount", numeric: true },
            ]}
          />
          <tbody>
            {feed.map((item) => {
              const person = item.employeeId ? team.get(item.employeeId) : undefined;
              return (
                <tr key={item.id} data-testid="feed-row">
                  <td>
                    <time dateTime={item.createdAt}>{formatTime(item.createdAt)}</time>
                  </td>
                  <td>
                    <div className="item-name">{person?.name ?? item.employeeId ?? "—"}</div>
                    <div className="item-detail">
                      {item.employeeId}
                      {person ? ` · ${person.grade}` : ""}
                    </div>
                  </td>
                  <td>{item.voucher ? `Voucher: ${item.voucher.name}` : item.title}</td>
                  <td className={item.voucher ? "numeric" : "numeric empty-cell"}>
                    {item.voucher ? formatMoney(item.voucher.amount, item.voucher.currency) : "—"}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {feed.length === 0 && (
          <p className="empty" data-testid="feed-empty">
            Nothing has reached {department} since your latest inbox item. New vouchers appear
            here live.
          </p>
        )}
      </div>
    </section>
  );
}
