// A value the app can watch. Its shape (get + subscribe returning an
// unsubscribe function) is what React's useSyncExternalStore expects, so the
// React hooks are thin and every snapshot is a new object only when it changed.
export class Observable {
    constructor(initial) {
        this.listeners = new Set();
        this.get = () => this.value;
        this.subscribe = (listener) => {
            this.listeners.add(listener);
            return () => {
                this.listeners.delete(listener);
            };
        };
        this.value = initial;
    }
    set(next) {
        if (Object.is(next, this.value))
            return;
        this.value = next;
        for (const listener of [...this.listeners])
            listener();
    }
    /** How many listeners are attached; tests use it to prove nothing leaks. */
    get listenerCount() {
        return this.listeners.size;
    }
}
