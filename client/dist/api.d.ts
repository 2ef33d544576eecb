/** A failed API call. `status` is 0 when the request never got an answer. */
export declare class ChatwireError extends Error {
    readonly status: number;
    readonly code: string;
    readonly fields: Record<string, string> | undefined;
    readonly requestId: string | undefined;
    /** The offline queue's message this error is about, if any. */
    clientId?: string;
    constructor(status: number, code: string, message: string, fields?: Record<string, string>, requestId?: string);
    /**
     * Whether the same request may succeed later: no answer at all, a 5xx or a
     * 429. Any other 4xx will be refused again.
     */
    get retryable(): boolean;
}
export type TokenGetter = () => string | null | undefined | Promise<string | null | undefined>;
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
export declare class Api {
    private readonly baseUrl;
    private readonly getToken;
    private readonly fetchFn;
    constructor(baseUrl: string, getToken: TokenGetter, fetchFn: FetchLike);
    get<T>(path: string, query?: Record<string, string | number | undefined>): Promise<T>;
    post<T>(path: string, body: unknown): Promise<T>;
    put<T>(path: string, body: unknown): Promise<T>;
    /** postForm sends a form, as `/api/pusher/auth` takes it. */
    postForm<T>(path: string, form: Record<string, string>): Promise<T>;
    private request;
}
