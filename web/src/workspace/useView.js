// The page shown, kept in the address bar and in the browser's history.
import { useCallback, useEffect, useState } from "react";
import { PATHS, viewFor } from "./navigation";
export function useView(session) {
    const [view, setView] = useState(() => viewFor(window.location.pathname, session));
    useEffect(() => {
        const path = PATHS[view];
        if (window.location.pathname !== path)
            window.history.replaceState(null, "", path);
        const onPop = () => setView(viewFor(window.location.pathname, session));
        window.addEventListener("popstate", onPop);
        return () => window.removeEventListener("popstate", onPop);
    }, [view, session]);
    const go = useCallback((next) => {
        window.history.pushState(null, "", PATHS[next]);
        setView(next);
    }, []);
    return [view, go];
}
