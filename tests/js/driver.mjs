#!/usr/bin/env node
// Interop driver: controls any number of named official Yjs clients
// (Y.Doc + y-websocket WebsocketProvider) so that a Python test can script
// scenarios against a running server.
//
// Protocol: one JSON object per line on stdin, one JSON object per line on stdout.
//   request : {"id": 1, "cmd": "open", ...args}
//   reply   : {"id": 1, "ok": true, "result": ...}
//             {"id": 1, "ok": false, "error": "message"}
//   event   : {"event": "status" | "sync" | "connection-close" | "closed" |
//              "connection-error" | "permission-denied" | "error", "name": ..., ...}
// Replies may come out of order (waits run concurrently); match them by id.
// Nothing else is ever written to stdout: console.log is redirected to stderr.
//
// Commands (name = the client's name given to "open"):
//   open          {name, url, room, params?, protocols?, connect?=true, max_backoff_ms?=500,
//                  resync_interval_ms?=-1, disable_bc?=true} -> {client_id, url}
//   wait_synced   {name, timeout_ms?}                     -> status
//   set           {name, map?="m", key, value}
//   set_many      {name, map?="m", entries: {k: v}, separate?=true}  (separate = one
//                  transaction per key, otherwise one transaction for all)
//   map_delete    {name, map?="m", key}
//   text_insert   {name, text?="t", index, value}         (index -1 = append)
//   text_delete   {name, text?="t", index, length}
//   array_insert  {name, array?="a", index, values}       (index -1 = append)
//   get           {name, maps?=["m"], texts?=["t"], arrays?=[]} -> {<type name>: json}
//   encode_state  {name}                                  -> base64 update (whole doc)
//   state_vector  {name}                                  -> base64 state vector
//   apply_update  {name, update (base64)}                 (local change, gets sent)
//   disconnect    {name}                                  provider.disconnect(), doc kept
//   connect       {name}                                  provider.connect()
//   awareness_set {name, state}                           setLocalState(state), null allowed
//   awareness_set_field {name, field, value}
//   awareness_get {name}                                  -> {clientID: state}
//   status        {name}                                  -> {connected, connecting, synced, ...}
//   wait_for      {name, kind: map|text|array|awareness|status, map?/text?/array?, key?,
//                  equals?, contains?, absent?, present?, size?, timeout_ms?} -> observed value
//   wait_converged {names: [...], maps?, texts?, arrays?, timeout_ms?} -> common content
//   batch         {commands: [{cmd, ...}, ...]}  synchronous commands run in the same tick,
//                  i.e. no network message is processed in between -> [results]
//   close         {name}                                  provider.destroy() + doc.destroy()
//   crash         {name}   drop the TCP connection abruptly (no close frame, no awareness
//                          goodbye) and forget the client: the server alone must clean up
//   list          {}                                      -> [names]
//   quit          {}                                      destroy everything and exit
//
// y-websocket facts this relies on: the provider connects to url + "/" + room + "?" + params,
// is synced once it received a SyncStep2, and in Node >= 18 it would also sync same-room
// providers of this process through BroadcastChannel, bypassing the server entirely.
// BroadcastChannel is therefore disabled unless "disable_bc": false is passed.

import { readFileSync } from 'node:fs'
import * as readline from 'node:readline'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import * as authProtocol from 'y-protocols/auth'
import WebSocket from 'ws'

// y-websocket refers to the global WebSocket in a few places (default polyfill, the
// resyncInterval timer); Node 20 has none.
if (typeof globalThis.WebSocket === 'undefined') {
  globalThis.WebSocket = WebSocket
}

// keep stdout clean for the protocol
console.log = (...args) => console.error(...args)
console.info = (...args) => console.error(...args)

const out = (obj) => {
  process.stdout.write(JSON.stringify(obj) + '\n')
}
const emit = (event, name, fields = {}) => out({ event, name, ...fields })

