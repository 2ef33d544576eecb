// The ids of events already handed to listeners. An event of chatwire's log
// can arrive through Pusher and poll, twice through Pusher after a
// redelivery, and again after a reload; its id (poll's `id`, Pusher's
// `data.event_id`) lets every listener hear it once. The window is bounded,
// and kept in per-tab storage (sessionStorage) so a reload keeps it.

import type { StorageLike } from './types.js';

export const seenWindow = 1000;

export class SeenEvents {
  private readonly ids: string[];
  private readonly known: Set<string>;

  constructor(
    private readonly storage: StorageLike,
    private readonly key: string,
    private readonly capacity = seenWindow,
  ) {
    this.ids = readIds(storage, key).slice(-capacity);
    this.known = new Set(this.ids);
  }

  /** firstTime records the id and reports whether it was not seen before. */
  firstTime(id: string): boolean {
    if (this.known.has(id)) return false;
    this.known.add(id);
    this.ids.push(id);
    if (this.ids.length > this.capacity) this.known.delete(this.ids.shift() as string);
    try {
      this.storage.setItem(this.key, JSON.stringify(this.ids));
    } catch {
      // A full or blocked storage only loses de-duplication across a reload.
    }
    return true;
  }
}

function readIds(storage: StorageLike, key: string): string[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(key) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}
