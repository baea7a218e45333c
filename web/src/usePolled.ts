// An answer that changes on the server (delivery figures, read marks): loaded at once,
// then again every `everyMs`, one request at a time. A failure is shown and retried.

import { useEffect, useState } from "react";

import { errorText } from "./api";

export interface Polled<T> {
  value: T | null;
  error: string | null;
  // When the value shown was received (ms since the epoch), or null.
  receivedAt: number | null;
}

export function usePolled<T>(load: (() => Promise<T>) | null, everyMs: number): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ value: null, error: null, receivedAt: null });

  useEffect(() => {
    if (load === null) return undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const round = () => {
      load()
        .then((value) => {
          if (!stopped) setState({ value, error: null, receivedAt: Date.now() });
        })
        .catch((failure: unknown) => {
          if (!stopped) setState((was) => ({ ...was, error: errorText(failure) }));
        })
        .finally(() => {
          if (!stopped) timer = setTimeout(round, everyMs);
        });
    };
    round();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [load, everyMs]);

  return state;
}