process.on('uncaughtException', (err) => {
  console.error('driver: uncaught exception', err)
  emit('error', null, { message: String(err && err.stack ? err.stack : err) })
})
process.on('unhandledRejection', (err) => {
  console.error('driver: unhandled rejection', err)
  emit('error', null, { message: String(err && err.stack ? err.stack : err) })
})

class CommandError extends Error {}

const fail = (msg) => { throw new CommandError(msg) }

/** @type {Map<string, Client>} */
const clients = new Map()

const MSG_NAMES = ['sync', 'awareness', 'auth', 'query_awareness']
const SYNC_NAMES = ['sync_step1', 'sync_step2', 'sync_update']

/** classify a y-websocket message by its first bytes */
const classify = (data) => {
  let bytes
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data)
  else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  else return 'text'
  if (bytes.length === 0) return 'empty'
  const type = bytes[0]
  if (type === 0) return SYNC_NAMES[bytes[1]] ?? 'sync_unknown'
  return MSG_NAMES[type] ?? `type_${type}`
}

const bump = (counter, key) => { counter[key] = (counter[key] ?? 0) + 1 }

class Client {
  constructor (name, opts) {
    this.name = name
    this.doc = new Y.Doc()
    this.received = {}
    this.sent = {}
    this.closes = []
    /** @type {Set<() => void>} */
    this.watchers = new Set()
    const client = this
    // per-client WebSocket class that counts frames and lets us terminate abruptly
    class TracingWebSocket extends WebSocket {
      constructor (url, protocols) {
        super(url, protocols)
        client.socket = this
        this.addEventListener('message', (ev) => bump(client.received, classify(ev.data)))
      }

      send (data, ...rest) {
        bump(client.sent, classify(data))
        return super.send(data, ...rest)
      }
    }
    this.provider = new WebsocketProvider(opts.url, opts.room, this.doc, {
      WebSocketPolyfill: TracingWebSocket,
      params: opts.params ?? {},
      protocols: opts.protocols ?? [],
      connect: false,
      resyncInterval: opts.resync_interval_ms ?? -1,
      maxBackoffTime: opts.max_backoff_ms ?? 500,
      disableBc: opts.disable_bc ?? true
    })
    const p = this.provider
    // surface permission-denied auth messages (type 2) instead of only console.warn-ing
    p.messageHandlers[2] = (_encoder, decoder, provider) => {
      authProtocol.readAuthMessage(decoder, provider.doc, (_doc, reason) => {
        emit('permission-denied', name, { reason })
      })
      this.notify()
    }
    p.on('status', ({ status }) => { emit('status', name, { status }); this.notify() })
    p.on('sync', (synced) => { emit('sync', name, { synced }); this.notify() })
    p.on('connection-close', (ev) => {
      const rec = ev == null
        ? { local: true, code: null, reason: null, was_clean: null }
        : { local: false, code: ev.code, reason: ev.reason, was_clean: ev.wasClean }
      this.closes.push(rec)
      emit('connection-close', name, rec)
      this.notify()
    })
    p.on('closed', ({ code, reason }) => { emit('closed', name, { code, reason }); this.notify() })
    p.on('connection-error', (ev) => {
      emit('connection-error', name, { message: String(ev?.message ?? ev?.error ?? 'error') })
      this.notify()
    })
    this.doc.on('update', () => this.notify())
    p.awareness.on('update', () => this.notify())
    if (opts.connect ?? true) p.connect()
  }

  notify () {
    for (const w of [...this.watchers]) w()
  }

  status () {
    const p = this.provider
    return {
      name: this.name,
      client_id: this.doc.clientID,
      url: p.url,
      connected: p.wsconnected,
      connecting: p.wsconnecting,
      synced: p.synced,
      should_connect: p.shouldConnect,
      unsuccessful_reconnects: p.wsUnsuccessfulReconnects,
      received: { ...this.received },
      sent: { ...this.sent },
      closes: [...this.closes]
    }
  }

