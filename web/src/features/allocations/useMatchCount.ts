// The as-you-type count of who the rule matches today (criteria only, no voucher).

import { useEffect, useRef, useState } from "react";

import { type Api, errorText } from "../../api";
import type { Criteria } from "../../types";
import { fetchPreview } from "./allocationsApi";

export interface MatchCount {
  matched: number | null;
  error: string | null;
  pending: boolean;
}

export function useMatchCount(api: Api, criteria: Criteria | null): MatchCount {
  const [matched, setMatched] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const key = criteria === null ? null : JSON.stringify(criteria);
  // Answers can arrive out of order; only the latest question's answer counts.
  const sequence = useRef(0);
  useEffect(() => {
    const mine = ++sequence.current;
    if (key === null) {
      setMatched(null);
      setError(null);
      setPending(false);
      return undefined;
    }
    setPending(true);
    const timer = setTimeout(() => {
      fetchPreview(api, JSON.parse(key) as Criteria)
        .then((answer) => {
          if (mine !== sequence.current) return;
          setMatched(answer.matched);
          setError(null);
        })
        .catch((failure: unknown) => {
          if (mine !== sequence.current) return;
          setMatched(null);
          setError(errorText(failure));
        })
        .finally(() => {
          if (mine === sequence.current) setPending(false);
        });
    }, 300);
    return () => clearTimeout(timer);
  }, [api, key]);
  return { matched, error, pending };
}
