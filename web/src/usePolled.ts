// An answer that changes on the server (delivery figures, read marks): loaded at once,
// then again every `everyMs` while the page is visible, one request at a time, and soon
// after `refresh` changes (a frame said something moved), at most once per `minGapMs`.
// A failure is shown, the last answer kept, and the next round tries again.

import { useEffect, useRef, useState } from "react";

import { errorText } from "./api";

export interface Polled<T> {
  value: T | null;
  error: string | null;
  // When the value shown was received (ms since the epoch), or null.
  receivedAt: number | null;
}

export function usePolled<T>(
  load: (() => Promise<T>) | null,
  everyMs: number,
  refresh: unknown = null,
  minGapMs = 2_000,
): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ value: null, error: null, receivedAt: null });
  // Asks the running loop for an early round; set by the loop's effect.
  const soon = useRef<(() => void) | null>(null);

  useEffect(() => {
    if (load === null) return undefined;
    let stopped = false;
    let busy = false;
    let again = false;
    let lastStart = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = (delay: number) => {
      clearTimeout(timer);
      timer = setTimeout(round, delay);
    };
    const round = () => {
      if (busy) {
        again = true;
        return;
      }
      if (document.visibilityState === "hidden") {
        schedule(everyMs);
        return;
      }
      busy = true;
      lastStart = Date.now();
      load()
        .then((value) => {
          if (!stopped) setState({ value, error: null, receivedAt: Date.now() });
        })
        .catch((failure: unknown) => {
          if (!stopped) setState((was) => ({ ...was, error: errorText(failure) }));
        })
        .finally(() => {
          busy = false;
          if (stopped) return;
          if (again) {
            again = false;
            schedule(Math.max(0, lastStart + minGapMs - Date.now()));
          } else {
            schedule(everyMs);
          }
        });
    };
    soon.current = () => {
      if (busy) again = true;
      else schedule(Math.max(0, lastStart + minGapMs - Date.now()));
    };
    round();
    return () => {
      stopped = true;
      soon.current = null;
      clearTimeout(timer);
    };
  }, [load, everyMs, minGapMs]);

  // The first run is the loop's own first round.
  const seen = useRef(refresh);
  useEffect(() => {
    if (Object.is(seen.current, refresh)) return;
    seen.current = refresh;
    soon.current?.();
  }, [refresh]);

  return state;
}
