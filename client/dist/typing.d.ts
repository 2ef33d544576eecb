import type { Clock, TypingUser } from './types.js';
export interface TypingTimings {
    /** At most one `typing:true` per this many ms (the server allows one per second). */
    startIntervalMs: number;
    /** A `typing:false` is sent after this long without a keystroke. */
    stopAfterMs: number;
    /** A remote indicator disappears this long after its last `typing-start`. */
    remoteExpiryMs: number;
}
export declare const defaultTypingTimings: TypingTimings;
/**
 * TypingSender turns keystrokes into throttled `POST /api/typing` calls.
 * `send` resolves with the server's `retry_after_ms` when it refused a start
 * (another tab or a stop-then-start within a second): the start is then sent
 * once more after that wait if the user is still typing, so the indicator is
 * never held back until some later keystroke.
 */
export declare class TypingSender {
    private readonly clock;
    private readonly timings;
    private readonly send;
    private lastStartAt;
    private active;
    private stopTimer;
    private retryTimer;
    constructor(clock: Clock, timings: TypingTimings, send: (typing: boolean) => Promise<number | undefined> | void);
    /** keystroke is called on every input; repeated starts keep remote indicators alive. */
    keystroke(): void;
    private start;
    /** stop sends `typing:false` if a start was sent since the last stop. */
    stop(): void;
}
/** RemoteTyping is the list of other users typing in one chat. */
export declare class RemoteTyping {
    private readonly clock;
    private readonly expiryMs;
    private readonly onChange;
    private readonly timers;
    private users;
    constructor(clock: Clock, expiryMs: number, onChange: (users: TypingUser[]) => void);
    start(user: TypingUser): void;
    stop(userId: string): void;
    dispose(): void;
    private update;
}