  awarenessStates () {
    const res = {}
    this.provider.awareness.getStates().forEach((state, clientID) => { res[String(clientID)] = state })
    return res
  }

  content ({ maps = ['m'], texts = ['t'], arrays = [] } = {}) {
    const res = {}
    for (const m of maps) res[m] = this.doc.getMap(m).toJSON()
    for (const t of texts) res[t] = this.doc.getText(t).toString()
    for (const a of arrays) res[a] = this.doc.getArray(a).toJSON()
    return res
  }

  destroy () {
    this.watchers.clear()
    this.provider.destroy()
    this.doc.destroy()
  }
}

const client = (args) => {
  if (typeof args.name !== 'string') fail('missing "name"')
  const c = clients.get(args.name)
  if (c === undefined) fail(`no client named ${JSON.stringify(args.name)}`)
  return c
}

// ---------------------------------------------------------------- predicates

const MISSING = Symbol('missing')

const deepEqual = (a, b) => {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
}

/** `part` is contained in `whole`: substring, deep subset of an object, element of an array */
const contains = (whole, part) => {
  if (typeof whole === 'string') return typeof part === 'string' && whole.includes(part)
  if (Array.isArray(whole)) return whole.some((x) => deepEqual(x, part) || (typeof part === 'object' && part !== null && !Array.isArray(part) && contains(x, part)))
  if (typeof whole === 'object' && whole !== null && typeof part === 'object' && part !== null) {
    return Object.entries(part).every(([k, v]) => Object.hasOwn(whole, k) &&
      (deepEqual(whole[k], v) || (typeof v === 'object' && v !== null && contains(whole[k], v))))
  }
  return deepEqual(whole, part)
}

const sizeOf = (v) => {
  if (typeof v === 'string' || Array.isArray(v)) return v.length
  if (typeof v === 'object' && v !== null) return Object.keys(v).length
  return undefined
}

const observe = (c, args) => {
  let value
  switch (args.kind) {
    case 'map': value = c.doc.getMap(args.map ?? 'm').toJSON(); break
    case 'text': value = c.doc.getText(args.text ?? 't').toString(); break
    case 'array': value = c.doc.getArray(args.array ?? 'a').toJSON(); break
    case 'awareness': value = c.awarenessStates(); break
    case 'status': value = c.status(); break
    default: fail(`unknown kind ${JSON.stringify(args.kind)}`)
  }
  if (args.key !== undefined && args.key !== null) {
    const key = String(args.key)
    value = (typeof value === 'object' && value !== null && Object.hasOwn(value, key)) ? value[key] : MISSING
  }
  return value
}

const holds = (value, args) => {
  if (args.absent === true && value !== MISSING) return false
  if (args.present === true && value === MISSING) return false
  if (Object.hasOwn(args, 'equals') && (value === MISSING || !deepEqual(value, args.equals))) return false
  if (Object.hasOwn(args, 'contains') && (value === MISSING || !contains(value, args.contains))) return false
  if (Object.hasOwn(args, 'size') && (value === MISSING || sizeOf(value) !== args.size)) return false
  return true
}

const show = (v) => v === MISSING ? '<missing>' : JSON.stringify(v)

const DEFAULT_TIMEOUT = 10000
const POLL_MS = 200 // safety net only; waits are driven by doc/awareness/provider events

/**
 * Resolve with check()'s non-undefined result once it holds, re-checking on events of the
 * given clients; reject after timeout_ms with describe().
 */
