// The objects of chatwire's HTTP and event contract (docs/API.md, "Objects"),
// and the small interfaces through which the client reaches the outside world
// (clock, storage, pusher-js), so tests can replace each of them.
export const systemClock = {
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle),
};
