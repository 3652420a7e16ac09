'use strict';
// wick's Node.js runtime interface client: loads the function's handler, then loops over the
// Lambda Runtime API (GET next, run the handler, POST response or error). It behaves like AWS's
// Node.js runtime (aws-lambda-nodejs-runtime-interface-client): same handler resolution, init
// error types, context object, callback / context.succeed semantics, error bodies and console
// log format.
//
// Usage: node runtime.cjs [handler]   (handler defaults to $_HANDLER; code root is
// $LAMBDA_TASK_ROOT, else the working directory).
//
// Start-up speed matters (every cold invoke pays it), so this file loads nothing beyond `net`
// before the first `next`; the Runtime API speaks HTTP/1.1 over one keep-alive socket written
// by hand below rather than through `http`.

const fs = require('fs');
const net = require('net');
const path = require('path');
const util = require('util');

const API_PREFIX = '/2018-06-01/runtime';
const EMPTY = Buffer.alloc(0);
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})/;
const ASCII = /^[\x00-\x7f]*$/;
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024); // every read lands here (see connect)
const ONE_WRITE_MAX = 64 * 1024; // a request body up to this size goes out in one write

// ---------------------------------------------------------------------------------------------
// Runtime API client: one connection, one request at a time (the runtime is sequential). The
// socket is unref'd while idle so that "the event loop is empty" (beforeExit) still means "the
// handler's work is done", which callback handlers rely on.

class RuntimeApi {
  constructor(address) {
    const colon = address.lastIndexOf(':');
    if (colon <= 0) throw new Error(`AWS_LAMBDA_RUNTIME_API is not host:port: '${address}'`);
    this.address = address;
    this.host = address.slice(0, colon).replace(/^\[|\]$/g, '');
    this.port = Number(address.slice(colon + 1));
    this.socket = null;
    this.used = false; // the socket has carried a request (a close then may be a stale keep-alive)
    this.buffer = EMPTY;
    this.pending = null;
    this.lastError = null;
  }

  connect() {
    // Reads land in one reused buffer (`onread`), which skips the stream's per-read allocation
    // and 'data' machinery; what is kept past the callback is copied.
    const socket = net.connect({
      host: this.host,
      port: this.port,
      onread: {
        buffer: READ_BUFFER,
        callback: (n, buf) => this._onData(socket, buf.subarray(0, n)),
      },
    });
    socket.setNoDelay(true);
    socket.on('error', (err) => {
      this.lastError = err;
    });
    socket.on('close', () => this._onClose(socket));
    socket.unref();
    this.socket = socket;
    this.used = false;
    this.buffer = EMPTY;
    this.lastError = null;
  }

  // Calls back(err, res), res = {status, headers (see Headers), body (Buffer)}, err when the
  // connection fails. `headers` is a string of "Name: value\r\n" lines. The callback runs from
  // the socket's read callback (this is the per-event path: no promise in between).
  request(method, urlPath, headers, body, callback) {
    this.pending = new Pending(method, urlPath, headers, body, callback);
    this._send();
  }

  _send() {
    if (!this.socket) this.connect();
    const p = this.pending;
    p.status = 0;
    p.received = false;
    p.reused = this.used;
    this.used = true;
    let head = `${p.method} ${p.urlPath} HTTP/1.1\r\nHost: ${this.address}\r\n${p.headers}`;
    const socket = this.socket;
    socket.ref();
    if (p.body === undefined) {
      socket.write(`${head}\r\n`, 'latin1');
      return;
    }
    head += `Content-Length: ${Buffer.byteLength(p.body)}\r\n\r\n`;
    if (p.body.length <= ONE_WRITE_MAX && ASCII.test(head)) {
      // One write, one syscall (the head's bytes are the same in UTF-8 and Latin-1).
      socket.write(head + p.body, 'utf8');
      return;
    }
    // A large body is not copied into one string with the head.
    socket.cork();
    socket.write(head, 'latin1');
    socket.write(p.body, 'utf8');
    socket.uncork();
  }

  _onData(socket, chunk) {
    if (socket !== this.socket) return;
    this.buffer =
      this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    const p = this.pending;
    if (!p) {
      // Bytes nobody asked for: the stream is out of step, start afresh.
      this._drop(new Error('unexpected data from the Runtime API'));
      return;
    }
    p.received = true;
    let body;
    try {
      body = this._parse(p);
    } catch (err) {
      this._drop(err);
      return;
    }
    if (body !== undefined) this._finish(p, body);
  }

