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

export type ConnectionState = "connecting" | "live" | "reconnecting" | "caught-up" | "closed";

export const UNREAD_COUNT = "unread-count";
export const RESET = "reset";
export const TOKEN_EXPIRED = "token-expired";
export const ALLOCATION_PROGRESS = "herald.allocation.progress";
export const ALLOCATION_COMPLETED = "herald.allocation.completed";
export const ALLOCATION_DELIVERED = "herald.allocation.delivered";
// A step before the inserter has it: approved, rejected, scheduled, cancelled, expired.
export const ALLOCATION_STATUS = "herald.allocation.status";
// An item read, unread, archived or unarchived elsewhere: {id, read, archived}.
export const NOTIFICATION_STATE = "notification-state";
// Everything up to an id read elsewhere ("Mark all as read"): {up_to}.
export const NOTIFICATIONS_READ_ALL = "notifications-read-all";

// Frames that are not inbox items: they carry no notification id.
const CONTROL_TYPES = new Set([
  UNREAD_COUNT,
  NOTIFICATION_STATE,
  NOTIFICATIONS_READ_ALL,
  RESET,
  TOKEN_EXPIRED,
  ALLOCATION_PROGRESS,
  ALLOCATION_COMPLETED,
  ALLOCATION_DELIVERED,
  ALLOCATION_STATUS,
]);

export const STREAM_EVENT_TYPES = [
  "herald.voucher.allocated",
  "herald.notification.pushed",
  "herald.allocation.summary",
  "herald.voucher.revoked",
  "herald.revocation.summary",
  ALLOCATION_PROGRESS,
  ALLOCATION_COMPLETED,
  ALLOCATION_DELIVERED,
  ALLOCATION_STATUS,
  UNREAD_COUNT,
  NOTIFICATION_STATE,
  NOTIFICATIONS_READ_ALL,
  RESET,
  TOKEN_EXPIRED,
];

export interface StreamEvent {
  type: string;
  // The notification id for inbox items; null for control frames.
  id: number | null;
  data: unknown;
}

// The part of EventSource this client uses, so tests can hand it a fake.
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  close(): void;
}

export type EventSourceFactory = (url: string) => EventSourceLike;

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export interface StreamOptions {
  onEvent: (event: StreamEvent) => void;
  onState?: (state: ConnectionState) => void;
  onReset?: () => void;
  // After the stream (re)opened and the replay is done: the moment to refresh anything
  // that is not replayed, such as an allocation's counts.
  onCaughtUp?: () => void;
  // After `token-expired`, before the new stream: fresh credentials for it (a rejection
  // means none could be had; the client then retries with its backoff).
  renewCredentials?: () => Promise<void>;
  path?: string;
  eventTypes?: string[];
  createEventSource?: EventSourceFactory;
  backoff?: Backoff;
  random?: () => number;
  // How long "caught up" shows after a reconnect before it turns back into "live".
  caughtUpMs?: number;
  // How many notification ids are remembered for de-duplication.
  rememberIds?: number;
}

const CLOSED = 2;
const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 8000, factor: 2 };

export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** attempt);
  // Between half and all of the ceiling, so many tabs do not come back in one burst.
  return Math.round(ceiling * (0.5 + random() / 2));
}

export function notificationId(type: string, data: unknown): number | null {
  if (CONTROL_TYPES.has(type) || typeof data !== "object" || data === null) return null;
  const id = (data as { id?: unknown }).id;
  if (typeof id !== "string" || !/^[0-9]{1,19}$/.test(id)) return null;
  return Number(id);
}

export class StreamClient {
  private readonly options: StreamOptions;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private readonly createEventSource: EventSourceFactory;
  private readonly rememberIds: number;
  private source: EventSourceLike | null = null;
  private channels: string[] = [];
  private lastId = 0;
  private readonly seenIds = new Set<number>();
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private caughtUpTimer: ReturnType<typeof setTimeout> | null = null;
  private currentState: ConnectionState = "closed";
  // Whether the current connection has delivered its first unread count (the end of replay).
  private settled = false;
  // Whether this client ever lost a connection, so the next settle is a "caught up".
  private recovering = false;
  private running = false;

