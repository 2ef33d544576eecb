import { Observable } from './observable.js';
import type { Poller } from './poll.js';
import type { Clock, ConnectionStatus, NetworkLike, PusherLike } from './types.js';
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
export declare class ConnectionMonitor {
    private readonly pusher;
    private readonly network;
    private readonly poller;
    private readonly clock;
    private readonly timings;
    /** Called when sending may work again: Pusher connected, or the browser back online. */
    private readonly onReachable;
    readonly status: Observable<ConnectionStatus>;
    private pusherState;
    private graceTimer;
    private catchUpTimer;
    private advanceTimer;
    /** Whether Pusher connected or polling started since the client started. */
    private started;
    /** Set while live delivery may have missed events, until a catch-up poll is scheduled. */
    private missedLive;
    private readonly cleanups;
    private stopped;
    constructor(pusher: PusherLike | null, network: NetworkLike, poller: Poller, clock: Clock, timings: ConnectionTimings, 
    /** Called when sending may work again: Pusher connected, or the browser back online. */
    onReachable: () => void);
    dispose(): void;
    /**
     * liveEvent is told of each event of the log that Pusher delivered: the
     * poll cursor is then moved past it by a poll a while later (its events are
     * de-duplicated), so it never lags far behind live delivery.
     */
    liveEvent(): void;
    private evaluate;
    private startPolling;
    private clearGrace;
    private updateStatus;
    private currentStatus;
}
