// Names of the department's people, for the feed (the events carry only ids).
import { useEffect, useState } from "react";
const MAX_PAGES = 20;
export function useTeam(api, department) {
    const [team, setTeam] = useState(() => new Map());
    useEffect(() => {
        let stale = false;
        readTeam(api, department)
            .then((found) => {
            if (!stale)
                setTeam(found);
        })
            .catch(() => undefined);
        return () => {
            stale = true;
        };
    }, [api, department]);
    return team;
}
async function readTeam(api, department) {
    const found = new Map();
    let after = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
        const answer = await api.get("/v1/employees", {
            department,
            limit: 1000,
            after,
        });
        for (const employee of answer.items)
            found.set(employee.id, employee);
        after = answer.next_after;
        if (after === null)
            break;
    }
    return found;
}
