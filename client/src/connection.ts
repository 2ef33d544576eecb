// What the app is told about the connection, and when to fall back to
// polling. Inputs: pusher-js's connection state, the browser's
// online/offline events, whether polls succeed, and live events. Outputs: the
// status, the poller started or stopped, a catch-up poll after Pusher comes
// back, a poll now and then while live so the cursor follows what was
// delivered, and a nudge to the offline queue whenever sending may work again.

import { Observable, type Unsubscribe } from './observable.js';
import type { Poller } from './poll.js';
import type { Clock, ConnectionStateChange, ConnectionStatus, NetworkLike, PusherLike } from './types.js';

export interface ConnectionTimings {
  /** How long Pusher may be disconnected or connecting before polling starts. */
  disconnectGraceMs: number;
  /** Delay between Pusher reconnecting and the catch-up poll. */
  catchUpDelayMs: number;
  /**
   * While Pusher is live, the poll cursor is moved forward by one poll this
   * long after a live event arrives (at most one per period, none while
   * nothing arrives), so a later fallback replays at most this much.
   */
  cursorAdvanceMs: number;
}

export class ConnectionMonitor {
  readonly status = new Observable<ConnectionStatus>('connecting');
  private pusherState: string;
  private graceTimer: unknown = undefined;
  private catchUpTimer: unknown = undefined;
  private advanceTimer: unknown = undefined;
  /** Whether Pusher connected or polling started since the client started. */
  private started = false;
  /** Set while live delivery may have missed events, until a catch-up poll is scheduled. */
  private missedLive = false;
  private readonly cleanups: Unsubscribe[] = [];
  private stopped = false;

  constructor(
    private readonly pusher: PusherLike | null,
    private readonly network: NetworkLike,
    private readonly poller: Poller,
    private readonly clock: Clock,
    private readonly timings: ConnectionTimings,
    /** Called when sending may work again: Pusher connected, or the browser back online. */
    private readonly onReachable: () => void,
  ) {
    this.pusherState = pusher?.connection.state ?? 'unavailable';
    if (pusher) {
      const onStateChange = (change: ConnectionStateChange) => {
        this.pusherState = change.current;
        this.evaluate();
      };
      pusher.connection.bind('state_change', onStateChange);
      this.cleanups.push(() => pusher.connection.unbind('state_change', onStateChange));
    }
    poller.onFailingChange = () => this.updateStatus();
    this.cleanups.push(
      network.subscribe(() => {
        this.evaluate();
        if (network.isOnline()) onReachable();
      }),
    );
    this.evaluate();
  }

  dispose(): void {
    this.stopped = true;
    this.cleanups.splice(0).forEach((cleanup) => cleanup());
    this.clock.clearTimeout(this.graceTimer);
    this.clock.clearTimeout(this.catchUpTimer);
    this.clock.clearTimeout(this.advanceTimer);
    this.poller.stop();
  }

  /**
   * liveEvent is told of each event of the log that Pusher delivered: the
   * poll cursor is then moved past it by a poll a while later (its events are
   * de-duplicated), so it never lags far behind live delivery.
   */
  liveEvent(): void {
    if (this.stopped || this.pusherState !== 'connected' || this.advanceTimer !== undefined) return;
    this.advanceTimer = this.clock.setTimeout(() => {
      this.advanceTimer = undefined;
      if (!this.stopped && this.pusherState === 'connected') void this.poller.catchUp();
    }, this.timings.cursorAdvanceMs);
  }

  private evaluate(): void {
    if (this.stopped) return;
    const online = this.network.isOnline();
    if (this.pusherState === 'connected') {
      this.started = true;
      this.clearGrace();
      this.poller.stop();
      if (this.missedLive) {
        // pusher-js re-subscribes the channels after `connected`; poll once
        // they are, so nothing committed in between is lost.
        this.missedLive = false;
        this.clock.clearTimeout(this.catchUpTimer);
        this.catchUpTimer = this.clock.setTimeout(() => void this.poller.catchUp(), this.timings.catchUpDelayMs);
      } else {
        // Taken while live delivery works, so a later fallback starts from here.
        void this.poller.takeCursor();
      }
      this.onReachable();
    } else {
      if (this.poller.currentCursor !== null || this.poller.polling) this.missedLive = true;
      this.clock.clearTimeout(this.catchUpTimer);
      this.clock.clearTimeout(this.advanceTimer);
      this.advanceTimer = undefined;
      if (!online) {
        this.clearGrace();
        this.poller.stop();
      } else if (!this.pusher || this.pusherState === 'unavailable' || this.pusherState === 'failed') {
        this.clearGrace();
        this.startPolling();
      } else if (!this.poller.polling && this.graceTimer === undefined) {
        this.graceTimer = this.clock.setTimeout(() => {
          this.graceTimer = undefined;
          if (this.pusherState !== 'connected' && this.network.isOnline()) this.startPolling();
        }, this.timings.disconnectGraceMs);
      }
    }
    this.updateStatus();
  }

  private startPolling(): void {
    this.started = true;
    this.missedLive = true;
    this.poller.start();
    this.updateStatus();
  }

  private clearGrace(): void {
    this.clock.clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  private updateStatus(): void {
    this.status.set(this.currentStatus());
  }

  private currentStatus(): ConnectionStatus {
    if (!this.network.isOnline()) return 'offline';
    if (this.pusherState === 'connected') return 'connected';
    if (this.poller.polling && !this.poller.failing) return 'polling';
    return this.started ? 'disconnected' : 'connecting';
  }
}
