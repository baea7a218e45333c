// What reaches a manager's department while the page is open, from the stream (the feed
// has no history to load).
import { useEffect, useEffectEvent, useState } from "react";
import { fromEvent, merge } from "../../items";
export function departmentChannel(department) {
    return `private-department-${department}`;
}
// `department` is the one the signed-in person manages, or null for no feed.
export function useTeamFeed(stream, department) {
    const [feed, setFeed] = useState([]);
    const onEvent = useEffectEvent((event) => {
        if (!department || event.id === null)
            return;
        const item = fromEvent(event.id, event.data);
        if (item !== null && item.department === department) {
            setFeed((current) => merge(current, [item], false));
        }
    });
    useEffect(() => {
        if (!department)
            return undefined;
        return stream.listen({ channel: departmentChannel(department), onEvent });
    }, [stream, department]);
    return feed;
}
