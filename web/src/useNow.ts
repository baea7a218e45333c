import { useEffect, useState } from "react";

// The current time, renewed every `everyMs` while `running`, for ages that keep growing.
export function useNow(everyMs: number, running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return undefined;
    const tick = () => setNow(Date.now());
    // At once too: the time kept while not running is old.
    const first = setTimeout(tick, 0);
    const timer = setInterval(tick, everyMs);
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }, [everyMs, running]);
  return now;
}
