// The polling fallback: GET /api/messages/poll from a stored cursor. The
// cursor is taken while Pusher is still connected and moved forward by a poll
// now and then while live (see ConnectionMonitor), so when Pusher goes away
// polling starts close to where live delivery may have stopped. Events are
// handed to the same dispatcher as Pusher's, which de-duplicates them by id.

import { Api, ChatwireError } from './api.js';
import type { Clock, PollEvent } from './types.js';

interface PollAnswer {
  events: PollEvent[];
  cursor: string;
  more: boolean;
}

export interface PollerOptions {
  intervalMs: number;
  /** Events per request (the server allows 1–500). */
  limit: number;
}

export class Poller {
  private cursor: string | null = null;
  private running = false;
  private timer: unknown = undefined;
  private inFlight: Promise<void> | null = null;
  private disposed = false;
  private failed = false;
  /** Called when `failing` changes. */
  onFailingChange: () => void = () => {};

  constructor(
    private readonly api: Api,
    private readonly clock: Clock,
    private readonly options: PollerOptions,
    private readonly deliver: (event: PollEvent) => void,
    private readonly onError: (error: ChatwireError) => void,
  ) {}

  get polling(): boolean {
    return this.running;
  }

  /** Whether the last poll request failed (no answer, or an error). */
  get failing(): boolean {
    return this.failed;
  }

  /** The stored cursor, for tests and diagnostics. */
  get currentCursor(): string | null {
    return this.cursor;
  }

  /**
   * takeCursor asks for the current cursor once, while live delivery works:
   * everything after it will be polled if live delivery stops.
   */
  async takeCursor(): Promise<void> {
    if (this.cursor !== null) return;
    try {
      const answer = await this.api.get<PollAnswer>('/api/messages/poll');
      this.cursor ??= answer.cursor;
      this.setFailed(false);
    } catch (err) {
      this.report(err);
    }
  }

  /** start polls now and every interval until stop. */
  start(): void {
    if (this.running || this.disposed) return;
    this.running = true;
    void this.tick();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * catchUp polls until the server has nothing more, once: after a reconnect
   * it fetches what was committed while neither Pusher nor polling delivered.
   */
  catchUp(): Promise<void> {
    return this.pollUntilDone();
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
  }

  private async tick(): Promise<void> {
    await this.pollUntilDone();
    if (this.running && !this.disposed) {
      this.clock.clearTimeout(this.timer);
      this.timer = this.clock.setTimeout(() => void this.tick(), this.options.intervalMs);
    }
  }

  // One request at a time: two overlapping polls from the same cursor would
  // hand out the same events twice and race to store the cursor.
  private pollUntilDone(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.pollPages().finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  private async pollPages(): Promise<void> {
    try {
      if (this.cursor === null) {
        // No cursor yet (Pusher never connected): start from now; the chats'
        // history covers what came before.
        await this.takeCursor();
        return;
      }
      for (let cursor: string = this.cursor; ; cursor = this.cursor) {
        if (this.disposed) return;
        const answer: PollAnswer = await this.api.get<PollAnswer>('/api/messages/poll', {
          cursor,
          limit: this.options.limit,
        });
        this.setFailed(false);
        for (const event of answer.events) this.deliver(event);
        this.cursor = answer.cursor;
        if (!answer.more) return;
      }
    } catch (err) {
      // A cursor the server no longer understands would fail forever: start over from now.
      if (err instanceof ChatwireError && err.fields?.cursor) this.cursor = null;
      this.report(err);
    }
  }

  private setFailed(failed: boolean): void {
    if (this.failed === failed) return;
    this.failed = failed;
    this.onFailingChange();
  }

  private report(err: unknown): void {
    this.setFailed(true);
    this.onError(err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err)));
  }
}
