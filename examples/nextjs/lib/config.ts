// What the browser needs to reach chatwire, read on the server at request
// time, so one `next build` runs against any chatwire: `chatwire dev` here,
// a deployment in production. The names are the ones `chatwire dev` prints.
//
// With `chatwire dev` running in this folder and nothing set, the values
// come from its defaults and its .chatwire/secrets.env, so `npm run dev`
// needs no configuration at all.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ChatConfig {
  /** chatwire's base URL; '' when it is served on this app's origin (rewrites). */
  apiUrl: string;
  pusher: { key: string; cluster?: string; wsHost?: string; wsPort?: number; forceTLS?: boolean };
}

export function chatConfig(): ChatConfig {
  const env = process.env;
  const key = env.CHATWIRE_PUSHER_KEY ?? devSecrets().PUSHER_KEY;
  if (!key) throw new Error('CHATWIRE_PUSHER_KEY is not set (and no chatwire dev runs in this folder)');
  const cluster = env.CHATWIRE_PUSHER_CLUSTER;
  return {
    apiUrl: env.CHATWIRE_URL ?? 'http://127.0.0.1:4000',
    pusher: cluster
      ? { key, cluster }
      : {
          key,
          wsHost: env.CHATWIRE_PUSHER_WS_HOST ?? '127.0.0.1',
          wsPort: Number(env.CHATWIRE_PUSHER_WS_PORT ?? 6001),
          forceTLS: env.CHATWIRE_PUSHER_TLS === 'true',
        },
  };
}

/** The secret that signs users' tokens: your auth provider's, in a real app. */
export function jwtSecret(): string | undefined {
  return process.env.AUTH_JWT_SECRET ?? devSecrets().AUTH_JWT_SECRET;
}

// devSecrets reads what `chatwire dev`, run in this folder, generated.
function devSecrets(): Record<string, string> {
  try {
    const text = readFileSync(path.join(process.cwd(), '.chatwire', 'secrets.env'), 'utf8');
    return Object.fromEntries(
      text
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]),
    );
  } catch {
    return {};
  }
}
