import { Api } from './api.js';
import { Observable } from './observable.js';
import type { UserStatus } from './types.js';
/** The known statuses, by user id. */
export type PresenceSnapshot = Readonly<Record<string, UserStatus>>;
export declare class PresenceStore {
    private readonly api;
    readonly statuses: Observable<Readonly<Record<string, UserStatus>>>;
    private readonly loading;
    constructor(api: Api);
    get(userId: string): UserStatus | undefined;
    /** apply records a status unless a newer one is already known. */
    apply(status: UserStatus): void;
    /**
     * load fetches the statuses of users not known yet (up to 100 per request);
     * later changes arrive as events.
     */
    load(userIds: readonly string[]): Promise<void>;
}
