// chatwire's HTTP API: bearer token from the app's getter, JSON in and out,
// and the contract's error shape turned into a ChatwireError.
/** A failed API call. `status` is 0 when the request never got an answer. */
export class ChatwireError extends Error {
    constructor(status, code, message, fields, requestId) {
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
    get retryable() {
        return this.status === 0 || this.status >= 500 || this.status === 429;
    }
}
export class Api {
    constructor(baseUrl, getToken, fetchFn) {
        this.baseUrl = baseUrl;
        this.getToken = getToken;
        this.fetchFn = fetchFn;
    }
    get(path, query = {}) {
        const params = new URLSearchParams();
        for (const [name, value] of Object.entries(query)) {
            if (value !== undefined)
                params.set(name, String(value));
        }
        const search = params.toString();
        return this.request('GET', search ? `${path}?${search}` : path);
    }
    post(path, body) {
        return this.request('POST', path, 'application/json', JSON.stringify(body));
    }
    put(path, body) {
        return this.request('PUT', path, 'application/json', JSON.stringify(body));
    }
    /** postForm sends a form, as `/api/pusher/auth` takes it. */
    postForm(path, form) {
        return this.request('POST', path, 'application/x-www-form-urlencoded', new URLSearchParams(form).toString());
    }
    async request(method, path, contentType, body) {
        const headers = { Accept: 'application/json' };
        // A token is fetched per request, so the app's getter can refresh it.
        const token = await this.getToken();
        if (token)
            headers.Authorization = `Bearer ${token}`;
        if (contentType)
            headers['Content-Type'] = contentType;
        let res;
        try {
            res = await this.fetchFn(this.baseUrl + path, { method, headers, body });
        }
        catch (err) {
            throw new ChatwireError(0, 'network', `${method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
        }
        const text = await res.text().catch(() => '');
        let parsed;
        try {
            parsed = text ? JSON.parse(text) : undefined;
        }
        catch {
            parsed = undefined;
        }
        if (!res.ok) {
            const error = parsed?.error;
            throw new ChatwireError(res.status, error?.code ?? 'http_' + res.status, error?.message ?? `${method} ${path}: HTTP ${res.status}`, error?.fields, error?.request_id ?? res.headers.get('X-Request-Id') ?? undefined);
        }
        return parsed;
    }
}
