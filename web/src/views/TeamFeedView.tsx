import { useEffect, useState } from "react";

import type { Api } from "../api";
import { formatMoney, formatTime } from "../format";
import type { Employee } from "../types";
import type { Workspace } from "../useWorkspace";

interface EmployeePage {
  items: Employee[];
  next_after: string | null;
}

// Names of the department's people, for the feed (the events carry only ids).
function useTeam(api: Api, department: string): Map<string, Employee> {
  const [team, setTeam] = useState(new Map<string, Employee>());
  useEffect(() => {
    let stale = false;
    (async () => {
      const found = new Map<string, Employee>();
      let after: string | null = null;
      for (let page = 0; page < 20; page += 1) {
        const answer: EmployeePage = await api.get<EmployeePage>("/v1/employees", {
          department,
          limit: 1000,
          after,
        });
        for (const employee of answer.items) found.set(employee.id, employee);
        after = answer.next_after;
        if (after === null) break;
      }
      if (!stale) setTeam(found);
    })().catch(() => undefined);
    return () => {
      stale = true;
    };
  }, [api, department]);
  return team;
}

export function TeamFeedView({
  api,
  department,
  workspace,
}: {
  api: Api;
  department: string;
  workspace: Workspace;
}) {
  const team = useTeam(api, department);
  const { feed } = workspace;
  return (
    <section aria-labelledby="feed-title" className="page">
      <div className="page-head">
        <div>
          <h1 id="feed-title">{department} team feed</h1>
          <p className="muted">
            Vouchers and notifications reaching your team, as they arrive. Voucher codes stay
            with the people they belong to.
          </p>
        </div>
        <p className="stat">
          <span className="stat-value">{team.size || "—"}</span>
          <span className="stat-label">people in {department}</span>
        </p>
      </div>
      <div className="card table-card">
        <table className="table" data-testid="feed-table">
          <caption className="visually-hidden">Live feed of the {department} department</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Employee</th>
              <th scope="col">What</th>
              <th scope="col" className="numeric">
                Amount
              </th>
            </tr>
          </thead>
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
                  <td className="numeric">
                    {item.voucher ? formatMoney(item.voucher.amount, item.voucher.currency) : "—"}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {feed.length === 0 && (
          <p className="empty" data-testid="feed-empty">
            Nothing has reached {department} since you opened this page. New vouchers appear here
            live.
          </p>
        )}
      </div>
    </section>
  );
}
