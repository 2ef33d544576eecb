import type { StorageLike } from './types.js';
export declare const seenWindow = 1000;
export declare class SeenEvents {
    private readonly storage;
    private readonly key;
    private readonly capacity;
    private readonly ids;
    private readonly known;
    constructor(storage: StorageLike, key: string, capacity?: number);
    /** firstTime records the id and reports whether it was not seen before. */
    firstTime(id: string): boolean;
}
