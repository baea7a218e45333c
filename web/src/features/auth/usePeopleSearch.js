// The demo people to sign in as, searched as the name or id is typed (dev sign-in only).
import { useEffect, useState } from "react";
import { anonymous, errorText } from "../../api";
const TYPING_MS = 250;
export function usePeopleSearch(query) {
    const [people, setPeople] = useState([]);
    const [loading, setLoading] = useState(true);
    const [error, setError] = useState(null);
    useEffect(() => {
        let stale = false;
        const timer = setTimeout(() => {
            setLoading(true);
            const path = query.trim()
                ? `/v1/dev/people?q=${encodeURIComponent(query.trim())}`
                : "/v1/dev/people";
            anonymous("GET", path)
                .then((answer) => {
                if (stale)
                    return;
                setPeople(answer.people);
                setError(null);
            })
                .catch((failure) => {
                if (!stale)
                    setError(errorText(failure));
            })
                .finally(() => {
                if (!stale)
                    setLoading(false);
            });
        }, query ? TYPING_MS : 0);
        return () => {
            stale = true;
            clearTimeout(timer);
        };
    }, [query]);
    return { people, loading, error };
}
