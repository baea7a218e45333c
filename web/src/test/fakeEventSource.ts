// An EventSource stand-in: the test sends what the notifier would, and breaks the
// connection the ways a browser sees it break.

import type { EventSourceLike } from "../features/stream/StreamClient";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

export class FakeEventSource implements EventSourceLike {
  readyState = CONNECTING;
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private readonly listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = CLOSED;
  }

  // What the notifier sends: `event:`, optional `id:`, `data:`.
  emit(type: string, data: unknown, lastEventId = ""): void {
    this.readyState = OPEN;
    const event = { data: JSON.stringify(data), lastEventId } as MessageEvent<string>;
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  notification(id: number, title = `Item ${id}`): void {
    this.emit(
      "herald.voucher.allocated",
      { specversion: "1.0", id: String(id), type: "herald.voucher.allocated", data: { title } },
      String(id),
    );
  }

  unread(count: number): void {
    this.emit("unread-count", { unread: count });
  }

  // The connection dropped; the browser will reconnect by itself.
  drop(): void {
    this.readyState = CONNECTING;
    this.onerror?.(new Event("error"));
  }

  // A non-200 answer: the browser gives up on this EventSource.
  refuse(): void {
    this.readyState = CLOSED;
    this.onerror?.(new Event("error"));
  }
}
