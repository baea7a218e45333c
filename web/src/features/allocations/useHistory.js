// Past allocations, newest first, reloaded when the watched one finishes and, while one
// is still waiting for a worker, now and then so its status stays true.
import { useCallback, useEffect, useState } from "react";
import { errorText } from "../../api";
const PAGE = 20;
const WHILE_WAITING_MS = 15_000;
export function useHistory(api, finishedAt) {
    const [items, setItems] = useState([]);
    const [receivedAt, setReceivedAt] = useState(() => Date.now());
    const [cursor, setCursor] = useState(null);
    const [error, setError] = useState(null);
    // The state changes only in the answer's callbacks, so effects may call it.
    const reload = useCallback(() => api.get("/v1/allocations", { limit: PAGE }).then((page) => {
        setItems(page.items);
        setReceivedAt(Date.now());
        setCursor(page.next_cursor);
        setError(null);
    }, (failure) => setError(errorText(failure))), [api]);
    // Again when the watched allocation finishes: its row changed.
    useEffect(() => {
        void reload();
    }, [reload, finishedAt]);
    const waiting = items.some((allocation) => allocation.status === "requested");
    useEffect(() => {
        if (!waiting)
            return undefined;
        const timer = setInterval(() => void reload(), WHILE_WAITING_MS);
        return () => clearInterval(timer);
    }, [waiting, reload]);
    const loadOlder = useCallback(async () => {
        if (cursor === null)
            return;
        try {
            const page = await api.get("/v1/allocations", { limit: PAGE, cursor });
            setItems((current) => [...current, ...page.items]);
            setCursor(page.next_cursor);
        }
        catch (failure) {
            setError(errorText(failure));
        }
    }, [api, cursor]);
    const add = useCallback((allocation) => {
        setItems((current) => [allocation, ...current.filter((a) => a.id !== allocation.id)]);
    }, []);
    return { items, receivedAt, error, hasOlder: cursor !== null, reload, loadOlder, add };
}