  // Returns the body once the whole response is in, else undefined.
  _parse(p) {
    if (p.status === 0) {
      const end = this.buffer.indexOf(HEAD_END);
      if (end < 0) {
        if (this.buffer.length > 1 << 20) throw new Error('Runtime API response headers too large');
        return undefined;
      }
      const text = this.buffer.toString('utf8', 0, end);
      this.buffer = this.buffer.subarray(end + 4);
      let eol = text.indexOf('\r\n');
      if (eol < 0) eol = text.length;
      const status = STATUS_LINE.exec(text);
      if (!status) {
        throw new Error(`malformed Runtime API status line '${text.slice(0, eol)}'`);
      }
      const headers = new Headers();
      for (let start = eol + 2; start < text.length; ) {
        let next = text.indexOf('\r\n', start);
        if (next < 0) next = text.length;
        const colon = text.indexOf(':', start);
        if (colon <= start || colon > next) {
          throw new Error(`malformed Runtime API header '${text.slice(start, next)}'`);
        }
        const name = text.slice(start, colon).trim().toLowerCase();
        headers.add(name, text.slice(colon + 1, next).trim());
        start = next + 2;
      }
      p.status = Number(status[2]);
      p.headers = headers;
      const connection = headers.connection === undefined ? '' : headers.connection.toLowerCase();
      p.keepAlive =
        status[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
      if (headers.transferEncoding !== undefined && /chunked/i.test(headers.transferEncoding)) {
        p.chunks = [];
        p.chunkLeft = -1; // -1: expecting a size line; -2: reading trailers
      } else if (headers.contentLength !== undefined) {
        if (!/^\d+$/.test(headers.contentLength)) {
          throw new Error('bad Content-Length from the Runtime API');
        }
        p.length = Number(headers.contentLength);
      } else if (p.status === 204 || p.status === 304) {
        p.length = 0;
      } else {
        p.untilClose = true; // the body ends when the connection does
        p.keepAlive = false;
      }
    }
    if (p.length >= 0) {
      if (this.buffer.length < p.length) return undefined;
      const body = this.buffer.subarray(0, p.length);
      // Keep no reference to a large event once it is consumed.
      this.buffer = this.buffer.length === p.length ? EMPTY : this.buffer.subarray(p.length);
      return body;
    }
    while (p.chunks) {
      if (p.chunkLeft >= 0) {
        if (this.buffer.length < p.chunkLeft + 2) return undefined;
        p.chunks.push(this.buffer.subarray(0, p.chunkLeft));
        this.buffer = this.buffer.subarray(p.chunkLeft + 2);
        p.chunkLeft = -1;
        continue;
      }
      const eol = this.buffer.indexOf('\r\n');
      if (eol < 0) return undefined;
      const line = this.buffer.toString('latin1', 0, eol);
      this.buffer = this.buffer.subarray(eol + 2);
      if (p.chunkLeft === -1) {
        const size = parseInt(line, 16);
        if (!/^[0-9a-fA-F]+/.test(line) || !Number.isSafeInteger(size)) {
          throw new Error('bad chunk size from the Runtime API');
        }
        p.chunkLeft = size === 0 ? -2 : size;
      } else if (line === '') {
        if (this.buffer.length === 0) this.buffer = EMPTY;
        return Buffer.concat(p.chunks);
      }
    }
    return undefined;
  }

  _finish(p, body) {
    this.pending = null;
    if (p.keepAlive) {
      this.socket.unref();
    } else {
      this._drop(null);
    }
    p.callback(null, { status: p.status, headers: p.headers, body });
  }

  // Forgets the current socket; a pending request fails with `err` (when given).
  _drop(err) {
    const socket = this.socket;
    this.socket = null;
    this.buffer = EMPTY;
    if (socket) socket.destroy();
    const p = this.pending;
    if (p && err) {
      this.pending = null;
      p.callback(err);
    }
  }

  _onClose(socket) {
    if (socket !== this.socket) return;
    const p = this.pending;
    if (p && p.status !== 0 && p.untilClose) {
      const body = this.buffer;
      this.socket = null;
      this._finish(p, body);
      return;
    }
    if (p && !p.received && p.reused && !p.retried) {
      // The server closed an idle keep-alive connection as we reused it: once more, afresh.
      p.retried = true;
      this.socket = null;
      this._send();
      return;
    }
    const reason = this.lastError ? this.lastError.message : 'the connection closed';
    this._drop(p ? new Error(`Runtime API ${p.method} ${p.urlPath} failed: ${reason}`) : null);
  }
}

// A request in flight (one fixed shape).
class Pending {
  constructor(method, urlPath, headers, body, callback) {
    this.method = method;
    this.urlPath = urlPath;
    this.headers = headers;
    this.body = body;
    this.callback = callback;
    this.retried = false;
    this.reused = false;
    this.received = false;
    this.status = 0; // 0 until the head is parsed
    this.keepAlive = false;
    this.length = -1; // the body's length when known
    this.untilClose = false;
    this.chunks = null;
    this.chunkLeft = -1;
  }
}

// The response headers the runtime reads (case-insensitive names; a repeated header's values
// joined with ", "). The others are ignored: a fixed shape is much cheaper than an object keyed
// by every name the server sends, and this is parsed once per request.
class Headers {
  constructor() {
    this.contentLength = undefined;
    this.transferEncoding = undefined;
    this.connection = undefined;
    this.requestId = undefined;
    this.deadlineMs = undefined;
    this.invokedFunctionArn = undefined;
    this.traceId = undefined;
    this.clientContext = undefined;
    this.cognitoIdentity = undefined;
    this.tenantId = undefined;
  }

