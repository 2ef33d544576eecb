import { Api } from './api.js';
import { Observable } from './observable.js';
import type { UserStatus } from './types.js';
/** The known statuses, by user id. */
export type PresenceSnapshot = Readonly<Record<string, UserStatus>>;
export declare class PresenceStore {
    private readonly api;
    readonly statuses: Observable<Readonly<Record<string, UserStatus>>>;
    private readonly loading;
    /** Users whose status the app asked for (load): the ones it shows. */
    private readonly shown;
    constructor(api: Api);
    get(userId: string): UserStatus | undefined;
    /** apply records a status unless a newer one is already known. */
    apply(status: UserStatus): void;
    /**
     * load fetches the statuses of users not known yet (up to 100 per request);
     * later changes arrive as events.
     */
    load(userIds: readonly string[]): Promise<void>;
    /**
     * refreshShown fetches the status of a user the app shows, who just wrote or
     * joined, unless it is known to be online already: the server may have let
     * the viewer see it only now.
     */
    refreshShown(userId: string): Promise<void>;
    private fetch;
}
