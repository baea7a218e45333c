// The review's figures: who exactly, how many per department, what it costs.

import { useCallback, useEffect, useRef, useState } from "react";

import { type Api, errorText } from "../../api";
import type { AllocationPreview, Criteria, VoucherSpec } from "../../types";
import { fetchPreview } from "./allocationsApi";

export interface Preview {
  preview: AllocationPreview | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

export function usePreview(api: Api, criteria: Criteria, voucher: VoucherSpec): Preview {
  const [preview, setPreview] = useState<AllocationPreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  const question = JSON.stringify({ criteria, voucher });
  const sequence = useRef(0);

  useEffect(() => {
    const mine = ++sequence.current;
    const { criteria: asked, voucher: priced } = JSON.parse(question) as {
      criteria: Criteria;
      voucher: VoucherSpec;
    };
    setLoading(true);
    setError(null);
    // Stale figures must not stay on screen: the confirmation is of what is shown.
    setPreview(null);
    fetchPreview(api, asked, priced)
      .then((answer) => {
        if (mine === sequence.current) setPreview(answer);
      })
      .catch((failure: unknown) => {
        if (mine === sequence.current) setError(errorText(failure));
      })
      .finally(() => {
        if (mine === sequence.current) setLoading(false);
      });
  }, [api, question, round]);

  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { preview, error, loading, reload };
}
