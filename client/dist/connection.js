// What the app is told about the connection, and when to fall back to
// polling. Inputs: pusher-js's connection state and the browser's
// online/offline events. Outputs: the status, the poller started or
// stopped, a catch-up poll after Pusher comes back, and a nudge to the
// offline queue whenever sending may work again.
import { Observable } from './observable.js';
export class ConnectionMonitor {
    constructor(pusher, network, poller, clock, timings, 
    /** Called when sending may work again: Pusher connected, or the browser back online. */
    onReachable) {
        this.pusher = pusher;
        this.network = network;
        this.poller = poller;
        this.clock = clock;
        this.timings = timings;
        this.onReachable = onReachable;
        this.status = new Observable('connecting');
        this.graceTimer = undefined;
        this.catchUpTimer = undefined;
        /** Set while live delivery may have missed events, until a catch-up poll is scheduled. */
        this.missedLive = false;
        this.cleanups = [];
        this.stopped = false;
        this.pusherState = pusher?.connection.state ?? 'unavailable';
        if (pusher) {
            const onStateChange = (change) => {
                this.pusherState = change.current;
                this.evaluate();
            };
            pusher.connection.bind('state_change', onStateChange);
            this.cleanups.push(() => pusher.connection.unbind('state_change', onStateChange));
        }
        this.cleanups.push(network.subscribe(() => {
            this.evaluate();
            if (network.isOnline())
                onReachable();
        }));
        this.evaluate();
    }
    dispose() {
        this.stopped = true;
        this.cleanups.splice(0).forEach((cleanup) => cleanup());
        this.clock.clearTimeout(this.graceTimer);
        this.clock.clearTimeout(this.catchUpTimer);
        this.poller.stop();
    }
    evaluate() {
        if (this.stopped)
            return;
        const online = this.network.isOnline();
        if (this.pusherState === 'connected') {
            this.clearGrace();
            this.poller.stop();
            if (this.missedLive) {
                // pusher-js re-subscribes the channels after `connected`; poll once
                // they are, so nothing committed in between is lost.
                this.missedLive = false;
                this.clock.clearTimeout(this.catchUpTimer);
                this.catchUpTimer = this.clock.setTimeout(() => void this.poller.catchUp(), this.timings.catchUpDelayMs);
            }
            else {
                // Taken while live delivery works, so a later fallback starts from here.
                void this.poller.takeCursor();
            }
            this.onReachable();
        }
        else {
            if (this.poller.currentCursor !== null || this.poller.polling)
                this.missedLive = true;
            this.clock.clearTimeout(this.catchUpTimer);
            if (!online) {
                this.clearGrace();
                this.poller.stop();
            }
            else if (!this.pusher || this.pusherState === 'unavailable' || this.pusherState === 'failed') {
                this.clearGrace();
                this.startPolling();
            }
            else if (!this.poller.polling && this.graceTimer === undefined) {
                this.graceTimer = this.clock.setTimeout(() => {
                    this.graceTimer = undefined;
                    if (this.pusherState !== 'connected' && this.network.isOnline())
                        this.startPolling();
                }, this.timings.disconnectGraceMs);
            }
        }
        this.updateStatus();
    }
    startPolling() {
        this.missedLive = true;
        this.poller.start();
        this.updateStatus();
    }
    clearGrace() {
        this.clock.clearTimeout(this.graceTimer);
        this.graceTimer = undefined;
    }
    updateStatus() {
        const online = this.network.isOnline();
        this.status.set(!online ? 'offline' : this.pusherState === 'connected' ? 'connected' : this.poller.polling ? 'polling' : 'connecting');
    }
}