  add(name, value) {
    switch (name) {
      case 'content-length':
        this.contentLength = join(this.contentLength, value);
        break;
      case 'transfer-encoding':
        this.transferEncoding = join(this.transferEncoding, value);
        break;
      case 'connection':
        this.connection = join(this.connection, value);
        break;
      case 'lambda-runtime-aws-request-id':
        this.requestId = join(this.requestId, value);
        break;
      case 'lambda-runtime-deadline-ms':
        this.deadlineMs = join(this.deadlineMs, value);
        break;
      case 'lambda-runtime-invoked-function-arn':
        this.invokedFunctionArn = join(this.invokedFunctionArn, value);
        break;
      case 'lambda-runtime-trace-id':
        this.traceId = join(this.traceId, value);
        break;
      case 'lambda-runtime-client-context':
        this.clientContext = join(this.clientContext, value);
        break;
      case 'lambda-runtime-cognito-identity':
        this.cognitoIdentity = join(this.cognitoIdentity, value);
        break;
      case 'lambda-runtime-aws-tenant-id':
        this.tenantId = join(this.tenantId, value);
        break;
    }
  }
}

function join(previous, value) {
  return previous === undefined ? value : `${previous}, ${value}`;
}

// ---------------------------------------------------------------------------------------------
// Errors: the runtime's own types (Lambda's names) and the JSON shape the Node runtime posts.

class RuntimeError extends Error {
  constructor(type, message, cause) {
    super(message);
    this.name = type;
    // Keep where the original error came from (file and line of a syntax error, the require
    // stack of a missing module): that is what the user needs to fix it.
    if (cause && typeof cause.stack === 'string') {
      this.stack = `${type}: ${message}\n${cause.stack}`;
    }
  }
}

function isErrorLike(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.name === 'string' &&
    typeof value.message === 'string' &&
    typeof value.stack === 'string'
  );
}

// The error body of /invocation/{id}/error and /init/error.
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: String(error.name),
        errorMessage: String(error.message),
        trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or ' +
        'more of its message, name, and stack',
    };
  }
}

// The error as the runtime logs it ("Invoke Error", "Uncaught Exception"): tab, then JSON.
function toFormatted(error) {
  const r = toRapidResponse(error);
  try {
    const shown = { errorType: r.errorType, errorMessage: r.errorMessage, stack: r.trace };
    return `\t${JSON.stringify(shown)}`;
  } catch (_) {
    return `\t${r.errorType}`;
  }
}

function safeString(value) {
  try {
    return String(value);
  } catch (_) {
    return typeof value;
  }
}

// ---------------------------------------------------------------------------------------------
// Console: every level goes to stdout as "<ISO time>\t<request id>\t<LEVEL>\t<message>" (with
// newlines turned into \r so one call stays one log line), or as one JSON object per line when
// the function's log format is JSON (then AWS_LAMBDA_LOG_LEVEL filters).

