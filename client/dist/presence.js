// Who is online. Statuses come from `user-status-change` on the user's own
// private channel and, for a page's first paint, from GET /api/presence.
// The server shows a user's status only to those who share a room with them
// or whom they wrote to in a 1:1 chat; a status shown as offline may therefore
// be one the viewer could not see yet. A message or join from such a user
// means it may have become visible, so it is fetched again (refreshShown).
// Both can arrive in any order (and poll replays old changes after an
// outage), so a status replaces another only when it is not older.
import { Observable } from './observable.js';
const maxIdsPerRequest = 100;
export class PresenceStore {
    constructor(api) {
        this.api = api;
        this.statuses = new Observable({});
        this.loading = new Set();
        /** Users whose status the app asked for (load): the ones it shows. */
        this.shown = new Set();
    }
    get(userId) {
        return this.statuses.get()[userId];
    }
    /** apply records a status unless a newer one is already known. */
    apply(status) {
        const current = this.statuses.get()[status.user_id];
        if (current && isOlder(status, current))
            return;
        if (current && current.online === status.online && current.last_active_at === status.last_active_at)
            return;
        this.statuses.set({ ...this.statuses.get(), [status.user_id]: status });
    }
    /**
     * load fetches the statuses of users not known yet (up to 100 per request);
     * later changes arrive as events.
     */
    async load(userIds) {
        userIds.forEach((id) => this.shown.add(id));
        await this.fetch([...new Set(userIds)].filter((id) => !(id in this.statuses.get())));
    }
    /**
     * refreshShown fetches the status of a user the app shows, who just wrote or
     * joined, unless it is known to be online already: the server may have let
     * the viewer see it only now.
     */
    async refreshShown(userId) {
        if (!this.shown.has(userId) || this.get(userId)?.online)
            return;
        await this.fetch([userId]);
    }
    async fetch(userIds) {
        const wanted = userIds.filter((id) => !this.loading.has(id));
        for (let i = 0; i < wanted.length; i += maxIdsPerRequest) {
            const batch = wanted.slice(i, i + maxIdsPerRequest);
            batch.forEach((id) => this.loading.add(id));
            try {
                const answer = await this.api.get('/api/presence', { user_ids: batch.join(',') });
                answer.users.forEach((status) => this.apply(status));
            }
            finally {
                batch.forEach((id) => this.loading.delete(id));
            }
        }
    }
}
// isOlder compares last_active_at; timestamps are the API's fixed-width UTC
// format, so their string order is their time order.
function isOlder(a, b) {
    if (a.last_active_at === null)
        return b.last_active_at !== null;
    if (b.last_active_at === null)
        return false;
    return a.last_active_at < b.last_active_at;
}
