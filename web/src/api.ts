// REST calls to Herald's services, all through the page's own origin (the gateway).
// The token lives in memory only and goes out as a Bearer header.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

// What went wrong, for people: the one way a caught failure becomes text on the page.
export function errorText(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}

// FastAPI answers `{"detail": "..."}` or, for validation, `{"detail": [{loc, msg}]}`; a
// refusal the page can act on carries `{"detail": {code, message, ...}}`.
export function describeError(status: number, body: unknown): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return detail;
  if (detail !== null && typeof detail === "object" && !Array.isArray(detail)) {
    const message = (detail as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  if (Array.isArray(detail)) {
    return detail
      .map((problem: { loc?: unknown[]; msg?: string }) => {
        const where = (problem.loc ?? []).filter((p) => p !== "body").join(" › ");
        return where ? `${where}: ${problem.msg ?? "invalid"}` : (problem.msg ?? "invalid");
      })
      .join("; ");
  }
  return `the server answered ${status}`;
}

type Query = Record<string, string | number | undefined | null>;

export class Api {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: () => void,
  ) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>("GET", path, undefined, {}, query);
  }

  post<T>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.request<T>("POST", path, body, headers);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, body, {});
  }

  // For answers whose headers matter too (Idempotent-Replayed).
  async postForResponse<T>(
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ body: T; headers: Headers }> {
    const response = await this.send("POST", path, body, headers, "application/json");
    return { body: await parse<T>(response, this.onUnauthorized), headers: response.headers };
  }

  // A file the server builds (a CSV): the whole body as a Blob, with the name it suggests.
  async download(
    path: string,
    body: unknown,
    accept: string,
    method: "GET" | "POST" = "POST",
  ): Promise<{ blob: Blob; filename: string | null }> {
    const response = await this.send(method, path, body, {}, accept);
    if (!response.ok) await parse<never>(response, this.onUnauthorized);
    return {
      blob: await response.blob(),
      filename: filenameOf(response.headers.get("Content-Disposition")),
    };
  }

  private async request<T>(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    query: Query = {},
  ): Promise<T> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
    }
    const url = params.size > 0 ? `${path}?${params.toString()}` : path;
    const response = await this.send(method, url, body, headers, "application/json");
    return parse<T>(response, this.onUnauthorized);
  }

  private send(
    method: string,
    url: string,
    body: unknown,
    headers: Record<string, string>,
    accept: string,
  ): Promise<Response> {
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
export function filenameOf(disposition: string | null): string | null {
  const match = disposition?.match(/filename="?([^";]+)"?/i);
  return match?.[1]?.trim() || null;
}

export async function parse<T>(response: Response, onUnauthorized?: () => void): Promise<T> {
  const text = await response.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = { detail: text };
    }
  }
  if (!response.ok) {
    if (response.status === 401) onUnauthorized?.();
    throw new ApiError(response.status, describeError(response.status, body), body);
  }
  return body as T;
}

// Calls made before anyone is signed in (dev sign-in only).
export async function anonymous<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: {
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return parse<T>(response);
}
