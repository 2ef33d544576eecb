export type Unsubscribe = () => void;
export declare class Observable<T> {
    private value;
    private readonly listeners;
    constructor(initial: T);
    get: () => T;
    set(next: T): void;
    subscribe: (listener: () => void) => Unsubscribe;
    /** How many listeners are attached; tests use it to prove nothing leaks. */
    get listenerCount(): number;
}
