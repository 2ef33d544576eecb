// A server component: it reads chatwire's address and Pusher key at request
// time and hands them to the client part, which does everything realtime.
import { connection } from 'next/server';
import { chatConfig } from '@/lib/config';
import { users } from '@/lib/users';
import { ChatApp } from './chat-app';

export default async function Home() {
  await connection(); // rendered per request: the config is read at run time, not build time
  return <ChatApp config={chatConfig()} users={users} />;
}
