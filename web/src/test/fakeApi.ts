// An Api whose answers the test gives, call by call, in any order: what a hook asked is
// in `calls`, and `answer`/`fail` settle an open call to a path (the oldest, or the nth).
// Both resolve once the callbacks waiting on that answer have run, so
// `await act(() => server.answer(...))` shows the page after the answer.

import type { Api } from "../api";

export interface Call {
  method: "GET" | "POST" | "PUT";
  path: string;
  query: Record<string, unknown>;
  body: unknown;
  headers: Record<string, string>;
  settled: boolean;
  resolve: (value: unknown) => void;
  reject: (failure: unknown) => void;
}

// A few turns of the microtask queue: long enough for a chain of .then callbacks.
export async function flush(): Promise<void> {
  for (let turn = 0; turn < 10; turn += 1) await Promise.resolve();
}

export class FakeApi {
  readonly calls: Call[] = [];
  readonly api: Api;

  constructor() {
    const call = (
      method: Call["method"],
      path: string,
      detail: Partial<Pick<Call, "query" | "body" | "headers">>,
    ) =>
      new Promise((resolve, reject) => {
        this.calls.push({
          method,
          path,
          query: detail.query ?? {},
          body: detail.body,
          headers: detail.headers ?? {},
          settled: false,
          resolve,
          reject,
        });
      });
    const fake = {
      get: (path: string, query: Record<string, unknown> = {}) => call("GET", path, { query }),
      post: (path: string, body?: unknown, headers: Record<string, string> = {}) =>
        call("POST", path, { body, headers }),
      put: (path: string, body: unknown) => call("PUT", path, { body }),
      download: (path: string, body: unknown) =>
        call(body === undefined ? "GET" : "POST", path, { body }),
      postForResponse: (path: string, body: unknown, headers: Record<string, string> = {}) =>
        call("POST", path, { body, headers }),
    };
    this.api = fake as unknown as Api;
  }

  open(path?: string): Call[] {
    return this.calls.filter((c) => !c.settled && (path === undefined || c.path === path));
  }

  answer(path: string, value: unknown, nth = 0): Promise<void> {
    this.take(path, nth).resolve(value);
    return flush();
  }

  fail(path: string, failure: unknown, nth = 0): Promise<void> {
    this.take(path, nth).reject(failure);
    return flush();
  }

  private take(path: string, nth: number): Call {
    const call = this.open(path)[nth];
    if (call === undefined) throw new Error(`no open call ${nth} to ${path}`);
    call.settled = true;
    return call;
  }
}
