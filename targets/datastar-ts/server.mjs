// vt's TypeScript-SDK target: Node's http + @starfederation/datastar-sdk, on 127.0.0.1.
//
// Serves the SDK test endpoint /test and the small plain-Datastar chat that
// targets/README.md describes (the same DOM as the Python and Go targets). Run:
//
//     node targets/datastar-ts/server.mjs --port 8000 [--datastar-js PATH]
import { createReadStream } from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";

import { ServerSentEventGenerator as SSE } from "@starfederation/datastar-sdk";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "8000" },
    "datastar-js": { type: "string" },
  },
});

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
// The same five entities in all three targets, so their bytes match too.
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** The #messages list; the markup is the same in all three targets. */
function renderMessages(messages) {
  const items = messages
    .map(
      ([name, text]) =>
        `<li class="message"><b class="author">${escape(name)}</b>: ` +
        `<span class="text">${escape(text)}</span></li>`,
    )
    .join("");
  return `<ul id="messages">${items}</ul>`;
}

const PAGE_HEAD = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vt chat</title>
<script type="module" src="/datastar.js"></script>
</head>
<body>
<main id="chat" data-signals='{"name": "", "draft": ""}' data-init="@get('/stream')">
<h1>Chat</h1>
`;

const PAGE_TAIL = `
<form id="composer" data-on:submit__prevent="@post('/send')">
<input id="name" data-bind="name" placeholder="Your name">
<input id="draft" data-bind="draft" placeholder="Message">
<button id="send" type="submit">Send</button>
</form>
</main>
</body>
</html>
`;

/** Send one /test event (see targets/README.md) with the SDK. */
function sendTestEvent(sse, event) {
  const common = {};
  if (event.eventId !== undefined) common.eventId = event.eventId;
  if (event.retryDuration !== undefined) common.retryDuration = event.retryDuration;
  switch (event.type) {
    case "patchElements": {
      const options = { ...common };
      for (const key of ["selector", "mode", "useViewTransition", "namespace"]) {
        if (event[key] !== undefined) options[key] = event[key];
      }
      return sse.patchElements(event.elements ?? "", options);
    }
    case "removeElements":
      return sse.removeElements(event.selector, event.elements, common);
    case "patchSignals": {
      const options = { ...common };
      if (event.onlyIfMissing !== undefined) options.onlyIfMissing = event.onlyIfMissing;
      const text = event["signals-raw"] ?? JSON.stringify(event.signals ?? {});
      return sse.patchSignals(text, options);
    }
    case "removeSignals": {
      const options = { ...common };
      if (event.onlyIfMissing !== undefined) options.onlyIfMissing = event.onlyIfMissing;
      return sse.removeSignals(event.keys ?? [], options);
    }
    case "executeScript": {
      const options = { ...common };
      if (event.autoRemove !== undefined) options.autoRemove = event.autoRemove;
      if (event.attributes !== undefined) options.attributes = event.attributes;
      return sse.executeScript(event.script, options);
    }
    default:
      throw new Error(`unknown event type ${JSON.stringify(event.type)}`);
  }
}

const room = { messages: [], streams: new Set() };

async function handleTest(req, res) {
  const read = await SSE.readSignals(req);
  if (!read.success) {
    res.writeHead(400, { "Content-Type": "text/plain" }).end(`cannot read signals: ${read.error}`);
    return;
  }
  await SSE.stream(req, res, (sse) => {
    for (const event of read.signals.events ?? []) {
      try {
        sendTestEvent(sse, event);
      } catch (error) {
        console.error(`/test: ${event.type}: ${error.message}`);
      }
    }
  });
}

async function handleStream(req, res) {
  await SSE.stream(
    req,
    res,
    (sse) => {
      const push = (listing) => sse.patchElements(listing);
      room.streams.add(push);
      push(renderMessages(room.messages));
      req.on("close", () => room.streams.delete(push));
    },
    { keepalive: true },
  );
}

async function handleSend(req, res) {
  const read = await SSE.readSignals(req);
  if (!read.success) {
    res.writeHead(400, { "Content-Type": "text/plain" }).end(`cannot read signals: ${read.error}`);
    return;
  }
  const text = String(read.signals.draft ?? "").trim();
  if (!text) {
    res.writeHead(204).end();
    return;
  }
  const name = String(read.signals.name ?? "").trim() || "anonymous";
  room.messages.push([name, text]);
  const listing = renderMessages(room.messages);
  for (const push of room.streams) push(listing);
  await SSE.stream(req, res, (sse) => {
    sse.patchSignals(JSON.stringify({ draft: "" }));
  });
}

function handleClient(res) {
  const path = args["datastar-js"];
  if (!path) {
    res
      .writeHead(404, { "Content-Type": "text/plain" })
      .end("start the target with --datastar-js PATH to serve the client");
    return;
  }
  res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
  createReadStream(path).pipe(res);
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, "http://127.0.0.1");
  const route = `${req.method} ${pathname}`;
  const done = (promise) =>
    promise.catch((error) => {
      console.error(`${route}: ${error.stack ?? error}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  if (pathname === "/test" && (req.method === "GET" || req.method === "POST")) {
    done(handleTest(req, res));
  } else if (route === "GET /") {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(PAGE_HEAD + renderMessages(room.messages) + PAGE_TAIL);
  } else if (route === "GET /stream") {
    done(handleStream(req, res));
  } else if (route === "POST /send") {
    done(handleSend(req, res));
  } else if (route === "GET /datastar.js") {
    handleClient(res);
  } else {
    res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
  }
});

const stop = () => {
  // Streams never end by themselves: drop them rather than wait.
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

server.listen(Number(args.port), "127.0.0.1", () => {
  console.log(`datastar-ts target on http://127.0.0.1:${args.port}`);
});
