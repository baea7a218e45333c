// One allocation as it reached the manager's team (the summary's link): who got what,
// whether it arrived live or waits in their inbox, and whether they have read it. Voucher
// codes stay with the people they belong to, as in the team feed.

import type { Api } from "../../api";
import { RelativeTime } from "../../components/RelativeTime";
import { TableHead } from "../../components/TableHead";
import { formatCount, formatMoney, plural } from "../../format";
import type { TeamRecipient } from "../../types";
import { useAllocationTeam } from "./useAllocationTeam";

const DELIVERY: Record<TeamRecipient["delivery"], string> = {
  live: "Delivered live",
  inbox: "Waiting in inbox",
};

export function AllocationTeamView({ api, allocationId }: { api: Api; allocationId: string }) {
  const { value, error } = useAllocationTeam(api, allocationId);
  const recipients = value?.recipients ?? [];
  const live = recipients.filter((r) => r.delivery === "live").length;
  const read = recipients.filter((r) => r.read).length;
  return (
    <section aria-labelledby="allocation-team-title" className="page" data-testid="allocation-team">
      <div className="page-head">
        <div>
          <h1 id="allocation-team-title">
            {value ? `${value.allocation.name} in ${value.team.department}` : "Your team's part"}
          </h1>
          {value && (
            <p className="muted">
              {formatMoney(value.allocation.amount, value.allocation.currency)} each
              · {plural(recipients.length, "recipient", "recipients")} of{" "}
              {plural(value.team.size, "person", "people")} in {value.team.department}
            </p>
          )}
        </div>
      </div>
      {error && (
        <p className="error" role="alert">
          Could not load this allocation for your team: {error}
        </p>
      )}
      {value === null && !error && <p aria-busy="true">Loading…</p>}
      {value && (
        <div className="figures team-figures">
          <div className="figure">
            <span className="figure-label">Delivered live</span>
            <span className="figure-value" data-testid="team-live">
              {formatCount(live)}
            </span>
          </div>
          <div className="figure">
            <span className="figure-label">Waiting in inbox</span>
            <span className="figure-value" data-testid="team-inbox">
              {formatCount(recipients.length - live)}
            </span>
          </div>
          <div className="figure">
            <span className="figure-label">Read</span>
            <span className="figure-value" data-testid="team-read">
              {formatCount(read)}
            </span>
          </div>
        </div>
      )}
      {value && (
        <div className="card table-card">
          <table className="table cards" data-testid="allocation-team-table">
            <caption className="visually-hidden">
              Who in {value.team.department} received this voucher
            </caption>
            <TableHead
              columns={[
                { label: "Employee" },
                { label: "Amount", numeric: true },
                { label: "Delivery" },
                { label: "Read" },
              ]}
            />
            <tbody>
              {recipients.map((r) => (
                <tr key={r.employee_id} data-testid="allocation-team-row">
                  <td>
                    <div className="item-name">{r.name}</div>
                    <div className="item-detail">{r.employee_id}</div>
                  </td>
                  <td className="numeric">{formatMoney(r.amount, r.currency)}</td>
                  <td>
                    <span className={`chip chip-${r.delivery}`}>{DELIVERY[r.delivery]}</span>
                  </td>
                  <td>
                    {r.read && r.read_at ? (
                      <>
                        Read <RelativeTime iso={r.read_at} />
                      </>
                    ) : (
                      "Not yet"
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {recipients.length === 0 && (
            <p className="empty">Nobody in your team received this allocation.</p>
          )}
        </div>
      )}
    </section>
  );
}
