// The review's figures: who exactly, how many per department, what it costs.
import { useCallback, useEffect, useState } from "react";
import { errorText } from "../../api";
import { fetchPreview } from "./allocationsApi";
export function usePreview(api, criteria, voucher) {
    const [round, setRound] = useState(0);
    const [answer, setAnswer] = useState(null);
    const asked = JSON.stringify({ round, criteria, voucher });
    useEffect(() => {
        const { criteria: counted, voucher: priced } = JSON.parse(asked);
        // An answer to a question since replaced (or asked again) is dropped.
        let stale = false;
        fetchPreview(api, counted, priced).then((preview) => {
            if (!stale)
                setAnswer({ asked, preview, error: null });
        }, (failure) => {
            if (!stale)
                setAnswer({ asked, preview: null, error: errorText(failure) });
        });
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