const waitUntil = (watched, timeoutMs, check, describe) => new Promise((resolve, reject) => {
  let done = false
  let timer = null
  let poll = null
  const finish = (fn, v) => {
    if (done) return
    done = true
    clearTimeout(timer)
    clearInterval(poll)
    for (const c of watched) c.watchers.delete(watcher)
    fn(v)
  }
  const watcher = () => {
    try {
      const r = check()
      if (r !== undefined) finish(resolve, r)
    } catch (e) {
      finish(reject, e)
    }
  }
  for (const c of watched) c.watchers.add(watcher)
  timer = setTimeout(() => {
    let detail
    try { detail = describe() } catch (e) { detail = String(e) }
    finish(reject, new CommandError(`timeout after ${timeoutMs} ms: ${detail}`))
  }, timeoutMs)
  poll = setInterval(watcher, POLL_MS)
  watcher()
})

// ---------------------------------------------------------------- commands

const syncCommands = {
  open (args) {
    if (typeof args.name !== 'string') fail('missing "name"')
    if (clients.has(args.name)) fail(`client ${JSON.stringify(args.name)} already exists`)
    if (typeof args.url !== 'string') fail('missing "url"')
    if (typeof args.room !== 'string') fail('missing "room"')
    const params = {}
    for (const [k, v] of Object.entries(args.params ?? {})) params[k] = String(v)
    const c = new Client(args.name, { ...args, params })
    clients.set(args.name, c)
    return { client_id: c.doc.clientID, url: c.provider.url }
  },
  set (args) {
    const c = client(args)
    if (args.key === undefined) fail('missing "key"')
    c.doc.getMap(args.map ?? 'm').set(String(args.key), args.value ?? null)
    return null
  },
  set_many (args) {
    const c = client(args)
    const m = c.doc.getMap(args.map ?? 'm')
    const entries = Object.entries(args.entries ?? {})
    if (args.separate ?? true) {
      for (const [k, v] of entries) m.set(k, v)
    } else {
      c.doc.transact(() => { for (const [k, v] of entries) m.set(k, v) })
    }
    return null
  },
  map_delete (args) {
    const c = client(args)
    c.doc.getMap(args.map ?? 'm').delete(String(args.key))
    return null
  },
  text_insert (args) {
    const c = client(args)
    const t = c.doc.getText(args.text ?? 't')
    const index = args.index === undefined || args.index < 0 ? t.length : args.index
    if (index > t.length) fail(`index ${index} beyond text length ${t.length}`)
    t.insert(index, String(args.value))
    return null
  },
  text_delete (args) {
    const c = client(args)
    c.doc.getText(args.text ?? 't').delete(args.index, args.length)
    return null
  },
  array_insert (args) {
    const c = client(args)
    const a = c.doc.getArray(args.array ?? 'a')
    const index = args.index === undefined || args.index < 0 ? a.length : args.index
    a.insert(index, args.values ?? [])
    return null
  },
  get (args) {
    return client(args).content(args)
  },
  encode_state (args) {
    return Buffer.from(Y.encodeStateAsUpdate(client(args).doc)).toString('base64')
  },
  state_vector (args) {
    return Buffer.from(Y.encodeStateVector(client(args).doc)).toString('base64')
  },
  apply_update (args) {
    Y.applyUpdate(client(args).doc, new Uint8Array(Buffer.from(args.update, 'base64')))
    return null
  },
  disconnect (args) {
    client(args).provider.disconnect()
    return null
  },
  connect (args) {
    client(args).provider.connect()
    return null
  },
  awareness_set (args) {
    client(args).provider.awareness.setLocalState(args.state ?? null)
    return null
  },
  awareness_set_field (args) {
    client(args).provider.awareness.setLocalStateField(args.field, args.value ?? null)
    return null
  },
  awareness_get (args) {
    return client(args).awarenessStates()
  },
  status (args) {
    return client(args).status()
  },
  close (args) {
    const c = client(args)
    clients.delete(c.name)
    c.destroy()
    return null
  },
  crash (args) {
    const c = client(args)
    clients.delete(c.name)
    const p = c.provider
    // stop everything that could still talk to the server, then cut the TCP connection
    p.shouldConnect = false
    p.awareness.off('update', p._awarenessUpdateHandler)
    c.doc.off('update', p._updateHandler)
    const sock = p.ws
    if (sock !== null) sock.terminate()
    c.destroy()
    return null
  },
  list () {
    return [...clients.keys()]
  }
}

