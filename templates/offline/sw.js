/* The service worker: field pages open from the phone's cache when there is no signal, and a
   form sent without signal waits in the outbox (Workbox's queue, in IndexedDB) until it can go.
   The server's request tokens make each submission count once however often it is sent. */
importScripts({% for name in workbox %}{{ name|tojson }}{{ ', ' if not loop.last }}{% endfor %});

const PAGES = 'pages-v1';
const ASSETS = 'assets-v1';
const KEEP_MINUTES = 60 * 24 * 30; // a month: a phone may stay out of signal for days
const NETWORK_SECONDS = 6; // a weak signal: after this, the page as last seen
const OFFLINE_PAGE = {{ url_for('offline.fallback')|tojson }};
const OUTBOX_PAGE = {{ url_for('offline.outbox')|tojson }};
const PAGES_TO_KEEP = {{ url_for('offline.pages')|tojson }};
// Posts that are not field work: signing in and out, languages; they never wait in the outbox.
const NEVER_KEPT = /^\/(login|logout|language|switch|password|invitation|share|subscribe|unsubscribe)\b/;

const waiting = new workbox.backgroundSync.Queue('outbox', {
  maxRetentionTime: KEEP_MINUTES,
  onSync: () => sendWaiting(),
});
// Refused ones wait for a person, never for a sync: Workbox would send them again as they are.
const refused = new workbox.backgroundSync.Queue('refused', {
  maxRetentionTime: KEEP_MINUTES,
  onSync: async () => {},
});
let sending = Promise.resolve();
let loginNeeded = false;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(PAGES).then((cache) => cache.addAll([OFFLINE_PAGE])));
  self.skipWaiting();
});
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// Hashed assets never change: from the cache once fetched.
workbox.routing.registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname.startsWith('/assets/'),
  new workbox.strategies.CacheFirst({ cacheName: ASSETS }),
);

// Pages: the network first; without signal, the page as last seen, saying when that was.
workbox.routing.registerRoute(({ request }) => request.mode === 'navigate', ({ request }) =>
  pageFirstFromNetwork(request),
);

// A form sent without signal: kept, in order, with its photos and request token.
workbox.routing.registerRoute(
  ({ request, url }) =>
    request.mode === 'navigate' &&
    url.origin === self.location.origin &&
    !NEVER_KEPT.test(url.pathname),
  ({ request }) => sendOrKeep(request),
  'POST',
);

async function pageFirstFromNetwork(request) {
  const cache = await caches.open(PAGES);
  try {
    const response = await withTimeout(fetch(request), NETWORK_SECONDS);
    const kept = !NEVER_KEPT.test(new URL(request.url).pathname);
    if (kept && response.ok && !response.redirected && isHtml(response)) {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreSearch: false });
    if (kept) return asLastSeen(kept);
    return (await cache.match(OFFLINE_PAGE)) || Response.error();
  }
}

async function sendOrKeep(request) {
  const copy = request.clone();
  try {
    return await fetch(request);
  } catch (error) {
    const fields = await fieldsOf(copy.clone());
    const id = self.crypto.randomUUID();
    const member = await memberNow();
    await waiting.pushRequest({
      request: copy,
      metadata: { id, member, path: new URL(copy.url).pathname, form: copy.referrer, fields },
    });
    await tellPages();
    return Response.redirect(`${OUTBOX_PAGE}?saved=${id}`, 303);
  }
}

// The kept page shows "as of 14:02": the time it was made, now that it is not current.
async function asLastSeen(response) {
  const html = (await response.text()).replace('data-as-of hidden', 'data-as-of');
  return new Response(html, { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}

function isHtml(response) {
  return (response.headers.get('Content-Type') || '').startsWith('text/html');
}

function withTimeout(promise, seconds) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('slow network')), seconds * 1000);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); },
    );
  });
}

// What was typed, to show in the outbox and to fill the form again; photos by their name.
async function fieldsOf(request) {
  const type = request.headers.get('Content-Type') || '';
  if (!type.includes('form')) return [];
  const data = type.includes('multipart') ? await request.formData() : new URLSearchParams(await request.text());
  const fields = [];
  for (const [name, value] of data) {
    if (name === 'csrf_token') continue;
    fields.push([name, typeof value === 'string' ? value : value.name]);
  }
  return fields;
}

// --- sending what waits, in order ------------------------------------------------------------

// One pass at a time, and a pass after every ask: an ask made while a pass is under way (say,
// just after logging in, while the pass before still found nobody signed in) is not lost.
function sendWaiting() {
  sending = sending
    .catch(() => {})
    .then(sendAll)
    .finally(() => tellPages());
  return sending;
}

async function sendAll() {
  let entry;
  while ((entry = await waiting.shiftRequest())) {
    const outcome = await send(entry.request, entry.metadata.member);
    if (outcome.kind === 'later') {
      await waiting.unshiftRequest(entry);
      return;
    }
    if (outcome.kind === 'refused') {
      const { reason, status, other } = outcome;
      entry.metadata = { ...entry.metadata, reason, status, other: !!other };
      await refused.pushRequest(entry);
    }
  }
}