  constructor(options: StreamOptions) {
    this.options = options;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.random = options.random ?? Math.random;
    this.rememberIds = options.rememberIds ?? 5000;
    this.createEventSource =
      options.createEventSource ?? ((url) => new EventSource(url));
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  get lastEventId(): number {
    return this.lastId;
  }

  get url(): string {
    const params = new URLSearchParams();
    if (this.channels.length > 0) params.set("channels", this.channels.join(","));
    params.set("last_event_id", String(this.lastId));
    return `${this.options.path ?? "/v1/stream"}?${params.toString()}`;
  }

  // Open the stream, replaying everything after `lastEventId` (the newest inbox item the
  // page loaded over REST, or 0 for an empty inbox).
  start(lastEventId: number, channels: string[] = []): void {
    this.lastId = Math.max(this.lastId, lastEventId);
    this.channels = [...channels].sort();
    this.running = true;
    this.connect("connecting");
  }

  // A different set of channels needs a new stream; nothing is lost, the replay covers it.
  setChannels(channels: string[]): void {
    const next = [...channels].sort();
    if (next.join(",") === this.channels.join(",")) return;
    this.channels = next;
    if (this.running) this.connect("connecting");
  }

  // Seen ids are remembered, so items loaded over REST are not shown twice either.
  remember(id: number): boolean {
    if (this.seenIds.has(id)) return false;
    this.seenIds.add(id);
    if (this.seenIds.size > this.rememberIds) {
      const oldest = this.seenIds.values().next().value;
      if (oldest !== undefined) this.seenIds.delete(oldest);
    }
    this.lastId = Math.max(this.lastId, id);
    return true;
  }

  // Come back now instead of waiting for the backoff (e.g. the browser went online).
  retryNow(): void {
    if (this.running && this.retryTimer !== null) {
      this.clearRetry();
      this.connect("reconnecting");
    }
  }

  stop(): void {
    this.running = false;
    this.clearRetry();
    this.clearCaughtUp();
    this.closeSource();
    this.setState("closed");
  }

  private connect(state: ConnectionState): void {
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

  private failed(source: EventSourceLike): void {
    if (source !== this.source) return;
    this.interrupted();
    if (source.readyState !== CLOSED) return; // the browser reconnects by itself
    // Closed for good (a non-200 answer): a new EventSource, after a pause.
    this.closeSource();
    this.retryLater();
  }

  // The stream's token expired and the server ended it: the browser's own reconnect
  // would send the same expired credentials, so this client reconnects, once renewed.
  private renew(): void {
    this.closeSource();
    this.interrupted();
    const renewed = this.options.renewCredentials?.() ?? Promise.resolve();
    const reconnect = (now: boolean) => {
      // Unless stopped meanwhile, or already reconnected (other channels asked for).
      if (!this.running || this.source !== null || this.retryTimer !== null) return;
      if (now) this.connect("reconnecting");
      else this.retryLater();
    };
    renewed.then(
      () => reconnect(true),
      () => reconnect(false),
    );
  }

  private interrupted(): void {
    this.recovering = true;
    this.settled = false;
    this.clearCaughtUp();
    this.setState("reconnecting");
  }

  private retryLater(): void {
    const delay = backoffDelay(this.attempt, this.backoff, this.random);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.running) this.connect("reconnecting");
    }, delay);
  }

  private received(source: EventSourceLike, type: string, event: MessageEvent<string>): void {
    if (source !== this.source) return;
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // not ours to show
    }
    if (type === TOKEN_EXPIRED) {
      this.renew();
      return;
    }
    if (type === UNREAD_COUNT && !this.settled) this.settle();
    if (type === RESET) {
      const latest = Number(event.lastEventId);
      if (Number.isSafeInteger(latest)) this.lastId = Math.max(this.lastId, latest);
      this.options.onReset?.();
      return;
    }
    const id = notificationId(type, data);
    if (id !== null && !this.remember(id)) return; // a duplicate
    this.options.onEvent({ type, id, data });
  }

  private settle(): void {
    this.settled = true;
    this.attempt = 0;
    if (this.recovering) {
      this.recovering = false;
      this.setState("caught-up");
      this.caughtUpTimer = setTimeout(() => {
        this.caughtUpTimer = null;
        if (this.currentState === "caught-up") this.setState("live");
      }, this.options.caughtUpMs ?? 4000);
    } else {
      this.setState("live");
    }
    this.options.onCaughtUp?.();
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.options.onState?.(state);
  }

  private closeSource(): void {
    if (this.source !== null) {
      this.source.onerror = null;
      this.source.close();
      this.source = null;
    }
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
  }

  private clearCaughtUp(): void {
    if (this.caughtUpTimer !== null) {
      clearTimeout(this.caughtUpTimer);
      this.caughtUpTimer = null;
    }
  }
}