let requestId = 'undefined'; // what AWS prints outside an invocation
let tenantId;

function patchConsole() {
  const json = process.env.AWS_LAMBDA_LOG_FORMAT === 'JSON';
  const order = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
  const level = (process.env.AWS_LAMBDA_LOG_LEVEL || 'INFO').toUpperCase();
  const threshold = json ? Math.max(0, order.indexOf(level)) : 0;
  const method = (level) => {
    if (order.indexOf(level) < threshold) return () => {};
    if (json) {
      return (...args) => {
        const entry = { timestamp: new Date().toISOString(), level, requestId };
        if (tenantId !== undefined) entry.tenantId = tenantId;
        if (args.length === 1 && util.types.isNativeError(args[0])) {
          const r = toRapidResponse(args[0]);
          entry.message = r.errorMessage;
          entry.errorType = r.errorType;
          entry.errorMessage = r.errorMessage;
          entry.stackTrace = r.trace;
        } else {
          entry.message = util.format(...args);
        }
        process.stdout.write(`${JSON.stringify(entry)}\n`);
      };
    }
    return (...args) => {
      const line = `${new Date().toISOString()}\t${requestId}\t${level}\t${util.format(...args)}`;
      process.stdout.write(`${line.replace(/\n/g, '\r')}\n`);
    };
  };
  console.trace = method('TRACE');
  console.debug = method('DEBUG');
  console.info = method('INFO');
  console.log = method('INFO');
  console.warn = method('WARN');
  console.error = method('ERROR');
  console.fatal = method('FATAL');
}

// ---------------------------------------------------------------------------------------------
// Handler loading: "<dir/>module.function.path", as Lambda resolves it. Module lookup order:
// <root>/<dir>/<module> as is, .js (CommonJS unless the nearest package.json says
// "type": "module"), .mjs, .cjs, then `require` through NODE_PATH (handlers in layers).

function typeIsModule(file) {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (dir.endsWith('/node_modules')) return false;
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, 'utf8')).type === 'module';
      } catch (err) {
        console.warn(
          `${manifest} cannot be read, it will be ignored for ES module detection purposes.`,
          err,
        );
        return false;
      }
    }
    if (dir === '/' || dir === '.') return false;
  }
}

function importFile(file) {
  return import(require('url').pathToFileURL(file).href);
}

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  if (fs.existsSync(base)) return require(base);
  const esm = typeIsModule(base);
  if (fs.existsSync(`${base}.js`)) return esm ? importFile(`${base}.js`) : require(`${base}.js`);
  if (fs.existsSync(`${base}.mjs`)) return importFile(`${base}.mjs`);
  if (fs.existsSync(`${base}.cjs`)) return require(`${base}.cjs`);
  return require(moduleRoot + moduleName);
}

async function loadHandler(appRoot, fullName) {
  if (typeof fullName !== 'string' || fullName === '') {
    throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  }
  if (fullName.includes('..')) {
    throw new RuntimeError(
      'Runtime.MalformedHandlerName',
      `'${fullName}' is not a valid handler name. ` +
        'Use absolute paths when specifying root directories in handler names.',
    );
  }
  const handlerString = path.basename(fullName);
  const moduleRoot = fullName.slice(0, fullName.length - handlerString.length);
  const match = /^([^.]*)\.(.*)$/.exec(handlerString);
  if (!match) throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  let module;
  try {
    module = await loadModule(appRoot, moduleRoot, match[1]);
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new RuntimeError('Runtime.UserCodeSyntaxError', safeString(err), err);
    }
    if (err && (err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_MODULE_NOT_FOUND')) {
      throw new RuntimeError('Runtime.ImportModuleError', safeString(err), err);
    }
    throw err;
  }
  const handler = match[2].split('.').reduce((object, key) => object && object[key], module);
  if (!handler) {
    throw new RuntimeError('Runtime.HandlerNotFound', `${fullName} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${fullName} is not a function`);
  }
  return handler;
}


