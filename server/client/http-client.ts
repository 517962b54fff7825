/** Minimal HTTP plumbing for the TypeScript client: JSON calls and typed errors. */

export class TributaryClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "TributaryClientError";
  }
}

export async function raiseFor(res: Response): Promise<never> {
  let code = "HTTP_" + res.status;
  let message = res.statusText;
  let details: Record<string, unknown> | undefined;
  try {
    const body = (await res.json()) as { error?: { code: string; message: string; details?: Record<string, unknown> } };
    if (body.error) ({ code, message, details } = body.error);
  } catch {
    // not a JSON error body
  }
  throw new TributaryClientError(res.status, code, message, details);
}

export async function callJson<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) await raiseFor(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}
