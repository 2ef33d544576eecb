// The demo chat of `chatwire dev`: pick a user, then chat. dev's own
// /demo/config.json says where its Pusher server is, and /demo/token mints a
// development token for the user picked (dev only; serve has neither).
import { startChat } from './app.js';
import { getJSON, postJSON } from './http.js';

// The session lives in sessionStorage: one user per tab, kept across reloads.
const sessionKey = 'chatwire-demo:session';

async function main() {
  const config = await getJSON('/demo/config.json');
  const saved = JSON.parse(sessionStorage.getItem(sessionKey) ?? 'null');
  if (saved && config.users.some((u) => u.id === saved.user.id)) {
    start(config, saved);
    return;
  }
  showLogin(config);
}

function showLogin(config) {
  const list = document.getElementById('login-users');
  list.replaceChildren(
    ...config.users.map((user) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.user = user.id;
      button.textContent = user.name;
      button.addEventListener('click', () => signIn(config, user.id));
      return button;
    }),
  );
}

async function signIn(config, userId) {
  try {
    const session = await postJSON('/demo/token', { user: userId });
    sessionStorage.setItem(sessionKey, JSON.stringify(session));
    start(config, session);
  } catch (err) {
    showError(err);
  }
}

function start(config, session) {
  document.getElementById('login').hidden = true;
  document.getElementById('app').hidden = false;
  startChat(config, session, {
    signOut() {
      sessionStorage.removeItem(sessionKey);
      location.reload();
    },
  });
}

function showError(err) {
  const p = document.getElementById('login-error');
  p.textContent = String(err.message ?? err);
  p.hidden = false;
}

main().catch(showError);
