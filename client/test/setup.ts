// setup builds a client for alice wired to the fakes, with Pusher connected.

import { createClient, memoryStorage, type ChatwireClient, type ChatwireError, type ClientOptions, type StorageLike } from '@chatwire/client';
import { FakeClock, FakeNetwork, FakePusher, FakeServer, settle } from './fakes.js';

export interface Setup {
  client: ChatwireClient;
  clock: FakeClock;
  server: FakeServer;
  pusher: FakePusher;
  network: FakeNetwork;
  storage: StorageLike;
  errors: ChatwireError[];
}

export async function setup(options: Partial<ClientOptions> & { connected?: boolean; server?: FakeServer; clock?: FakeClock } = {}): Promise<Setup> {
  const clock = options.clock ?? new FakeClock();
  const server = options.server ?? new FakeServer(clock);
  const network = (options.network as FakeNetwork | undefined) ?? new FakeNetwork();
  const storage = options.storage ?? memoryStorage();
  const errors: ChatwireError[] = [];
  const client = createClient({
    userId: 'alice',
    getToken: async () => 'token-alice',
    apiUrl: 'http://chatwire.test',
    pusher: { key: 'key', wsHost: 'localhost', wsPort: 6001, forceTLS: false },
    Pusher: FakePusher,
    fetch: server.fetch,
    storage,
    clock,
    notifications: { api: null },
    onError: (error) => errors.push(error),
    ...options,
    network,
  });
  const pusher = FakePusher.last;
  if (options.connected !== false && options.pusher !== null) pusher.connection.setState('connected');
  await settle();
  return { client, clock, server, pusher, network, storage, errors };
}
