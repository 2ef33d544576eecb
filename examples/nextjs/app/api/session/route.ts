// A stand-in for your auth provider: signs a one-hour HS256 JWT for one of
// the example's users with AUTH_JWT_SECRET, as Supabase's legacy JWTs are.
// chatwire verifies it with the same secret. Never ship a route that signs
// tokens for whoever asks: in a real app the token comes from the sign-in.
import { createHmac } from 'node:crypto';
import { jwtSecret } from '@/lib/config';
import { users } from '@/lib/users';

export async function POST(request: Request): Promise<Response> {
  const secret = jwtSecret();
  if (!secret) return Response.json({ error: 'AUTH_JWT_SECRET is not set' }, { status: 503 });
  const { user: id } = (await request.json().catch(() => ({}))) as { user?: unknown };
  const user = users.find((u) => u.id === id);
  if (!user) return Response.json({ error: 'user: not one of the example users' }, { status: 400 });
  const now = Math.floor(Date.now() / 1000);
  const token = sign({ sub: user.id, name: user.name, iat: now, exp: now + 3600 }, secret);
  return Response.json({ user, token });
}

function sign(claims: Record<string, unknown>, secret: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
