// The stream's state in the header: live, reconnecting, caught up after a gap.

import type { ConnectionState } from "./StreamClient";

const LABELS: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  "caught-up": "Caught up",
  closed: "Offline",
};

const HINTS: Record<ConnectionState, string> = {
  connecting: "Opening the live connection",
  live: "New items appear as they arrive",
  reconnecting: "Connection lost; retrying. Nothing will be missed.",
  "caught-up": "Reconnected; everything you missed is shown",
  closed: "Not connected",
};

export function ConnectionStatus({ state }: { state: ConnectionState }) {
  return (
    <div
      className={`connection connection-${state}`}
      role="status"
      data-testid="connection-state"
      data-state={state}
      title={HINTS[state]}
    >
      <span className="dot" aria-hidden="true" />
      {LABELS[state]}
    </div>
  );
}
