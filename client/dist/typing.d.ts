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
/** TypingSender turns keystrokes into throttled `POST /api/typing` calls. */
export declare class TypingSender {
    private readonly clock;
    private readonly timings;
    private readonly send;
    private lastStartAt;
    private active;
    private stopTimer;
    constructor(clock: Clock, timings: TypingTimings, send: (typing: boolean) => void);
    /** keystroke is called on every input; repeated starts keep remote indicators alive. */
    keystroke(): void;
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