async function send(request, member) {
  // The session may have changed since the form was filled: a fresh CSRF token, and a check
  // that someone is signed in (an expired session answers with the login page).
  // Redirects are not followed: the login page would start a session of its own, and the
  // member's login form, open in a tab, would no longer match it.
  let page;
  try {
    page = await fetch(OUTBOX_PAGE, { credentials: 'same-origin', redirect: 'manual' });
  } catch (error) {
    return { kind: 'later' };
  }
  loginNeeded = page.type === 'opaqueredirect';
  if (loginNeeded) return { kind: 'later' };
  const html = await page.text();
  // Typed by one member in one organisation: never sent as another, nor into another.
  const signedIn = (html.match(/data-member="([^"]+)"/) || [])[1];
  if (member && signedIn !== member) return { kind: 'refused', status: 0, reason: '', other: true };
  const token = (html.match(/name="csrf_token" value="([^"]+)"/) || [])[1] || '';
  let response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      body: await withToken(request.clone(), token),
      credentials: 'same-origin',
      redirect: 'follow',
    });
  } catch (error) {
    return { kind: 'later' };
  }
  if (new URL(response.url).pathname.startsWith('/login')) {
    loginNeeded = true;
    return { kind: 'later' };
  }
  if (response.redirected) return { kind: 'sent' };
  if (response.status >= 500 || response.status === 429) return { kind: 'later' };
  return { kind: 'refused', status: response.status, reason: reasonIn(await response.text()) };
}

async function withToken(request, token) {
  const type = request.headers.get('Content-Type') || '';
  if (type.includes('multipart')) {
    const data = await request.formData();
    data.set('csrf_token', token);
    return data;
  }
  const data = new URLSearchParams(await request.text());
  data.set('csrf_token', token);
  return data;
}

// The refusal as the page says it: its error messages, without the markup.
function reasonIn(html) {
  const found = [];
  const pattern = /<(?:p|div) class="(?:error|flash error)"[^>]*>([\s\S]*?)<\/(?:p|div)>|<div class="errors"[^>]*>([\s\S]*?)<\/div>/g;
  let match;
  while ((match = pattern.exec(html))) {
    const text = (match[1] || match[2] || '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
    if (text && !found.includes(text)) found.push(text);
  }
  return found.join(' ');
}

// --- talking with the pages ------------------------------------------------------------------

// Who is signed in on this phone, as the pages say (kept across the worker's restarts).
const META = 'meta-v1';

async function memberNow() {
  const kept = await (await caches.open(META)).match('/member');
  return kept ? kept.text() : '';
}

async function rememberMember(member) {
  if (member) await (await caches.open(META)).put('/member', new Response(member));
}

async function status() {
  return {
    waiting: await waiting.size(),
    refused: (await refused.getAll()).map(({ metadata }) => metadata),
    loginNeeded,
  };
}

async function tellPages() {
  const now = await status();
  for (const client of await self.clients.matchAll({ type: 'window' })) {
    client.postMessage({ type: 'outbox', ...now });
  }
}

async function discard(id) {
  const kept = [];
  let entry;
  while ((entry = await refused.shiftRequest())) if (entry.metadata.id !== id) kept.push(entry);
  for (const entry of kept) await refused.pushRequest(entry);
}

async function refusedEntry(id) {
  const entry = (await refused.getAll()).find(({ metadata }) => metadata.id === id);
  if (!entry) return null;
  const type = entry.request.headers.get('Content-Type') || '';
  const files = [];
  if (type.includes('multipart')) {
    for (const [name, value] of await entry.request.clone().formData()) {
      if (typeof value !== 'string') files.push([name, value]);
    }
  }
  return { ...entry.metadata, files };
}

async function forget() {
  while (await waiting.shiftRequest());
  while (await refused.shiftRequest());
  for (const name of await caches.keys()) await caches.delete(name);
  keptAt = 0;
}

let keptAt = 0;
const KEEP_EVERY_MS = 10 * 60 * 1000;

// Keep the field pages this member may need, as they are now (at most every ten minutes).
async function keepOffline() {
  if (Date.now() - keptAt < KEEP_EVERY_MS) return;
  keptAt = Date.now();
  const cache = await caches.open(PAGES);
  let paths;
  try {
    const answer = await fetch(PAGES_TO_KEEP, { credentials: 'same-origin', redirect: 'manual' });
    if (!answer.ok) return; // signed out: nothing to keep
    paths = await answer.json();
  } catch (error) {
    keptAt = 0;
    return;
  }
  for (const path of paths) {
    try {
      const response = await fetch(path, { credentials: 'same-origin', redirect: 'manual' });
      if (response.ok && isHtml(response)) await cache.put(path, response);
    } catch (error) {
      keptAt = 0;
      return; // no signal: next time
    }
  }
}

self.addEventListener('message', (event) => {
  const { type } = event.data || {};
  const answer = (promise) => event.waitUntil(promise.then((value) => event.ports[0]?.postMessage(value)));
  if (type === 'status') answer(status());
  else if (type === 'send') answer(sendWaiting().then(status));
  else if (type === 'discard') answer(discard(event.data.id).then(status));
  else if (type === 'entry') answer(refusedEntry(event.data.id));
  else if (type === 'forget') answer(forget());
  else if (type === 'keep') event.waitUntil(keepOffline());
  else if (type === 'member') event.waitUntil(rememberMember(event.data.member));
});
