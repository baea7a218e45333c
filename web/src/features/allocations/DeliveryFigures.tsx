// How an allocation reached people, for HR: delivered live, waiting in the inbox, read;
// refreshed while open, with the per-recipient list as CSV. Open from the start (HR opens
// an allocation's progress to see how it reached people); closing it stops the polling.

import { useState } from "react";

import { type Api, errorText } from "../../api";
import { formatCount, formatTime } from "../../format";
import { downloadDeliveries, useDeliveries } from "./useDeliveries";

function Figure({ label, value, testId }: { label: string; value: number; testId: string }) {
  return (
    <div className="figure">
      <span className="figure-label">{label}</span>
      <span className="figure-value" data-testid={testId}>
        {formatCount(value)}
      </span>
    </div>
  );
}

interface Props {
  api: Api;
  allocationId: string;
  // Delivered live as the allocation's frames count it: a change fetches the figures soon.
  deliveredLive: number;
}

export function DeliveryFigures({ api, allocationId, deliveredLive }: Props) {
  const [open, setOpen] = useState(true);
  return (
    <section className="deliveries" aria-labelledby="deliveries-title" data-testid="deliveries">
      <h3 id="deliveries-title" className="subhead">
        <button
          type="button"
          className="link disclosure"
          aria-expanded={open}
          onClick={() => setOpen((was) => !was)}
        >
          Delivery figures
        </button>
      </h3>
      {open && (
        <Figures api={api} allocationId={allocationId} deliveredLive={deliveredLive} />
      )}
    </section>
  );
}

function Figures({ api, allocationId, deliveredLive }: Props) {
  const { value, error, receivedAt } = useDeliveries(api, allocationId, deliveredLive);
  const [download, setDownload] = useState<string | null>(null);
  const save = () => {
    setDownload(null);
    downloadDeliveries(api, allocationId).catch((failure: unknown) =>
      setDownload(errorText(failure)),
    );
  };
  return (
    <>
      {error && (
        <p className="error" role="alert">
          Could not load the delivery figures: {error}
        </p>
      )}
      {value === null && !error && <p aria-busy="true">Loading the delivery figures…</p>}
      {value !== null && (
        <>
          <div className="figures" aria-live="polite">
            <Figure label="Delivered live" value={value.delivered_live} testId="delivered-live" />
            <Figure
              label="Waiting in the inbox"
              value={value.waiting_in_inbox}
              testId="waiting-in-inbox"
            />
            <Figure label="Read" value={value.read} testId="read" />
            <Figure label="Recipients" value={value.total} testId="delivery-total" />
          </div>
          {receivedAt !== null && (
            <p className="fineprint">Updated {formatTime(new Date(receivedAt).toISOString())}.</p>
          )}
        </>
      )}
      <button type="button" className="secondary" onClick={save}>
        Download the delivery list (CSV)
      </button>
      {download && (
        <p className="error" role="alert">
          Could not download the list: {download}
        </p>
      )}
    </>
  );
}
