// A value the app can watch. Its shape (get + subscribe returning an
// unsubscribe function) is what React's useSyncExternalStore expects, so the
// React hooks are thin and every snapshot is a new object only when it changed.

export type Unsubscribe = () => void;

export class Observable<T> {
  private value: T;
  private readonly listeners = new Set<() => void>();

  constructor(initial: T) {
    this.value = initial;
  }

  get = (): T => this.value;

  set(next: T): void {
    if (Object.is(next, this.value)) return;
    this.value = next;
    for (const listener of [...this.listeners]) listener();
  }

  subscribe = (listener: () => void): Unsubscribe => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** How many listeners are attached; tests use it to prove nothing leaks. */
  get listenerCount(): number {
    return this.listeners.size;
  }
}
