import { Api, ChatwireError } from './api.js';
import type { Clock } from './types.js';
export declare class ReadReceipts {
    private readonly api;
    private readonly clock;
    private readonly debounceMs;
    private readonly onRead;
    private readonly onError;
    private readonly waiting;
    /** Ids asked for already, so a message on screen is marked once. */
    private readonly asked;
    private timer;
    constructor(api: Api, clock: Clock, debounceMs: number, onRead: (ids: string[], readAt: string) => void, onError: (error: ChatwireError) => void);
    mark(ids: readonly string[]): void;
    /** flush sends what is waiting now, instead of after the quiet period. */
    flush(): Promise<void>;
    dispose(): void;
    private schedule;
}
