// The page shown, kept in the address bar and in the browser's history.

import { useCallback, useEffect, useState } from "react";

import type { Session } from "../features/auth/session";
import { type Route, pathOf, routeFor } from "./navigation";

export function useView(session: Session): [Route, (next: Route) => void] {
  const [route, setRoute] = useState<Route>(() => routeFor(window.location.pathname, session));

  useEffect(() => {
    const path = pathOf(route);
    if (window.location.pathname !== path) window.history.replaceState(null, "", path);
    const onPop = () => setRoute(routeFor(window.location.pathname, session));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, [route, session]);

  const go = useCallback((next: Route) => {
    window.history.pushState(null, "", pathOf(next));
    setRoute(next);
  }, []);

  return [route, go];
}
