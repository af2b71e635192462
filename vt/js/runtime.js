// vt's side of Datastar's client, run in the embedded JavaScript engine (vt/js/engine.py).
//
// What runs here is what Datastar 1.0.1 runs in a browser for one attribute expression:
// the same rewrite (`$a.b` -> `$['a']['b']`, `@post(` -> `__action("post",evt,`), the same
// compiled function (`Function("el","$","__action","evt",...args, body)`), a signal store that
// behaves as Datastar's proxy does (a signal read before it exists, or while null, is created
// as ""; writing null or undefined deletes it), and the actions @peek, @setAll, @toggleAll and
// the fetch actions (which record the request they would send, with the signals they would
// send, at the moment they are called). Display plugins (text, show, attr, class, style,
// json-signals) turn a value into what the element shows, with the plugin's own rules.
//
// Python loads the tab's signals (`__load`), runs functions (`__run`), and takes back the
// signals if they changed, the paths each run read, and the requests (`__take`).
'use strict';
var __root = {};
var __dirty = false;
var __reads = null; // a list while a run records what it reads (display dependencies)
var __peeking = 0;
var __requests = [];
var __console = [];
var __fns = [];
var __fnIndex = new Map();
var __raw = new WeakMap(); // proxy -> the object it wraps
var __proxies = new WeakMap(); // object -> its proxy
var __hasOwn = Object.hasOwn || ((o, k) => Object.prototype.hasOwnProperty.call(o, k));
var __plain = (v) =>
  v !== null &&
  typeof v === 'object' &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

function __unwrap(v) {
  if (v !== null && typeof v === 'object') {
    var r = __raw.get(v);
    if (r !== undefined) return r;
  }
  return v;
}

// A deep copy of a value written into the store (proxies unwrapped, functions kept out).
function __copy(v) {
  v = __unwrap(v);
  if (Array.isArray(v)) return v.map(__copy);
  if (__plain(v)) {
    var out = {};
    for (var k in v) out[k] = __copy(v[k]);
    return out;
  }
  return v;
}

function __wrap(obj, prefix) {
  if (obj === null || typeof obj !== 'object') return obj;
  if (!Array.isArray(obj) && !__plain(obj)) return obj;
  var known = __proxies.get(obj);
  if (known !== undefined && known.prefix === prefix) return known.proxy;
  var isArray = Array.isArray(obj);
  var proxy = new Proxy(obj, {
    get(t, k) {
      if (typeof k === 'symbol') return t[k];
      if (k === 'toJSON' && !__hasOwn(t, k)) return undefined;
      if (isArray && k in Array.prototype) return t[k];
      if (!__hasOwn(t, k) || t[k] == null) {
        // Datastar creates a signal the first time it is read (and re-creates a null one).
        t[k] = '';
        __dirty = true;
      }
      if (__reads !== null && !__peeking) __reads.push(prefix + k);
      return __wrap(t[k], prefix + k + '.');
    },
    set(t, k, v) {
      v = __unwrap(v);
      if (v == null) {
        if (__hasOwn(t, k)) delete t[k];
      } else {
        t[k] = __copy(v);
      }
      __dirty = true;
      return true;
    },
    deleteProperty(t, k) {
      delete t[k];
      __dirty = true;
      return true;
    },
  });
  __raw.set(proxy, obj);
  __proxies.set(obj, { prefix: prefix, proxy: proxy });
  return proxy;
}

function __load(json) {
  __root = JSON.parse(json);
  __dirty = false;
  __requests = [];
  __console = [];
  __proxies = new WeakMap();
  __elCache = new Map();
}

// Datastar's `$()` filter: the leaf signals whose path matches include and not exclude,
// nested again (empty objects drop out).
function __toRegExp(e) {
  return typeof e === 'string' ? RegExp(e.replace(/^\/|\/$/g, '')) : e;
}
function __filtered(opts) {
  return __filteredOf(opts || {}, __root, (path) => __readPath(path));
}
function __readPath(path) {
  var node = __wrap(__root, '');
  for (var part of path.split('.')) node = node[part];
  return __copy(node);
}
function __nest(pairs) {
  var out = {};
  for (var [path, value] of pairs) {
    var parts = path.split('.');
    var last = parts.pop();
    var node = parts.reduce((n, p) => (n[p] = n[p] || {}), out);
    node[last] = value;
  }
  return out;
}
// Datastar's merge (`D`): null deletes, objects merge, the rest replaces.
function __merge(patch, target) {
  target = target || __root;
  for (var key in patch) {
    var value = patch[key];
    if (value == null) delete target[key];
    else if (__plain(value)) {
      if (!(__hasOwn(target, key) && (__plain(target[key]) || Array.isArray(target[key]))))
        target[key] = {};
      __merge(value, target[key]);
    } else target[key] = __copy(value);
  }
  __dirty = true;
}
function __mapLeaves(obj, fn) {
  for (var k in obj) {
    if (__plain(obj[k]) || Array.isArray(obj[k])) __mapLeaves(obj[k], fn);
    else obj[k] = fn(obj[k]);
  }
}

