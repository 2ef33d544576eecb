// chatwire's HTTP API: bearer token from the app's getter, JSON in and out,
// and the contract's error shape turned into a ChatwireError.

/** A failed API call. `status` is 0 when the request never got an answer. */
export class ChatwireError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string> | undefined;
  readonly requestId: string | undefined;
  /** The offline queue's message this error is about, if any. */
  clientId?: string;

  constructor(status: number, code: string, message: string, fields?: Record<string, string>, requestId?: string) {
    super(message);
    this.name = 'ChatwireError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.requestId = requestId;
  }

  /**
   * Whether the same request may succeed later: no answer at all, a 5xx or a
   * 429. Any other 4xx will be refused again.
   */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

export type TokenGetter = () => string | null | undefined | Promise<string | null | undefined>;
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

interface ErrorBody {
  error?: { code?: string; message?: string; fields?: Record<string, string>; request_id?: string };
}

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly getToken: TokenGetter,
    private readonly fetchFn: FetchLike,
  ) {}

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) params.set(name, String(value));
    }
    const search = params.toString();
    return this.request<T>('GET', search ? `${path}?${search}` : path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, 'application/json', JSON.stringify(body));
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, 'application/json', JSON.stringify(body));
  }

  /** postForm sends a form, as `/api/pusher/auth` takes it. */
  postForm<T>(path: string, form: Record<string, string>): Promise<T> {
    return this.request<T>('POST', path, 'application/x-www-form-urlencoded', new URLSearchParams(form).toString());
  }

  private async request<T>(method: string, path: string, contentType?: string, body?: string): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    // A token is fetched per request, so the app's getter can refresh it.
    const token = await this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (contentType) headers['Content-Type'] = contentType;
    let res: Response;
    try {
      res = await this.fetchFn(this.baseUrl + path, { method, headers, body });
    } catch (err) {
      throw new ChatwireError(0, 'network', `${method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const error = (parsed as ErrorBody | undefined)?.error;
      throw new ChatwireError(
        res.status,
        error?.code ?? 'http_' + res.status,
        error?.message ?? `${method} ${path}: HTTP ${res.status}`,
        error?.fields,
        error?.request_id ?? res.headers.get('X-Request-Id') ?? undefined,
      );
    }
    return parsed as T;
  }
}
