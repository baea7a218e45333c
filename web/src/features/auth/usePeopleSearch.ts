// The demo people to sign in as, searched as the name or id is typed (dev sign-in only).

import { useEffect, useState } from "react";

import { anonymous, errorText } from "../../api";
import type { DemoPerson } from "../../types";

const TYPING_MS = 250;

export interface PeopleSearch {
  people: DemoPerson[];
  loading: boolean;
  error: string | null;
}

export function usePeopleSearch(query: string): PeopleSearch {
  const [people, setPeople] = useState<DemoPerson[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stale = false;
    const timer = setTimeout(
      () => {
        setLoading(true);
        const path = query.trim()
          ? `/v1/dev/people?q=${encodeURIComponent(query.trim())}`
          : "/v1/dev/people";
        anonymous<{ people: DemoPerson[] }>("GET", path)
          .then((answer) => {
            if (stale) return;
            setPeople(answer.people);
            setError(null);
          })
          .catch((failure: unknown) => {
            if (!stale) setError(errorText(failure));
          })
          .finally(() => {
            if (!stale) setLoading(false);
          });
      },
      query ? TYPING_MS : 0,
    );
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [query]);

  return { people, loading, error };
}
