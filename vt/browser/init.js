// vt.browser's init script: runs in every page before the page's own scripts.
//
// It wraps window.fetch (Datastar reads `window.fetch` when it sends, so it goes through this)
// and each event-stream response body (a ReadableStream that pulls from the real one), to:
//   - record every request and every SSE frame the page received (a Playwright trace shows
//     requests but not stream frames), read back by vt.browser on failure;
//   - know when the page is settled: no request in flight, and an event stream open (§5.1);
//   - cut open streams on demand, as a lost network connection does (the request is aborted
//     under Datastar, which then retries: §5.5);
//   - tell vt whenever the page may look different (a DOM mutation, an input, a focus change, a
//     request's state, a stream frame): it calls the Playwright binding `__vtChanged`, once per
//     burst, in a task after the change (so Datastar has applied the frame it came with), and
//     vt's waits re-check their conditions then instead of polling.
// It also logs Datastar's `datastar-fetch` events (started, finished, retrying, ...).
(() => {
  if (window.__vt) return;
  const MAX_REQUESTS = 500;
  const MAX_EVENTS = 5000;
  const vt = {
    pageId: Math.random().toString(36).slice(2),
    pending: 0, // requests whose answer is not complete yet (streams count until open)
    open: 0, // event streams open now (GET answered text/event-stream)
    connects: 0, // event streams opened since the page loaded
    requests: [],
    fetchEvents: [],
    cutters: new Set(),
  };
  window.__vt = vt;
  const now = () => Math.round(performance.timeOrigin + performance.now());
  let told = false;
  vt.changed = () => {
    if (told) return;
    told = true;
    setTimeout(() => {
      told = false;
      const tell = window.__vtChanged;
      if (typeof tell === 'function') tell().catch(() => {});
    }, 0);
  };
  new MutationObserver(vt.changed).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    characterData: true,
  });
  // What changes without a mutation: an input's value, the focus, a signal a gesture set.
  for (const type of ['input', 'change', 'click', 'keydown', 'keyup', 'focusin', 'focusout']) {
    document.addEventListener(type, vt.changed, true);
  }
  // The leak check (§8): where `marker` shows, on the page or in a frame received since `since`.
  vt.leak = (marker, since) => {
    if (document.body && document.body.innerText.includes(marker)) return 'its page shows it';
    for (const r of vt.requests) {
      for (const e of r.events) {
        if (e.t >= since && typeof e.data === 'string' && e.data.includes(marker)) {
          return `it received it in a ${e.event} event: ${JSON.stringify(e.data.slice(0, 300))}`;
        }
      }
    }
    return null;
  };
  vt.settled = () => vt.pending === 0 && vt.open > 0;
  vt.cut = () => {
    const n = vt.cutters.size;
    for (const cut of [...vt.cutters]) cut();
    return n;
  };
  vt.state = () => ({
    pending: vt.pending,
    open: vt.open,
    connects: vt.connects,
    lastRequests: vt.requests.slice(-5).map((r) => `${r.method} ${r.url} -> ${r.status}`),
  });

  document.addEventListener('datastar-fetch', (e) => {
    const d = e.detail || {};
    vt.fetchEvents.push({ t: now(), type: String(d.type) });
    if (vt.fetchEvents.length > MAX_EVENTS) vt.fetchEvents.splice(0, MAX_EVENTS / 2);
    vt.changed();
  });

  // The WHATWG event-stream format (§5.2), read for the record only: Datastar parses its copy.
  const recorder = (rec) => {
    const decoder = new TextDecoder();
    let buffer = '';
    let event = { event: '', data: [], id: null };
    const push = (item) => {
      if (rec.events.length < MAX_EVENTS) rec.events.push(item);
      else rec.dropped += 1;
      vt.changed();
    };
    const line = (text) => {
      if (text === '') {
        if (event.event || event.data.length) {
          push({ t: now(), event: event.event || 'message', data: event.data.join('\n'), id: event.id });
        }
        event = { event: '', data: [], id: null };
        return;
      }
      const colon = text.indexOf(':');
      if (colon === 0) {
        push({ t: now(), comment: text.slice(1).replace(/^ /, '') });
        return;
      }
      const field = colon < 0 ? text : text.slice(0, colon);
      const value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event.event = value;
      else if (field === 'data') event.data.push(value);
      else if (field === 'id') event.id = value;
    };
    let skipLF = false; // the last chunk ended in a CR: a LF starting this one belongs to it
    return (chunk) => {
      buffer += decoder.decode(chunk, { stream: true });
      if (skipLF && buffer.startsWith('\n')) buffer = buffer.slice(1);
      skipLF = false;
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buffer);
        if (!m) break;
        line(buffer.slice(0, m.index));
        buffer = buffer.slice(m.index + m[0].length);
        if (m[0] === '\r' && buffer === '') skipLF = true;
      }
    };
  };

  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const isRequest = typeof Request !== 'undefined' && input instanceof Request;
    const method = String((init && init.method) || (isRequest ? input.method : 'GET')).toUpperCase();
    const url = String(isRequest ? input.url : input);
    const rec = { t: now(), method, url, status: null, stream: false, ended: null, error: null, events: [], dropped: 0 };
    vt.requests.push(rec);
    if (vt.requests.length > MAX_REQUESTS) vt.requests.splice(0, MAX_REQUESTS / 2);
    // Our own signal under the caller's, so vt.cut() can end the request at the network level.
    const ctl = new AbortController();
    const outer = (init && init.signal) || (isRequest ? input.signal : null);
    if (outer) {
      if (outer.aborted) ctl.abort(outer.reason);
      else outer.addEventListener('abort', () => ctl.abort(outer.reason), { once: true });
    }
    vt.pending += 1;
    vt.changed();
    let counted = true;
    const answered = () => {
      if (counted) {
        counted = false;
        vt.pending -= 1;
        vt.changed();
      }
    };
    let res;
    try {
      res = await realFetch(input, { ...(init || {}), signal: ctl.signal });
    } catch (err) {
      rec.error = String(err);
      rec.ended = now();
      answered();
      throw err;
    }
    rec.status = res.status;
    const type = res.headers.get('content-type') || '';
    // Only a 200 carries a stream worth recording (§5.1.3); other statuses pass untouched.
    if (res.status !== 200 || !type.includes('text/event-stream') || !res.body) {
      answered();
      return res;
    }
    // A GET answered with an event stream is the tab's long-lived stream (§5.1); any other
    // event-stream answer (an action's, §4.3) is in flight until it ends.
    const isStream = method === 'GET';
    const cut = () => ctl.abort(new DOMException('vt: connection cut', 'AbortError'));
    const finish = (err) => {
      if (rec.ended !== null) return;
      rec.ended = now();
      if (err) rec.error = String(err);
      if (isStream) {
        vt.open -= 1;
        vt.cutters.delete(cut);
        vt.changed();
      } else {
        answered();
      }
    };
    if (isStream) {
      rec.stream = true;
      vt.open += 1;
      vt.connects += 1;
      vt.cutters.add(cut);
      answered();
      vt.changed();
    }
    const record = recorder(rec);
    const reader = res.body.getReader();
    const body = new ReadableStream({
      async pull(controller) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (err) {
          finish(err);
          controller.error(err);
          return;
        }
        if (chunk.done) {
          finish(null);
          controller.close();
          return;
        }
        try {
          record(chunk.value);
        } catch (_) {
          // The record is best effort: the page gets its bytes whatever happens here.
        }
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        finish(reason || 'cancelled');
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
})();
