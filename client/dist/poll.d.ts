import { Api, ChatwireError } from './api.js';
import type { Clock, PollEvent } from './types.js';
export interface PollerOptions {
    intervalMs: number;
    /** Events per request (the server allows 1–500). */
    limit: number;
}
export declare class Poller {
    private readonly api;
    private readonly clock;
    private readonly options;
    private readonly deliver;
    private readonly onError;
    private cursor;
    private running;
    private timer;
    private inFlight;
    private disposed;
    private failed;
    /** Called when `failing` changes. */
    onFailingChange: () => void;
    constructor(api: Api, clock: Clock, options: PollerOptions, deliver: (event: PollEvent) => void, onError: (error: ChatwireError) => void);
    get polling(): boolean;
    /** Whether the last poll request failed (no answer, or an error). */
    get failing(): boolean;
    /** The stored cursor, for tests and diagnostics. */
    get currentCursor(): string | null;
    /**
     * takeCursor asks for the current cursor once, while live delivery works:
     * everything after it will be polled if live delivery stops.
     */
    takeCursor(): Promise<void>;
    /** start polls now and every interval until stop. */
    start(): void;
    stop(): void;
    /**
     * catchUp polls until the server has nothing more, once: after a reconnect
     * it fetches what was committed while neither Pusher nor polling delivered.
     */
    catchUp(): Promise<void>;
    dispose(): void;
    private tick;
    private pollUntilDone;
    private pollPages;
    private setFailed;
    private report;
}