// ---------------------------------------------------------------------------------------------
// Response streaming (contract 1.6), as AWS's runtime offers it: `awslambda.streamifyResponse`
// marks a handler `async (event, responseStream, context)`; its stream's bytes go to the Runtime
// API as they are written (Lambda-Runtime-Function-Response-Mode: streaming, chunked), a failure
// after the first byte in the trailers. `awslambda.HttpResponseStream.from(stream, prelude)`
// writes the HTTP-integration prelude (JSON, then 8 NUL bytes) before the first byte. The
// stream goes over a connection of its own, opened at its first write; `stream` is loaded then.

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
const HTTP_INTEGRATION_TYPE = 'application/vnd.awslambda.http-integration-response';

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION_TYPE);
    const metadata = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8)); // the delimiter: NUL cannot occur in the JSON prelude
    };
    return underlyingStream;
  }
}

globalThis.awslambda = {
  streamifyResponse(handler, options) {
    handler[HANDLER_STREAMING] = STREAM_RESPONSE;
    if (options && typeof options.highWaterMark === 'number') {
      handler[HANDLER_HIGHWATERMARK] = Math.max(1, options.highWaterMark | 0);
    }
    return handler;
  },
  HttpResponseStream,
};

// A Writable whose bytes are the body of POST /invocation/{id}/response. `done(err)` runs once
// the Runtime API has answered (err: the connection failed).
function createResponseStream(id, highWaterMark, done) {
  const { Writable } = require('stream');
  let socket = null;
  let contentType = 'application/octet-stream';
  let answered = false;
  let reply = EMPTY;
  const open = () => {
    if (socket) return;
    socket = net.connect({ host: api.host, port: api.port });
    socket.setNoDelay(true);
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error('the Runtime API closed the response stream')));
    socket.on('data', (data) => {
      reply = Buffer.concat([reply, data]);
      const end = reply.indexOf(HEAD_END);
      if (end < 0) return;
      const status = STATUS_LINE.exec(reply.toString('latin1', 0, end));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(reply.toString('latin1', 0, end));
      if (length && reply.length < end + 4 + Number(length[1])) return;
      if (status && status[2] !== '202') {
        console.error(`Runtime API refused the response stream: ${reply.toString('utf8', end + 4)}`);
      }
      finish(null);
      socket.end();
    });
    socket.write(
      `POST ${API_PREFIX}/invocation/${id}/response HTTP/1.1\r\nHost: ${api.address}\r\n` +
        'Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n' +
        'Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n' +
        `Content-Type: ${contentType}\r\n\r\n`,
      'latin1',
    );
  };
  const finish = (err) => {
    if (answered) return;
    answered = true;
    done(err);
  };
  const writeChunk = (chunk, callback) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (bytes.length === 0) {
      if (callback) callback();
      return;
    }
    socket.write(`${bytes.length.toString(16)}\r\n`, 'latin1');
    socket.write(bytes);
    socket.write('\r\n', 'latin1', callback);
  };
  const begin = () => {
    if (socket) return;
    open();
    const before = stream._onBeforeFirstWrite;
    if (typeof before === 'function') before((chunk) => writeChunk(chunk));
  };
  const stream = new Writable({
    highWaterMark,
    write(chunk, _encoding, callback) {
      begin();
      // The callback waits for the kernel to take the bytes: a slow reader slows the writer.
      writeChunk(chunk, callback);
    },
    final(callback) {
      begin();
      socket.write('0\r\n\r\n', 'latin1', callback);
    },
  });
  stream.setContentType = (type) => {
    if (socket) throw new Error('Cannot set content-type, too late.');
    contentType = String(type).replace(/[^\x20-\x7e]/g, '');
  };
  // A failure after the stream began: the error goes in the trailers.
  stream.fail = (error) => {
    const response = toRapidResponse(error);
    const type = String(response.errorType).replace(/[^\x20-\x7e]/g, '');
    const body = Buffer.from(JSON.stringify(response)).toString('base64');
    stream.destroy();
    socket.write(
      `0\r\nLambda-Runtime-Function-Error-Type: ${type}\r\n` +
        `Lambda-Runtime-Function-Error-Body: ${body}\r\n\r\n`,
      'latin1',
    );
  };
  stream.began = () => socket !== null;
  return stream;
}

// ---------------------------------------------------------------------------------------------
// The invoke loop.

