// One Server-Sent Events stream per tab, with every channel the page needs on it.
//
// - Resumes where it left off: the id of the newest notification it has seen is sent as
//   `last_event_id` when it opens a stream (the browser adds Last-Event-ID on its own
//   reconnects), and the notifier replays the gap from the inbox.
// - Drops duplicates by notification id (a replay may resend what arrived live).
// - A non-200 answer (the gateway's 502 while the notifier restarts, a 429, ...) closes an
//   EventSource for good: it is recreated with exponential backoff and jitter.
// - `reset` means "too much was missed to replay": the page reloads its inbox over REST.
// - `token-expired` ends a stream whose token expired: the client renews its credentials
//   (`renewCredentials`, e.g. a new session cookie) and opens a new stream from where it was.
export const UNREAD_COUNT = "unread-count";
export const RESET = "reset";
export const TOKEN_EXPIRED = "token-expired";
export const ALLOCATION_PROGRESS = "herald.allocation.progress";
export const ALLOCATION_COMPLETED = "herald.allocation.completed";
export const ALLOCATION_DELIVERED = "herald.allocation.delivered";
// Frames that are not inbox items: they carry no notification id.
const CONTROL_TYPES = new Set([
    UNREAD_COUNT,
    RESET,
    TOKEN_EXPIRED,
    ALLOCATION_PROGRESS,
    ALLOCATION_COMPLETED,
    ALLOCATION_DELIVERED,
]);
export const STREAM_EVENT_TYPES = [
    "herald.voucher.allocated",
    "herald.notification.pushed",
    "herald.allocation.summary",
    "herald.voucher.revoked",
    ALLOCATION_PROGRESS,
    ALLOCATION_COMPLETED,
    ALLOCATION_DELIVERED,
    UNREAD_COUNT,
    RESET,
    TOKEN_EXPIRED,
];
const CLOSED = 2;
const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 8000, factor: 2 };
export function backoffDelay(attempt, backoff, random) {
    const ceiling = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** attempt);
    // Between half and all of the ceiling, so many tabs do not come back in one burst.
    return Math.round(ceiling * (0.5 + random() / 2));
}
export function notificationId(type, data) {
    if (CONTROL_TYPES.has(type) || typeof data !== "object" || data === null)
        return null;
    const id = data.id;
    if (typeof id !== "string" || !/^[0-9]{1,19}$/.test(id))
        return null;
    return Number(id);
}
export class StreamClient {
    options;
    backoff;
    random;
    createEventSource;
    rememberIds;
    source = null;
    channels = [];
    lastId = 0;
    seenIds = new Set();
    attempt = 0;
    retryTimer = null;
    caughtUpTimer = null;
    currentState = "closed";
    // Whether the current connection has delivered its first unread count (the end of replay).
    settled = false;
    // Whether this client ever lost a connection, so the next settle is a "caught up".
    recovering = false;
    running = false;
    constructor(options) {
        this.options = options;
        this.backoff = options.backoff ?? DEFAULT_BACKOFF;
        this.random = options.random ?? Math.random;
        this.rememberIds = options.rememberIds ?? 5000;
        this.createEventSource =
            options.createEventSource ?? ((url) => new EventSource(url));
    }
    get state() {
        return this.currentState;
    }
    get lastEventId() {
        return this.lastId;
    }
    get url() {
        const params = new URLSearchParams();
        if (this.channels.length > 0)
            params.set("channels", this.channels.join(","));
        params.set("last_event_id", String(this.lastId));
        return `${this.options.path ?? "/v1/stream"}?${params.toString()}`;
    }
    // Open the stream, replaying everything after `lastEventId` (the newest inbox item the
    // page loaded over REST, or 0 for an empty inbox).
    start(lastEventId, channels = []) {
        this.lastId = Math.max(this.lastId, lastEventId);
        this.channels = [...channels].sort();
        this.running = true;
        this.connect("connecting");
    }
    // A different set of channels needs a new stream; nothing is lost, the replay covers it.
    setChannels(channels) {
        const next = [...channels].sort();
        if (next.join(",") === this.channels.join(","))
            return;
        this.channels = next;
        if (this.running)
            this.connect("connecting");
    }
    // Seen ids are remembered, so items loaded over REST are not shown twice either.
    remember(id) {
        if (this.seenIds.has(id))
            return false;
        this.seenIds.add(id);
        if (this.seenIds.size > this.rememberIds) {
            const oldest = this.seenIds.values().next().value;
            if (oldest !== undefined)
                this.seenIds.delete(oldest);
        }
        this.lastId = Math.max(this.lastId, id);
        return true;
    }
    // Come back now instead of waiting for the backoff (e.g. the browser went online).
    retryNow() {
        if (this.running && this.retryTimer !== null) {
            this.clearRetry();
            this.connect("reconnecting");
        }
    }
    stop() {
        this.running = false;
        this.clearRetry();
        this.clearCaughtUp();
        this.closeSource();
        this.setState("closed");
    }
    connect(state) {
        this.closeSource();
        this.clearRetry();
        this.settled = false;
        this.setState(this.recovering ? "reconnecting" : state);
        const source = this.createEventSource(this.url);
        this.source = source;
        source.onerror = () => this.failed(source);
        for (const type of this.options.eventTypes ?? STREAM_EVENT_TYPES) {
            source.addEventListener(type, (event) => this.received(source, type, event));
        }
    }
    failed(source) {
        if (source !== this.source)
            return;
        this.interrupted();
        if (source.readyState !== CLOSED)
            return; // the browser reconnects by itself
        // Closed for good (a non-200 answer): a new EventSource, after a pause.
        this.closeSource();
        this.retryLater();
    }
    // The stream's token expired and the server ended it: the browser's own reconnect
    // would send the same expired credentials, so this client reconnects, once renewed.
    renew() {
        this.closeSource();
        this.interrupted();
        const renewed = this.options.renewCredentials?.() ?? Promise.resolve();
        const reconnect = (now) => {
            // Unless stopped meanwhile, or already reconnected (other channels asked for).
            if (!this.running || this.source !== null || this.retryTimer !== null)
                return;
            if (now)
                this.connect("reconnecting");
            else
                this.retryLater();
        };
        renewed.then(() => reconnect(true), () => reconnect(false));
    }
    interrupted() {
        this.recovering = true;
        this.settled = false;
        this.clearCaughtUp();
        this.setState("reconnecting");
    }
    retryLater() {
        const delay = backoffDelay(this.attempt, this.backoff, this.random);
        this.attempt += 1;
        this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            if (this.running)
                this.connect("reconnecting");
        }, delay);
    }
    received(source, type, event) {
        if (source !== this.source)
            return;
        let data;
        try {
            data = JSON.parse(event.data);
        }
        catch {
            return; // not ours to show
        }
        if (type === TOKEN_EXPIRED) {
            this.renew();
            return;
        }
        if (type === UNREAD_COUNT && !this.settled)
            this.settle();
        if (type === RESET) {
            const latest = Number(event.lastEventId);
            if (Number.isSafeInteger(latest))
                this.lastId = Math.max(this.lastId, latest);
            this.options.onReset?.();
            return;
        }
        const id = notificationId(type, data);
        if (id !== null && !this.remember(id))
            return; // a duplicate
        this.options.onEvent({ type, id, data });
    }
    settle() {
        this.settled = true;
        this.attempt = 0;
        if (this.recovering) {
            this.recovering = false;
            this.setState("caught-up");
            this.caughtUpTimer = setTimeout(() => {
                this.caughtUpTimer = null;
                if (this.currentState === "caught-up")
                    this.setState("live");
            }, this.options.caughtUpMs ?? 4000);
        }
        else {
            this.setState("live");
        }
        this.options.onCaughtUp?.();
    }
    setState(state) {
        if (state === this.currentState)
            return;
        this.currentState = state;
        this.options.onState?.(state);
    }
    closeSource() {
        if (this.source !== null) {
            this.source.onerror = null;
            this.source.close();
            this.source = null;
        }
    }
    clearRetry() {
        if (this.retryTimer !== null) {
            clearTimeout(this.retryTimer);
            this.retryTimer = null;
        }
    }
    clearCaughtUp() {
        if (this.caughtUpTimer !== null) {
            clearTimeout(this.caughtUpTimer);
            this.caughtUpTimer = null;
        }
    }
}
