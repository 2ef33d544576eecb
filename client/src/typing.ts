// Typing indicators, both ways. Sending is throttled and stops by itself;
// remote indicators expire by themselves, since a `typing-stop` can be lost
// (a closed tab, a dropped connection) and must not leave "Ana is typing…" forever.

import type { Clock, TypingUser } from './types.js';

export interface TypingTimings {
  /** At most one `typing:true` per this many ms (the server allows one per second). */
  startIntervalMs: number;
  /** A `typing:false` is sent after this long without a keystroke. */
  stopAfterMs: number;
  /** A remote indicator disappears this long after its last `typing-start`. */
  remoteExpiryMs: number;
}

export const defaultTypingTimings: TypingTimings = {
  startIntervalMs: 1000,
  stopAfterMs: 3000,
  remoteExpiryMs: 5000,
};

/**
 * TypingSender turns keystrokes into throttled `POST /api/typing` calls.
 * `send` resolves with the server's `retry_after_ms` when it refused a start
 * (another tab or a stop-then-start within a second): the start is then sent
 * once more after that wait if the user is still typing, so the indicator is
 * never held back until some later keystroke.
 */
export class TypingSender {
  private lastStartAt = -Infinity;
  private active = false;
  private stopTimer: unknown = undefined;
  private retryTimer: unknown = undefined;

  constructor(
    private readonly clock: Clock,
    private readonly timings: TypingTimings,
    private readonly send: (typing: boolean) => Promise<number | undefined> | void,
  ) {}

  /** keystroke is called on every input; repeated starts keep remote indicators alive. */
  keystroke(): void {
    const now = this.clock.now();
    if (now - this.lastStartAt >= this.timings.startIntervalMs) {
      this.start(now);
    }
    this.active = true;
    this.clock.clearTimeout(this.stopTimer);
    this.stopTimer = this.clock.setTimeout(() => this.stop(), this.timings.stopAfterMs);
  }

  private start(now: number): void {
    this.lastStartAt = now;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.send(true)?.then((retryAfterMs) => {
      if (!retryAfterMs || !this.active || this.retryTimer !== undefined) return;
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        if (this.active) this.start(this.clock.now());
      }, retryAfterMs);
    });
  }

  /** stop sends `typing:false` if a start was sent since the last stop. */
  stop(): void {
    this.clock.clearTimeout(this.stopTimer);
    this.stopTimer = undefined;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!this.active) return;
    this.active = false;
    // The next keystroke must announce itself at once, not after the interval.
    this.lastStartAt = -Infinity;
    this.send(false);
  }
}

/** RemoteTyping is the list of other users typing in one chat. */
export class RemoteTyping {
  private readonly timers = new Map<string, unknown>();
  private users: TypingUser[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly expiryMs: number,
    private readonly onChange: (users: TypingUser[]) => void,
  ) {}

  start(user: TypingUser): void {
    this.clock.clearTimeout(this.timers.get(user.user_id));
    this.timers.set(user.user_id, this.clock.setTimeout(() => this.stop(user.user_id), this.expiryMs));
    if (!this.users.some((u) => u.user_id === user.user_id)) {
      this.update([...this.users, { user_id: user.user_id, name: user.name }]);
    }
  }

  stop(userId: string): void {
    this.clock.clearTimeout(this.timers.get(userId));
    this.timers.delete(userId);
    if (this.users.some((u) => u.user_id === userId)) {
      this.update(this.users.filter((u) => u.user_id !== userId));
    }
  }

  dispose(): void {
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
  }

  private update(users: TypingUser[]): void {
    this.users = users;
    this.onChange(users);
  }
}
