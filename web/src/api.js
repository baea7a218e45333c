// REST calls to Herald's services, all through the page's own origin (the gateway).
// The token lives in memory only and goes out as a Bearer header.
export class ApiError extends Error {
    status;
    body;
    constructor(status, message, body) {
        super(message);
        this.status = status;
        this.body = body;
    }
}
// What went wrong, for people: the one way a caught failure becomes text on the page.
export function errorText(failure) {
    return failure instanceof Error ? failure.message : String(failure);
}
// FastAPI answers `{"detail": "..."}` or, for validation, `{"detail": [{loc, msg}]}`; a
// refusal the page can act on carries `{"detail": {code, message, ...}}`.
export function describeError(status, body) {
    const detail = body?.detail;
    if (typeof detail === "string")
        return detail;
    if (detail !== null && typeof detail === "object" && !Array.isArray(detail)) {
        const message = detail.message;
        if (typeof message === "string")
            return message;
    }
    if (Array.isArray(detail)) {
        return detail
            .map((problem) => {
            const where = (problem.loc ?? []).filter((p) => p !== "body").join(" › ");
            return where ? `${where}: ${problem.msg ?? "invalid"}` : (problem.msg ?? "invalid");
        })
            .join("; ");
    }
    return `the server answered ${status}`;
}
export class Api {
    token;
    onUnauthorized;
    constructor(token, onUnauthorized) {
        this.token = token;
        this.onUnauthorized = onUnauthorized;
    }
    get(path, query = {}) {
        return this.request("GET", path, undefined, {}, query);
    }
    post(path, body, headers = {}) {
        return this.request("POST", path, body, headers);
    }
    // For answers whose headers matter too (Idempotent-Replayed).
    async postForResponse(path, body, headers = {}) {
        const response = await this.send("POST", path, body, headers, "application/json");
        return { body: await parse(response, this.onUnauthorized), headers: response.headers };
    }
    // A file the server builds (a CSV): the whole body as a Blob, with the name it suggests.
    async download(path, body, accept) {
        const response = await this.send("POST", path, body, {}, accept);
        if (!response.ok)
            await parse(response, this.onUnauthorized);
        return {
            blob: await response.blob(),
            filename: filenameOf(response.headers.get("Content-Disposition")),
        };
    }
    async request(method, path, body, headers, query = {}) {
        const params = new URLSearchParams();
        for (const [name, value] of Object.entries(query)) {
            if (value !== undefined && value !== null && value !== "")
                params.set(name, String(value));
        }
        const url = params.size > 0 ? `${path}?${params.toString()}` : path;
        const response = await this.send(method, url, body, headers, "application/json");
        return parse(response, this.onUnauthorized);
    }
    send(method, url, body, headers, accept) {
        return fetch(url, {
            method,
            headers: {
                Accept: accept,
                Authorization: `Bearer ${this.token}`,
                ...(body === undefined ? {} : { "Content-Type": "application/json" }),
                ...headers,
            },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
    }
}
// `attachment; filename="recipients.csv"` → recipients.csv (plain filename= only).
export function filenameOf(disposition) {
    const match = disposition?.match(/filename="?([^";]+)"?/i);
    return match?.[1]?.trim() || null;
}
export async function parse(response, onUnauthorized) {
    const text = await response.text();
    let body = null;
    if (text) {
        try {
            body = JSON.parse(text);
        }
        catch {
            body = { detail: text };
        }
    }
    if (!response.ok) {
        if (response.status === 401)
            onUnauthorized?.();
        throw new ApiError(response.status, describeError(response.status, body), body);
    }
    return body;
}
// Calls made before anyone is signed in (dev sign-in only).
export async function anonymous(method, path, body) {
    const response = await fetch(path, {
        method,
        headers: {
            Accept: "application/json",
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    return parse(response);
}
