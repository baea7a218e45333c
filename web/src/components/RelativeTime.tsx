// A time as "5 minutes ago", with the exact moment on hover and for screen readers.

import { formatExact, formatRelative } from "../format";
import { useNow } from "../useNow";

export function RelativeTime({ iso }: { iso: string }) {
  const now = useNow(30_000, true);
  const exact = formatExact(iso);
  return (
    <time dateTime={iso} title={exact}>
      <span aria-hidden="true">{formatRelative(iso, now)}</span>
      <span className="visually-hidden">{exact}</span>
    </time>
  );
}
