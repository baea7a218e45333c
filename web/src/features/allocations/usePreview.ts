// The review's figures: who exactly, how many per department, what it costs.

import { useCallback, useEffect, useState } from "react";

import { type Api, errorText } from "../../api";
import type { AllocationPreview, Criteria, VoucherSpec } from "../../types";
import { fetchPreview } from "./allocationsApi";

export interface Preview {
  preview: AllocationPreview | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

interface Answer {
  // The question (and the round of asking) this answers.
  asked: string;
  preview: AllocationPreview | null;
  error: string | null;
}

export function usePreview(api: Api, criteria: Criteria, voucher: VoucherSpec): Preview {
  const [round, setRound] = useState(0);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const asked = JSON.stringify({ round, criteria, voucher });

  useEffect(() => {
    const { criteria: counted, voucher: priced } = JSON.parse(asked) as {
      criteria: Criteria;
      voucher: VoucherSpec;
    };
    // An answer to a question since replaced (or asked again) is dropped.
    let stale = false;
    fetchPreview(api, counted, priced).then(
      (preview) => {
        if (!stale) setAnswer({ asked, preview, error: null });
      },
      (failure: unknown) => {
        if (!stale) setAnswer({ asked, preview: null, error: errorText(failure) });
      },
    );
    return () => {
      stale = true;
    };
  }, [api, asked]);

  const reload = useCallback(() => setRound((n) => n + 1), []);
  // Stale figures must not stay on screen: the confirmation is of what is shown.
  const current = answer?.asked === asked ? answer : null;
  return {
    preview: current?.preview ?? null,
    error: current?.error ?? null,
    loading: current === null,
    reload,
  };
}
