// Names of the department's people, for the feed (the events carry only ids).

import { useEffect, useState } from "react";

import type { Api } from "../../api";
import type { Employee } from "../../types";

interface EmployeePage {
  items: Employee[];
  next_after: string | null;
}

const MAX_PAGES = 20;

export function useTeam(api: Api, department: string): Map<string, Employee> {
  const [team, setTeam] = useState(() => new Map<string, Employee>());
  useEffect(() => {
    let stale = false;
    readTeam(api, department)
      .then((found) => {
        if (!stale) setTeam(found);
      })
      .catch(() => undefined);
    return () => {
      stale = true;
    };
  }, [api, department]);
  return team;
}

async function readTeam(api: Api, department: string): Promise<Map<string, Employee>> {
  const found = new Map<string, Employee>();
  let after: string | null = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer: EmployeePage = await api.get<EmployeePage>("/v1/employees", {
      department,
      limit: 1000,
      after,
    });
    for (const employee of answer.items) found.set(employee.id, employee);
    after = answer.next_after;
    if (after === null) break;
  }
  return found;
}