// -- the rewrite and compile of Datastar 1.0.1 (`Sn`) ------------------------------------
var __marker = /🖕JS_DS🚀/.source;
var __open = __marker.slice(0, 5);
var __close = __marker.slice(4);
function __rewrite(value, returnsValue) {
  var s = '';
  if (returnsValue) {
    var statements =
      /(\/(\\\/|[^/])*\/|"(\\"|[^"])*"|'(\\'|[^'])*'|`(\\`|[^`])*`|\(\s*((function)\s*\(\s*\)|(\(\s*\))\s*=>)\s*(?:\{[\s\S]*?\}|[^;){]*)\s*\)\s*\(\s*\)|[^;])+/gm;
    var parts = value.trim().match(statements);
    if (parts) {
      var last = parts.length - 1;
      var tail = parts[last].trim();
      if (!tail.startsWith('return')) parts[last] = `return (${tail});`;
      s = parts.join(';\n');
    }
  } else s = value.trim();
  var escaped = new Map();
  var escapes = RegExp(`(?:${__open})(.*?)(?:${__close})`, 'gm');
  var n = 0;
  for (var m of s.matchAll(escapes)) {
    var inner = m[1];
    var name = `__escaped${n++}`;
    escaped.set(name, inner);
    s = s.replace(__open + inner + __close, name);
  }
  s = s.replace(
    /("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\$]|\$(?!\{))*`)|\$\{([^{}]*)\}|\$([a-zA-Z_\d]\w*(?:[.-]\w+)*)/g,
    (whole, literal, interp, path) =>
      literal
        ? whole
        : interp !== undefined
          ? `\${${interp.replace(/\$([a-zA-Z_\d]\w*(?:[.-]\w+)*)/g, (g, h) =>
              h.split('.').reduce((d, p) => `${d}['${p}']`, '$'),
            )}}`
          : path.split('.').reduce((g, h) => `${g}['${h}']`, '$'),
  );
  s = s.replaceAll(/@([A-Za-z_$][\w$]*)\(/g, '__action("$1",evt,');
  for (var [name2, inner2] of escaped) s = s.replace(name2, inner2);
  return s;
}
function __compile(value, returnsValue, argNames) {
  var cacheKey = (returnsValue ? '1' : '0') + argNames + '\u0000' + value;
  var known = __fnIndex.get(cacheKey);
  if (known !== undefined) return known;
  var body = __rewrite(value, returnsValue);
  var fn;
  try {
    fn = Function('el', '$', '__action', 'evt', ...(argNames ? argNames.split(',') : []), body);
  } catch (e) {
    throw new Error('GenerateExpression: ' + e.message + ' (compiled: ' + body + ')');
  }
  __fns.push(fn);
  __fnIndex.set(cacheKey, __fns.length - 1);
  return __fns.length - 1;
}

// -- actions ---------------------------------------------------------------------------
var __currentEl = null;
var __actions = {
  peek(ctx, fn) {
    __peeking++;
    try {
      return fn();
    } finally {
      __peeking--;
    }
  },
  setAll(ctx, value, filter) {
    __peeking++;
    try {
      var picked = __filtered(filter);
      __mapLeaves(picked, () => __copy(value));
      __merge(picked);
    } finally {
      __peeking--;
    }
  },
  toggleAll(ctx, filter) {
    __peeking++;
    try {
      var picked = __filtered(filter);
      __mapLeaves(picked, (v) => !v);
      __merge(picked);
    } finally {
      __peeking--;
    }
  },
};
var __FETCH_OPTIONS = [
  'selector',
  'headers',
  'contentType',
  'filterSignals',
  'openWhenHidden',
  'payload',
  'requestCancellation',
  'retry',
  'retryInterval',
  'retryScaler',
  'retryMaxWait',
  'retryMaxCount',
];
for (var [__name, __method] of [
  ['get', 'GET'],
  ['post', 'POST'],
  ['put', 'PUT'],
  ['patch', 'PATCH'],
  ['delete', 'DELETE'],
]) {
  ((name, method) => {
    __actions[name] = (ctx, url, options) => {
      if (!url || !url.length) throw new Error('FetchNoUrlProvided: @' + name + ' needs a URL');
      options = options || {};
      var contentType = options.contentType === undefined ? 'json' : options.contentType;
      var request = { method: method, url: String(url), contentType: contentType, el: ctx.el };
      var unknown = Object.keys(options).filter((k) => !__FETCH_OPTIONS.includes(k));
      if (unknown.length) request.unknownOptions = unknown;
      if (options.selector !== undefined) request.selector = String(options.selector);
      if (options.headers !== undefined) {
        request.headers = {};
        for (var h in options.headers) request.headers[h] = String(options.headers[h]);
      }
      for (var o of [
        'openWhenHidden',
        'requestCancellation',
        'retry',
        'retryInterval',
        'retryScaler',
        'retryMaxWait',
        'retryMaxCount',
      ])
        if (options[o] !== undefined && typeof options[o] !== 'object') request[o] = options[o];
      if (contentType === 'json') {
        __peeking++;
        try {
          var filter = options.filterSignals || {};
          var sent =
            options.payload !== undefined
              ? __copy(options.payload)
              : __filtered({
                  include: filter.include === undefined ? /.*/ : filter.include,
                  exclude: filter.exclude === undefined ? /(^|\.)_/ : filter.exclude,
                });
          request.signals = JSON.stringify(sent);
        } finally {
          __peeking--;
        }
      } else if (contentType !== 'form') {
        throw new Error('FetchInvalidContentType: ' + contentType);
      }
      __requests.push(request);
      return Promise.resolve();
    };
  })(__name, __method);
}
function __action(name, evt, ...args) {
  var fn = __actions[name];
  if (!fn) throw new Error('UndefinedAction: @' + name + ' is not an action of Datastar 1.0');
  return fn({ el: __currentEl, evt: evt }, ...args);
}

// -- the element and the event an expression sees ----------------------------------------
// `el` is a small element: what vt holds of it, read from Python when the expression asks.
// `el` is a small element: what vt holds of it, read from Python when the expression asks.
// One shared handler, one tiny target per element and batch: expressions that never touch
// `el` (most display expressions) cost next to nothing for it.
var __elCache = new Map();
var __ask = (handle, what, arg) => __host(handle, what, arg === undefined ? null : arg);
var __EL_PROPS = {
  id: (h) => __ask(h, 'id'),
  tagName: (h) => __ask(h, 'tagName'),
  value: (h) => __ask(h, 'value'),
  checked: (h) => __ask(h, 'checked'),
  textContent: (h) => __ask(h, 'textContent'),
  innerText: (h) => __ask(h, 'textContent'),
  dataset: (h) => JSON.parse(__ask(h, 'dataset')),
  name: (h) => __ask(h, 'attr', 'name'),
  type: (h) => __ask(h, 'attr', 'type'),
  disabled: (h) => __ask(h, 'attr', 'disabled') !== null,
  form: (h) => __element(__ask(h, 'closest', 'form')),
  parentElement: (h) => __element(__ask(h, 'parent')),
};
var __EL_METHODS = {
  getAttribute: (h) => (n) => __ask(h, 'attr', String(n)),
  hasAttribute: (h) => (n) => __ask(h, 'attr', String(n)) !== null,
  setAttribute: (h) => (n, v) => __ask(h, 'setAttr', JSON.stringify([String(n), String(v)])),
  removeAttribute: (h) => (n) => __ask(h, 'setAttr', JSON.stringify([String(n), null])),
  closest: (h) => (sel) => __element(__ask(h, 'closest', String(sel))),
  querySelector: (h) => (sel) => __element(__ask(h, 'query', String(sel))),
  remove: (h) => () => __ask(h, 'remove'),
  focus: () => () => undefined,
  blur: () => () => undefined,
  click: () => () => undefined,
  toString: () => () => '[object HTMLElement]',
  toJSON: () => () => ({}),
};
var __EL_SETTERS = {
  value: (h, v) => __ask(h, 'setValue', String(v)),
  checked: (h, v) => __ask(h, 'setChecked', !!v),
};
var __EL_HANDLER = {
  get(t, k) {
    if (typeof k === 'symbol' || k === 'then' || k === 'constructor') return undefined;
    if (k === '__handle') return t.h;
    if (k in __EL_PROPS) return __EL_PROPS[k](t.h);
    if (k in __EL_METHODS) return __EL_METHODS[k](t.h);
    // What vt's element does not have (layout, the DOM beyond the element) is refused by
    // name rather than read as undefined.
    throw new Error(
      `VtUnsupported: el.${k} is not something vt's element has (it has ` +
        Object.keys(__EL_PROPS).concat(Object.keys(__EL_METHODS)).join(', ') + ')',
    );
  },
  set(t, k, v) {
    if (k in __EL_SETTERS) __EL_SETTERS[k](t.h, v);
    return true;
  },
  has(t, k) {
    return k in __EL_PROPS || k in __EL_METHODS;
  },
};
function __element(handle) {
  if (handle === null || handle === undefined) return null;
  var known = __elCache.get(handle);
  if (known === undefined) {
    known = new Proxy({ h: handle }, __EL_HANDLER);
    __elCache.set(handle, known);
  }
  return known;
}
function __event(spec) {
  if (spec === null) return undefined;
  var evt = JSON.parse(spec);
  evt.target = __element(evt.target);
  evt.currentTarget = __element(evt.currentTarget);
  evt.defaultPrevented = false;
  evt.__stopped = false;
  evt.preventDefault = () => { evt.defaultPrevented = true; };
  evt.stopPropagation = () => { evt.__stopped = true; };
  evt.stopImmediatePropagation = () => { evt.__stopped = true; };
  return evt;
}

var confirm = (m) => {
  __console.push(`vt: confirm('${m}') answered OK`);
  return true;
};
var alert = () => undefined;
var prompt = (message, value) => (value === undefined ? '' : String(value));
var console = {
  log: (...a) => __console.push(a.map(String).join(' ')),
  info: (...a) => __console.push(a.map(String).join(' ')),
  warn: (...a) => __console.push(a.map(String).join(' ')),
  error: (...a) => __console.push(a.map(String).join(' ')),
};
var window = globalThis;

// -- running -----------------------------------------------------------------------------
// One run: the function `id` for element `handle`, with `evt` (JSON or null) and extra args
// (JSON array). Returns JSON: {v: value} or {u: 1} (undefined) or {e: message}, plus `r`
// (the paths read, when asked), `p`/`s` (evt.preventDefault / stopPropagation called).
function __run(id, handle, evtSpec, argsJson, record) {
  var evt = __event(evtSpec);
  var el = __element(handle);
  var args = argsJson === null ? [] : JSON.parse(argsJson);
  __currentEl = handle;
  __reads = record ? [] : null;
  var out = {};
  try {
    var extra = evtSpec === null ? args : [evt, ...args];
    var value = __fns[id](el, __wrap(__root, ''), __action, undefined, ...extra);
    if (value === undefined) out.u = 1;
    else out.v = __copy(value);
  } catch (e) {
    out.e = e instanceof Error ? e.name + ': ' + e.message : 'Uncaught ' + String(e);
  }
  if (record) out.r = __reads;
  __reads = null;
  if (evt) {
    if (evt.defaultPrevented) out.p = 1;
    if (evt.__stopped) out.s = 1;
  }
  return __encode(out);
}
function __encode(out) {
  try {
    return JSON.stringify(out, (k, v) => (typeof v === 'function' ? v.toString() : v));
  } catch (e) {
    return JSON.stringify({ e: 'TypeError: ' + e.message });
  }
}

// What a display plugin makes of a value, as Datastar's plugin does. The answer is one string
// (JSON is slow in QuickJS, and this is the hot path: every display attribute after every
// event): `E<error>`, `T<text>`, `S1`/`S0`, `P<name>\x1f<value or \x01>\x1e...` (pairs), or
// `V<json>`; the paths read wait in `__lastReads` (`__readsText()`).
var __lastReads = [];
function __display(kind, id, handle, record, keyed) {
  __currentEl = handle;
  __reads = record ? [] : null;
  var out;
  try {
    var value = __fns[id](__element(handle), __wrap(__root, ''), __action, undefined);
    if (kind === 'text') out = 'T' + `${value}`;
    else if (kind === 'show') out = value ? 'S1' : 'S0';
    else if (kind === 'attr' || kind === 'class' || kind === 'style') out = 'P' + (keyed ? '\x1f' + __one(kind, value) : __pairs(kind, value));
    else out = 'V' + JSON.stringify(__copy(value));
  } catch (e) {
    out = 'E' + (e instanceof Error ? e.name + ': ' + e.message : 'Uncaught ' + String(e));
  }
  __lastReads = __reads || [];
  __reads = null;
  return out;
}
function __readsText() {
  return __lastReads.join('\n');
}
function __attrValue(c) {
  if (c === '' || c === true) return '';
  if (c === false || c == null) return null;
  if (typeof c === 'string') return c;
  if (typeof c === 'function') return c.toString();
  return JSON.stringify(__copy(c), (l, u) => (typeof u === 'function' ? u.toString() : u));
}
// Name/value pairs for attr (string or null), class (1 or 0), style (string or null); a
// keyless attribute's object gives its keys, a keyed one's value has the name "".
function __pairs(kind, value) {
  if (value === null || typeof value !== 'object') return '\x1f' + __one(kind, value);
  var out = [];
  for (var key in value) out.push(key + '\x1f' + __one(kind, value[key]));
  return out.join('\x1e');
}
function __one(kind, v) {
  if (kind === 'attr') {
    var a = __attrValue(v);
    return a === null ? '\x01' : a;
  }
  if (kind === 'class') return v ? '1' : '0';
  return !v && v !== 0 ? '\x01' : String(v);
}
// data-computed: `data-computed:a.b="expr"` sets the signal to the value; the keyless form
// takes an object of functions and sets each key to what its function returns.
function __computed(id, handle, path) {
  __currentEl = handle;
  var out = {};
  try {
    var value = __fns[id](__element(handle), __wrap(__root, ''), __action, undefined);
    var pairs = [];
    if (path) pairs.push([path, value]);
    else {
      var walk = (obj, prefix) => {
        for (var k in obj) {
          var v = obj[k];
          if (typeof v === 'function') pairs.push([prefix + k, v()]);
          else if (__plain(v)) walk(v, prefix + k + '.');
          else throw new Error('ComputedExpectedFunction: ' + prefix + k + ' is not a function');
        }
      };
      walk(Object.assign({}, value), '');
    }
    for (var [p, v] of pairs) __setPath(p, v);
  } catch (e) {
    out.e = e instanceof Error ? e.name + ': ' + e.message : 'Uncaught ' + String(e);
  }
  return __encode(out);
}
// A computed signal read inside an action is computed then (Datastar's are lazy getters).
function __defineComputed(path, id, handle) {
  var parts = path.split('.');
  var last = parts.pop();
  var node = __root;
  for (var p of parts) {
    if (!__plain(node[p])) node[p] = {};
    node = node[p];
  }
  Object.defineProperty(node, last, {
    get: () => __copy(__fns[id](__element(handle), __wrap(__root, ''), __action, undefined)),
    set: () => {},
    enumerable: true,
    configurable: true,
  });
}
function __setPath(path, value, ifMissing) {
  var parts = path.split('.');
  var last = parts.pop();
  var node = __root;
  for (var p of parts) {
    if (!__plain(node[p]) && !Array.isArray(node[p])) node[p] = {};
    node = node[p];
  }
  if (ifMissing && __hasOwn(node, last)) return;
  value = __unwrap(value);
  if (value == null) delete node[last];
  else node[last] = __copy(value);
  __dirty = true;
}
// data-on-signal-patch: Datastar filters the patch's detail (`$(filter, detail)`) and runs
// the expression with it as `patch` when anything is left.
function __filteredOf(opts, obj, read) {
  var include = __toRegExp(opts.include === undefined ? /.*/ : opts.include);
  var exclude = __toRegExp(opts.exclude === undefined ? /(?!)/ : opts.exclude);
  var pairs = [];
  var stack = [[obj, '']];
  while (stack.length) {
    var [node, prefix] = stack.pop();
    for (var key in node) {
      var path = prefix + key;
      if (__plain(node[key])) stack.push([node[key], path + '.']);
      else if (include.test(path) && !exclude.test(path))
        pairs.push([path, read ? read(path) : node[key]]);
    }
  }
  return __nest(pairs);
}
function __signalPatch(id, handle, filterText, detailJson) {
  var out = {};
  try {
    var filter = filterText ? Function('return (' + filterText + ')')() : {};
    var picked = __filteredOf(filter || {}, JSON.parse(detailJson));
    if (Object.keys(picked).length === 0) return __encode({ u: 1 });
    __currentEl = handle;
    __fns[id](__element(handle), __wrap(__root, ''), __action, undefined, picked);
    out.v = true;
  } catch (e) {
    out.e = e instanceof Error ? e.name + ': ' + e.message : 'Uncaught ' + String(e);
  }
  return __encode(out);
}
function __jsonSignals(filterText, terse) {
  var filter = filterText ? JSON.parse(filterText) : {};
  __peeking++;
  try {
    return JSON.stringify(__filtered(filter), null, terse ? 0 : 2);
  } finally {
    __peeking--;
  }
}
function __take() {
  if (!__dirty && __requests.length === 0 && __console.length === 0) return '';
  var out = { c: __console, q: __requests };
  if (__dirty) out.s = __root;
  __dirty = false;
  __requests = [];
  __console = [];
  return __encode(out);
}
