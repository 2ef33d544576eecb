// The people of this example. A real app has its own users and its own
// sign-in (Supabase, Clerk, Auth0, …); chatwire only needs each user's JWT.
export interface User {
  id: string;
  name: string;
}

export const users: readonly User[] = [
  { id: 'alice', name: 'Alice' },
  { id: 'bob', name: 'Bob' },
  { id: 'carol', name: 'Carol' },
];
