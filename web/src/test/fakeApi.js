// An Api whose answers the test gives, call by call, in any order: what a hook asked is
// in `calls`, and `answer`/`fail` settle an open call to a path (the oldest, or the nth).
// Both resolve once the callbacks waiting on that answer have run, so
// `await act(() => server.answer(...))` shows the page after the answer.
// A few turns of the microtask queue: long enough for a chain of .then callbacks.
export async function flush() {
    for (let turn = 0; turn < 10; turn += 1)
        await Promise.resolve();
}
export class FakeApi {
    calls = [];
    api;
    constructor() {
        const call = (method, path, detail) => new Promise((resolve, reject) => {
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
            get: (path, query = {}) => call("GET", path, { query }),
            post: (path, body, headers = {}) => call("POST", path, { body, headers }),
            postForResponse: (path, body, headers = {}) => call("POST", path, { body, headers }),
        };
        this.api = fake;
    }
    open(path) {
        return this.calls.filter((c) => !c.settled && (path === undefined || c.path === path));
    }
    answer(path, value, nth = 0) {
        this.take(path, nth).resolve(value);
        return flush();
    }
    fail(path, failure, nth = 0) {
        this.take(path, nth).reject(failure);
        return flush();
    }
    take(path, nth) {
        const call = this.open(path)[nth];
        if (call === undefined)
            throw new Error(`no open call ${nth} to ${path}`);
        call.settled = true;
        return call;
    }
}
