// An EventSource stand-in: the test sends what the notifier would, and breaks the
// connection the ways a browser sees it break.
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;
export class FakeEventSource {
    url;
    readyState = CONNECTING;
    onopen = null;
    onerror = null;
    closed = false;
    listeners = new Map();
    constructor(url) {
        this.url = url;
    }
    addEventListener(type, listener) {
        this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    }
    close() {
        this.closed = true;
        this.readyState = CLOSED;
    }
    // What the notifier sends: `event:`, optional `id:`, `data:`.
    emit(type, data, lastEventId = "") {
        this.readyState = OPEN;
        const event = { data: JSON.stringify(data), lastEventId };
        for (const listener of this.listeners.get(type) ?? [])
            listener(event);
    }
    notification(id, title = `Item ${id}`) {
        this.emit("herald.voucher.allocated", { specversion: "1.0", id: String(id), type: "herald.voucher.allocated", data: { title } }, String(id));
    }
    unread(count) {
        this.emit("unread-count", { unread: count });
    }
    // The connection dropped; the browser will reconnect by itself.
    drop() {
        this.readyState = CONNECTING;
        this.onerror?.(new Event("error"));
    }
    // A non-200 answer: the browser gives up on this EventSource.
    refuse() {
        this.readyState = CLOSED;
        this.onerror?.(new Event("error"));
    }
}
