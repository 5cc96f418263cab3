// Working without signal, added to pages that work without it: register the service worker,
// say on every page what waits on this phone, show the outbox, refill a refused form, and
// clear what the phone kept when the member logs out. Nothing here is needed online.
(() => {
  const body = document.body;
  const worker = navigator.serviceWorker;
  if (!worker || !body.dataset.worker) return;

  worker.register(body.dataset.worker).catch(() => {});

  // Ask the service worker; resolve with its answer (null when there is none yet).
  const ask = (message) =>
    worker.ready.then(
      (registration) =>
        new Promise((resolve) => {
          const channel = new MessageChannel();
          channel.port1.onmessage = (event) => resolve(event.data);
          (worker.controller || registration.active).postMessage(message, [channel.port2]);
        }),
    );

  const RETRY_MS = 15000;
  let retry = null;
  const banner = document.getElementById('outbox-banner');
  const show = (state) => {
    if (!state || !banner) return;
    const refused = state.refused.length;
    const parts = [];
    if (state.waiting) {
      const text = state.waiting === 1 ? banner.dataset.one : banner.dataset.many;
      parts.push(text.replace('{n}', state.waiting));
      if (state.loginNeeded) parts.push(banner.dataset.login);
    }
    if (refused) parts.push(banner.dataset.refused.replace('{n}', refused));
    banner.hidden = parts.length === 0;
    banner.querySelector('a').textContent = parts.join(' ');
    if (window.outboxPage) window.outboxPage(state);
    // A weak signal: while something waits and the phone seems online, try again shortly
    // (this page is a member's, so a session is open whatever the last try found).
    clearTimeout(retry);
    if (state.waiting && navigator.onLine) {
      retry = setTimeout(sendWaiting, RETRY_MS);
    }
  };

  worker.addEventListener('message', (event) => {
    if (event.data && event.data.type === 'outbox') show(event.data);
  });

  const sendWaiting = () => ask({ type: 'send' }).then(show);
  window.addEventListener('online', sendWaiting);
  worker.ready.then((registration) => {
    registration.active.postMessage({ type: 'member', member: body.dataset.member });
    if (navigator.onLine) {
      sendWaiting();
      ask({ type: 'keep' });
    } else {
      ask({ type: 'status' }).then(show);
    }
  });

  // Logging out deletes what the phone kept; say so first when something has not gone yet.
  const logout = document.querySelector('form[action$="/logout"]');
  if (logout) {
    logout.addEventListener('submit', async (event) => {
      if (logout.dataset.confirmed) return;
      event.preventDefault();
      const state = worker.controller ? await ask({ type: 'status' }) : null;
      const left = state ? state.waiting + state.refused.length : 0;
      if (left && !window.confirm(logout.dataset.warning.replace('{n}', left))) return;
      if (worker.controller) await ask({ type: 'forget' });
      logout.dataset.confirmed = '1';
      logout.submit();
    });
  }

  // A refused submission opened again from the outbox: its typed values and photos, back.
  const again = new URLSearchParams(location.search).get('outbox');
  const form = document.querySelector('main form[method="post"]');
  if (again && form) {
    ask({ type: 'entry', id: again }).then((entry) => {
      if (!entry) return;
      refill(form, entry);
      form.addEventListener('submit', () => ask({ type: 'discard', id: again }));
    });
  }

  function refill(target, entry) {
    const skip = new Set(['csrf_token', 'request_token']);
    const used = new Map(); // a name sent twice fills its fields in order
    for (const [name, value] of entry.fields) {
      const fields = [...target.elements].filter((el) => el.name === name && el.type !== 'file');
      if (skip.has(name) || !fields.length) continue;
      if (fields[0].type === 'radio' || fields[0].type === 'checkbox') {
        for (const el of fields) if (el.value === value) el.checked = true;
        continue;
      }
      const index = used.get(name) || 0;
      used.set(name, index + 1);
      fields[Math.min(index, fields.length - 1)].value = value;
    }
    const byName = new Map();
    for (const [name, file] of entry.files) {
      if (!byName.has(name)) byName.set(name, new DataTransfer());
      byName.get(name).items.add(file);
    }
    for (const [name, files] of byName) {
      const input = target.querySelector(`input[type=file][name="${name}"]`);
      if (input) input.files = files.files;
    }
  }

  // The outbox page: what waits, and each refusal with its reason and what was typed.
  const outbox = document.getElementById('outbox');
  if (outbox) {
    const words = outbox.dataset;
    const names = new Map(
      [...outbox.querySelectorAll('[data-path]')].map((el) => [el.dataset.path, el.textContent]),
    );
    const make = (tag, text, attributes = {}) => {
      const el = document.createElement(tag);
      if (text) el.textContent = text;
      for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
      return el;
    };
    window.outboxPage = (state) => {
      document.getElementById('outbox-waiting').textContent = state.waiting
        ? (state.waiting === 1 ? words.one : words.many).replace('{n}', state.waiting)
        : words.none;
      document.getElementById('outbox-login').hidden = !(state.waiting && state.loginNeeded);
      const list = document.getElementById('outbox-refused');
      list.replaceChildren();
      for (const entry of state.refused) {
        const item = make('li', '', { class: 'card', id: `refused-${entry.id}` });
        const what = names.get(entry.path) || (entry.path.endsWith('/outcome') ? words.outcome : entry.path);
        item.append(make('p', what, { class: 'what' }));
        const why = entry.other ? words.other : entry.reason || words.refused;
        item.append(make('p', why, { class: 'error' }));
        const typed = make('p', '', { class: 'muted typed' });
        typed.textContent = entry.fields
          .filter(([name, value]) => value && name !== 'request_token' && !/^(save|submit)$/.test(name))
          .map(([name, value]) => `${name}: ${value}`)
          .join(' · ');
        item.append(typed);
        const actions = make('div', '', { class: 'actions' });
        const form = new URL(entry.form || entry.path, location.origin);
        form.searchParams.set('outbox', entry.id);
        actions.append(make('a', words.correct, { href: form.pathname + form.search }));
        const drop = make('button', words.discard, { type: 'button', class: 'secondary' });
        drop.addEventListener('click', () => ask({ type: 'discard', id: entry.id }).then(show));
        actions.append(drop);
        item.append(actions);
        list.append(item);
      }
      outbox.hidden = false;
    };
    document.getElementById('outbox-send').addEventListener('click', sendWaiting);
    worker.ready.then(() => ask({ type: 'status' })).then(show);
  }

})();

// Refill the items' list from the server's search as someone types: a big catalogue sends only
// a few items with the page. Without this (or without signal) the server still matches the
// typed label on submit.
(() => {
  const list = document.getElementById('item-labels');
  const search = document.getElementById('item-suggest');
  if (!list || !search || !window.fetch) return;
  let timer = null;
  let asked = null;
  const option = ({ label, also }) => {
    const made = document.createElement('option');
    made.value = label;
    if (also) made.label = also;
    return made;
  };
  document.addEventListener('input', (event) => {
    const typed = event.target.value;
    if (event.target.getAttribute('list') !== 'item-labels' || typed.trim() === asked) return;
    clearTimeout(timer);
    // Ask once typing pauses, not for every key.
    timer = setTimeout(() => {
      asked = typed.trim();
      const wanted = asked;
      fetch(`${search.dataset.url}?q=${encodeURIComponent(wanted)}`, {
        headers: { Accept: 'application/json' },
      })
        .then((answer) => (answer.ok ? answer.json() : null))
        .then((found) => {
          if (found && wanted === asked) list.replaceChildren(...found.items.map(option));
        })
        .catch(() => {});
    }, 250);
  });
})();