const api = new RuntimeApi(process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001');
let handler = null; // set once init succeeded
let current = null; // the invocation in flight: {id, done}
let beforeExit = null; // what to do when the event loop empties (see callback semantics)

function fatal(message) {
  process.stderr.write(`wick nodejs runtime: ${message}\n`);
  process.exit(1);
}

// POSTs to the Runtime API, then calls `then`; a 5xx or a broken connection ends the runtime
// (the platform resets the sandbox), any other refusal is logged.
function post(urlPath, body, headers, then) {
  const head = `Content-Type: application/json\r\n${headers}`;
  api.request('POST', API_PREFIX + urlPath, head, body, (err, res) => {
    if (err) fatal(err.message);
    if (res.status >= 500) fatal(`POST ${urlPath} answered ${res.status}: ${res.body}`);
    if (res.status !== 202) {
      console.error(`Runtime API refused POST ${urlPath}: ${res.status} ${res.body}`);
    }
    then();
  });
}

function errorHeaders(response) {
  // A header value cannot carry control or non-Latin-1 characters.
  const type = String(response.errorType).replace(/[^\x20-\x7e]/g, '');
  return `Lambda-Runtime-Function-Error-Type: ${type}\r\n`;
}

function postInitError(error, then) {
  const response = toRapidResponse(error);
  post('/init/error', JSON.stringify(response), errorHeaders(response), then);
}

function postInvocationError(id, error, then) {
  const response = toRapidResponse(error);
  post(`/invocation/${id}/error`, JSON.stringify(response), errorHeaders(response), then);
}

function nextInvocation() {
  api.request('GET', `${API_PREFIX}/invocation/next`, '', undefined, (err, res) => {
    if (err) fatal(err.message);
    if (res.status !== 200) fatal(`GET next answered ${res.status}: ${res.body}`);
    // The handler runs in a microtask, as after the `await` in AWS's runtime (so a handler's
    // process.nextTick and promise callbacks run in the same order as there).
    Promise.resolve(res).then(invoke);
  });
}

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err}`);
  }
}

// context.callbackWaitsForEmptyEventLoop is an own enumerable accessor, as in AWS's runtime. Its
// functions are shared by all contexts (an accessor made afresh per invoke is V8's slow path)
// and find their invocation under a hidden symbol.
const kInvocation = Symbol('invocation');
const WAITS_ACCESSOR = {
  get() {
    return this[kInvocation].waitForEmptyEventLoop;
  },
  set(value) {
    this[kInvocation].waitForEmptyEventLoop = value;
  },
  enumerable: true,
  configurable: true,
};

function invoke(res) {
  const headers = res.headers;
  const id = headers.requestId;
  if (!id) fatal('the next invocation has no Lambda-Runtime-Aws-Request-Id');
  const deadline = Number(headers.deadlineMs);
  const invocation = { id, done: false, waitForEmptyEventLoop: true };
  current = invocation;
  requestId = id;
  tenantId = headers.tenantId;
  if (headers.traceId) {
    process.env._X_AMZN_TRACE_ID = headers.traceId;
  } else {
    delete process.env._X_AMZN_TRACE_ID;
  }

  const scheduleNext = () => setImmediate(nextInvocation);
  const alreadyDone = () => {
    if (!invocation.done) return false;
    console.error(
      'Invocation has already been reported as done. ' +
        'Cannot call complete more than once per invocation.',
    );
    return true;
  };
  const postError = (err) => {
    if (alreadyDone()) return;
    invocation.done = true;
    console.error('Invoke Error', toFormatted(err));
    postInvocationError(id, err, scheduleNext);
  };
  const complete = (result) => {
    if (alreadyDone()) return;
    let body;
    try {
      body = JSON.stringify(result === undefined ? null : result);
    } catch (_) {
      postError(new Error('Unable to stringify response body'));
      return;
    }
    invocation.done = true;
    post(`/invocation/${id}/response`, body === undefined ? 'null' : body, '', scheduleNext);
  };

  // Callback semantics of the Node runtime: an error is posted at once; a result waits for the
  // event loop to empty unless callbackWaitsForEmptyEventLoop was set to false. done/succeed/fail
  // (and a returned promise) post at once.
  const callback = (err, result) => {
    beforeExit = null;
    if (err !== undefined && err !== null) {
      postError(err);
    } else if (!invocation.waitForEmptyEventLoop) {
      complete(result);
    } else {
      beforeExit = () => setImmediate(() => complete(result));
    }
  };
  const done = (err, result) => {
    beforeExit = null;
    if (err !== undefined && err !== null) postError(err);
    else complete(result);
  };
  const succeed = (result) => done(null, result);
  const fail = (err) => done(err === undefined || err === null ? 'handled' : err, null);

  // A handler that neither returns a promise nor calls back ends when its work does: null.
  beforeExit = () => complete(null);
  try {
    // The properties in AWS's order, callbackWaitsForEmptyEventLoop first.
    const context = {};
    Object.defineProperty(context, 'callbackWaitsForEmptyEventLoop', WAITS_ACCESSOR);
    Object.defineProperty(context, kInvocation, { value: invocation });
    context.succeed = succeed;
    context.fail = fail;
    context.done = done;
    context.functionVersion = process.env.AWS_LAMBDA_FUNCTION_VERSION;
    context.functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
    context.memoryLimitInMB = process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
    context.logGroupName = process.env.AWS_LAMBDA_LOG_GROUP_NAME;
    context.logStreamName = process.env.AWS_LAMBDA_LOG_STREAM_NAME;
    context.clientContext = parseJsonHeader(headers.clientContext, 'ClientContext');
    context.identity = parseJsonHeader(headers.cognitoIdentity, 'CognitoIdentity');
    context.invokedFunctionArn = headers.invokedFunctionArn;
    context.awsRequestId = id;
    context.tenantId = tenantId;
    const getRemainingTimeInMillis = () => deadline - Date.now();
    context.getRemainingTimeInMillis = getRemainingTimeInMillis;
    const event = JSON.parse(res.body.toString('utf8'));
    if (handler[HANDLER_STREAMING] === STREAM_RESPONSE) {
      invokeStreaming(invocation, event, context, postError, scheduleNext);
      return;
    }
    const result = handler(event, context, callback);
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      result.then(succeed, fail);
    }
  } catch (err) {
    callback(err);
  }
}

// A streamifyResponse handler: its stream is the response; a rejection before the first byte
// is an ordinary invocation error, after it the stream's trailers carry it. A handler that
// returns without ending its stream has it ended.
function invokeStreaming(invocation, event, context, postError, scheduleNext) {
  beforeExit = null;
  const stream = createResponseStream(invocation.id, handler[HANDLER_HIGHWATERMARK], (err) => {
    if (err) fatal(`Runtime API response stream failed: ${err.message}`);
    scheduleNext();
  });
  const failed = (err) => {
    if (invocation.done) return;
    if (!stream.began()) {
      stream.destroy();
      postError(err);
      return;
    }
    invocation.done = true;
    console.error('Invoke Error', toFormatted(err));
    stream.fail(err);
  };
  stream.on('error', failed);
  stream.on('finish', () => {
    invocation.done = true;
  });
  let result;
  try {
    result = handler(event, stream, context);
  } catch (err) {
    failed(err);
    return;
  }
  Promise.resolve(result).then(() => {
    if (!stream.writableEnded && !invocation.done) stream.end();
  }, failed);
}

// An error nothing caught: reported as the invocation's error (or init's), then the runtime
// exits, as Lambda's does (the sandbox is reset and the next invoke starts afresh). Errors that
// follow while the first is being reported are only logged.
let crashing = false;
async function crash(error, exitCode) {
  if (crashing) return;
  crashing = true;
  try {
    if (handler === null) {
      await new Promise((resolve) => postInitError(error, resolve));
    } else if (current && !current.done) {
      current.done = true;
      await new Promise((resolve) => postInvocationError(current.id, error, resolve));
    }
  } finally {
    process.exit(exitCode);
  }
}

async function main() {
  patchConsole();
  api.connect(); // connects while the user's code loads
  process.on('uncaughtException', (error) => {
    console.error('Uncaught Exception', toFormatted(error));
    crash(error, 129);
  });
  process.on('unhandledRejection', (reason) => {
    const error = new RuntimeError('Runtime.UnhandledPromiseRejection', safeString(reason), reason);
    console.error('Unhandled Promise Rejection', toFormatted(error));
    crash(error, 128);
  });
  process.on('beforeExit', () => {
    const action = beforeExit;
    beforeExit = null;
    if (action) action();
  });
  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let loaded;
  try {
    loaded = await loadHandler(appRoot, process.argv[2] || process.env._HANDLER);
  } catch (error) {
    console.error('Uncaught Exception', toFormatted(error));
    await crash(error, 129);
  }
  handler = loaded;
  nextInvocation();
}

main();
