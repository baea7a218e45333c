// The as-you-type count of who the rule matches today (criteria only, no voucher).
import { useEffect, useState } from "react";
import { errorText } from "../../api";
import { fetchPreview } from "./allocationsApi";
const TYPING_MS = 300;
export function useMatchCount(api, criteria) {
    const key = criteria === null ? null : JSON.stringify(criteria);
    const [question, setQuestion] = useState({ key, round: 0 });
    const [answer, setAnswer] = useState(null);
    if (question.key !== key) {
        // Adjusted while rendering, so no frame shows the old question as the current one.
        setQuestion({ key, round: question.round + 1 });
        // No audience, no figure: the next rule starts from "—", not from an older count.
        if (key === null)
            setAnswer(null);
    }
    useEffect(() => {
        const { key: asked, round } = question;
        if (asked === null)
            return undefined;
        // Answers can arrive out of order: one to a question since replaced is dropped.
        let stale = false;
        const timer = setTimeout(() => {
            fetchPreview(api, JSON.parse(asked)).then((preview) => {
                if (!stale)
                    setAnswer({ round, matched: preview.matched, error: null });
            }, (failure) => {
                if (!stale)
                    setAnswer({ round, matched: null, error: errorText(failure) });
            });
        }, TYPING_MS);
        return () => {
            stale = true;
            clearTimeout(timer);
        };
    }, [api, question]);
    if (key === null)
        return { matched: null, error: null, pending: false };
    // While the next answer is on its way the last one stays, marked as pending.
    return {
        matched: answer?.matched ?? null,
        error: answer?.error ?? null,
        pending: answer?.round !== question.round,
    };
}
