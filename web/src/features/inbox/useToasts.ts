// Short notes for new items that go away by themselves (and sooner when closed). A toast
// stays while the pointer or focus is on it, so it can be read and its link followed.

import { useCallback, useEffect, useRef, useState } from "react";

export interface Toast {
  key: number;
  text: string;
  href: string | null;
}

export interface Toasts {
  toasts: Toast[];
  push: (text: string, href?: string | null) => void;
  dismiss: (key: number) => void;
  hold: (key: number, held: boolean) => void;
}

export const TOAST_MS = 6_000;
// More at once would cover the page on a phone; the oldest go first.
export const MAX_TOASTS = 3;

export function useToasts(lifetimeMs: number = TOAST_MS): Toasts {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  const nextKey = useRef(1);

  const dismiss = useCallback((key: number) => {
    clearTimeout(timers.current.get(key));
    timers.current.delete(key);
    setToasts((current) => current.filter((toast) => toast.key !== key));
  }, []);

  const arm = useCallback(
    (key: number) => {
      clearTimeout(timers.current.get(key));
      timers.current.set(
        key,
        setTimeout(() => dismiss(key), lifetimeMs),
      );
    },
    [dismiss, lifetimeMs],
  );

  const push = useCallback(
    (text: string, href: string | null = null) => {
      const key = nextKey.current++;
      arm(key);
      setToasts((current) => {
        const kept = [...current, { key, text, href }];
        for (const gone of kept.slice(0, -MAX_TOASTS)) {
          clearTimeout(timers.current.get(gone.key));
          timers.current.delete(gone.key);
        }
        return kept.slice(-MAX_TOASTS);
      });
    },
    [arm],
  );

  const hold = useCallback(
    (key: number, held: boolean) => {
      if (held) {
        clearTimeout(timers.current.get(key));
        timers.current.delete(key);
      } else {
        arm(key);
      }
    },
    [arm],
  );

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending.values()) clearTimeout(timer);
    };
  }, []);

  return { toasts, push, dismiss, hold };
}
