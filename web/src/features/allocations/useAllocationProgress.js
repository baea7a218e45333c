// The allocation the admin follows: read over REST, then kept up to date by the frames of
// its stream channel, and read again after each (re)connect and when it completes.
import { useCallback, useEffect, useState } from "react";
import { ALLOCATION_COMPLETED } from "../stream/StreamClient";
import { PROGRESS_TYPES, allocationChannel, applyProgress, progressFrom, } from "./progress";
// A request no worker has picked up sends no frames; reading it now and then keeps its
// "waiting for a worker" note true and shows the moment a worker takes it.
const WHILE_REQUESTED_MS = 10_000;
export function useAllocationProgress(api, stream) {
    const [watch, setWatch] = useState(null);
    const id = watch?.id ?? null;
    const refresh = useCallback((watched) => api.get(`/v1/allocations/${watched}`).then((allocation) => setWatch((current) => current?.id === allocation.id ? progressFrom(allocation, current) : current), () => {
        // Not recorded yet (the inserter records requests from other producers): the
        // progress frames fill in meanwhile.
    }), [api]);
    useEffect(() => {
        if (id === null)
            return undefined;
        return stream.listen({
            channel: allocationChannel(id),
            onEvent: ({ type, data }) => {
                if (!PROGRESS_TYPES.has(type))
                    return;
                const payload = data.data ?? {};
                setWatch((current) => current && current.id === payload.allocation_id
                    ? applyProgress(current, type, payload)
                    : current);
                if (type === ALLOCATION_COMPLETED)
                    void refresh(id);
            },
            onCaughtUp: () => void refresh(id),
        });
    }, [stream, id, refresh]);
    const requested = watch?.status === "requested";
    useEffect(() => {
        if (!requested || id === null)
            return undefined;
        const timer = setInterval(() => void refresh(id), WHILE_REQUESTED_MS);
        return () => clearInterval(timer);
    }, [requested, id, refresh]);
    const watchAllocation = useCallback((allocation) => {
        setWatch((current) => progressFrom(allocation, current?.id === allocation.id ? current : undefined));
    }, []);
    return { watch, watchAllocation };
}