const asyncCommands = {
  async wait_synced (args) {
    const c = client(args)
    const timeout = args.timeout_ms ?? DEFAULT_TIMEOUT
    return waitUntil([c], timeout,
      () => c.provider.synced ? c.status() : undefined,
      () => `client ${c.name} not synced; status ${JSON.stringify(c.status())}`)
  },
  async wait_for (args) {
    const c = client(args)
    const timeout = args.timeout_ms ?? DEFAULT_TIMEOUT
    observe(c, args) // validate kind early
    return waitUntil([c], timeout,
      () => {
        const v = observe(c, args)
        return holds(v, args) ? (v === MISSING ? null : v) : undefined
      },
      () => {
        const { id: _id, cmd: _cmd, ...cond } = args
        return `client ${c.name}: condition ${JSON.stringify(cond)} not met; last value ${show(observe(c, args))}`
      })
  },
  async wait_converged (args) {
    const names = args.names ?? [...clients.keys()]
    if (names.length === 0) fail('no clients')
    const cs = names.map((name) => client({ name }))
    const timeout = args.timeout_ms ?? DEFAULT_TIMEOUT
    const snapshot = () => cs.map((c) => ({
      sv: Buffer.from(Y.encodeStateVector(c.doc)).toString('base64'),
      content: c.content(args)
    }))
    return waitUntil(cs, timeout,
      () => {
        const snaps = snapshot()
        const first = snaps[0]
        const same = snaps.every((s) => s.sv === first.sv && deepEqual(s.content, first.content))
        return same ? first.content : undefined
      },
      () => `clients did not converge: ${JSON.stringify(Object.fromEntries(cs.map((c, i) => [c.name, snapshot()[i].content])))}`)
  },
  async batch (args) {
    const results = []
    for (const sub of args.commands ?? []) {
      const fn = syncCommands[sub.cmd]
      if (fn === undefined) fail(`batch: ${JSON.stringify(sub.cmd)} is not a synchronous command`)
      results.push(fn(sub))
    }
    return results
  }
}

let quitting = false

const quit = (id) => {
  if (quitting) return
  quitting = true
  for (const c of clients.values()) {
    try { c.destroy() } catch (e) { console.error(e) }
  }
  clients.clear()
  const line = id === undefined ? '' : JSON.stringify({ id, ok: true, result: null }) + '\n'
  // let destroy()'s goodbye frames go out, then flush stdout and leave
  setTimeout(() => process.stdout.write(line, () => process.exit(0)), 50)
}

const handle = async (msg) => {
  const { cmd } = msg
  if (cmd === 'quit') return quit(msg.id)
  const sync = syncCommands[cmd]
  const run = sync ?? asyncCommands[cmd]
  if (run === undefined) fail(`unknown command ${JSON.stringify(cmd)}`)
  return run(msg)
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
rl.on('line', (line) => {
  if (line.trim() === '') return
  let msg
  try {
    msg = JSON.parse(line)
  } catch (e) {
    out({ id: null, ok: false, error: `invalid JSON: ${e.message}` })
    return
  }
  const id = msg.id ?? null
  Promise.resolve()
    .then(() => handle(msg))
    .then(
      (result) => { if (msg.cmd !== 'quit') out({ id, ok: true, result: result ?? null }) },
      (err) => out({ id, ok: false, error: err instanceof CommandError ? err.message : String(err && err.stack ? err.stack : err) })
    )
})
rl.on('close', () => quit(undefined))
const versionOf = (pkg) => {
  try {
    return JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url))).version
  } catch {
    return null
  }
}
emit('ready', null, {
  pid: process.pid,
  node: process.version,
  versions: Object.fromEntries(['yjs', 'y-websocket', 'y-protocols', 'ws'].map((p) => [p, versionOf(p)]))
})
