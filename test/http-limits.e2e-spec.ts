/**
 * Issue 11: the HTTP server's time and connection limits (HTTP_* in src/config/environment.ts), seen from raw TCP
 * clients: headers or a body trickled in too slowly are cut off with 408 and a closed connection, an idle keep-alive
 * connection is closed, and connections beyond the cap are closed as they arrive. The limits are set small here; the
 * only timing asserted is "cut off after the configured limit, and within it plus a generous margin".
 */
import { connect, type Socket } from 'node:net';
import { createTestApp, type TestApp } from './utils/test-app';

const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 2500;
const KEEP_ALIVE_TIMEOUT_MS = 500;
/** Late is fine up to this much (a busy machine, Node checking expiry every connectionsCheckingInterval); early is not. */
const MARGIN_MS = 2000;
/** Node compares against a monotonic clock; the test's Date.now() may disagree by a few milliseconds. */
const CLOCK_SLACK_MS = 50;
/**
 * Node (20.20) keeps an idle keep-alive socket this much longer than `keepAliveTimeout`, so that a client told
 * `Keep-Alive: timeout=N` (whole seconds) gives up on it first.
 */
const NODE_KEEP_ALIVE_BUFFER_MS = 1000;
/** How often a slow client sends its next byte. */
const TRICKLE_MS = 200;

/** Everything the server sent on a connection until it closed it, and when it closed, counted from `since`. */
interface Closed {
  text: string;
  closedAfterMs: number;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Resolves when the server closes `socket` (a reset counts too), with what it sent; rejects if it is still open after
 * `limitMs` (the connection is then destroyed), so a limit that does not work fails instead of hanging.
 */
function whenClosed(socket: Socket, since: () => number, limitMs = 20_000): Promise<Closed> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      reject(new Error(`the server kept the connection open for ${limitMs} ms; it sent: ${text.slice(0, 200)}`));
      socket.destroy();
    }, limitMs);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: Date.now() - since() });
    });
  });
}

/** Writes `bytes` one at a time, every TRICKLE_MS, until they run out or the connection closes. */
function trickle(socket: Socket, bytes: string): void {
  let next = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable || next >= bytes.length) {
      clearInterval(timer);
      return;
    }
    socket.write(bytes[next++]);
  }, TRICKLE_MS);
  socket.once('close', () => clearInterval(timer));
}

/** Sends one request on an open connection and resolves with the whole response (it must have a Content-Length). */
function exchange(socket: Socket, request: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
      if (buffer.length < end + 4 + length) return;
      cleanup();
      resolve({ status: Number(head.slice(9, 12)), head, body: buffer.subarray(end + 4, end + 4 + length).toString('utf8') });
    };
    const onClose = () => {
      cleanup();
      reject(new Error(`connection closed before a whole response; got: ${buffer.toString('latin1').slice(0, 200)}`));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(request);
  });
}

const GET_POSTS = 'GET /api/v1/posts?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('HTTP server limits (e2e)', () => {
  describe('time limits', () => {
    let t: TestApp;
    let port: number;
    const postCount = async () => (await t.rows<{ n: number }>('SELECT count(*)::int AS n FROM posts'))[0].n;

    beforeAll(async () => {
      t = await createTestApp({
        env: {
          HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
          HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
          HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
        },
      });
      port = Number(new URL(t.baseUrl).port);
      await t.truncate();
    });

    afterAll(async () => {
      await t.close();
    });

    it('the server carries the configured limits', () => {
      const server = t.app.getHttpServer();
      expect({
        headersTimeout: server.headersTimeout,
        requestTimeout: server.requestTimeout,
        keepAliveTimeout: server.keepAliveTimeout,
        maxConnections: server.maxConnections,
      }).toEqual({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, maxConnections: 10_000 });
    });

    it('headers sent one byte every 200 ms: 408 and a closed connection once the headers timeout has passed', async () => {
      const socket = await open(port);
      const started = Date.now();
      const closed = whenClosed(socket, () => started);
      trickle(socket, `GET /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'x'.repeat(100)}\r\n\r\n`);
      const { text, closedAfterMs } = await closed;
      expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ statusCode: 408 });
      // After the headers timeout, long before the request timeout: it was the headers timeout that cut it off.
      expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - CLOCK_SLACK_MS);
      expect(closedAfterMs).toBeLessThan(Math.min(REQUEST_TIMEOUT_MS, HEADERS_TIMEOUT_MS + MARGIN_MS));
    });

    it('a POST whose body comes one byte every 200 ms: 408, a closed connection, and nothing created', async () => {
      const before = await postCount();
      const body = JSON.stringify({ title: 'Slow', body: 'Sent one byte at a time', published: true }).padEnd(100, ' ');
      expect(Buffer.byteLength(body)).toBe(100);
      const socket = await open(port);
      const started = Date.now();
      const closed = whenClosed(socket, () => started);
      socket.write(
        'POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          `Authorization: Bearer ${t.admin.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`,
      );
      trickle(socket, body);
      const { text, closedAfterMs } = await closed;
      expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      // The request timeout counts from the request's first byte: headers and body together.
      expect(closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - CLOCK_SLACK_MS);
      expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + MARGIN_MS);
      await sleep(300);
      expect(await postCount()).toBe(before);
    });

    it('the same POST sent at once, and a second request on the same connection, are served as usual', async () => {
      const before = await postCount();
      const body = JSON.stringify({ title: 'Fast', body: 'Sent at once', published: true });
      const socket = await open(port);
      try {
        const created = await exchange(
          socket,
          'POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
            `Authorization: Bearer ${t.admin.token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        expect(created.status).toBe(201);
        expect(JSON.parse(created.body)).toMatchObject({ title: 'Fast', authorId: t.admin.id });
        const listed = await exchange(socket, GET_POSTS);
        expect(listed.status).toBe(200);
      } finally {
        socket.destroy();
      }
      expect(await postCount()).toBe(before + 1);
      // And through the harness's own client.
      expect((await t.request('GET', '/api/v1/posts?limit=1', { as: null })).status).toBe(200);
    });

    it('an idle keep-alive connection is closed once the keep-alive timeout has passed, not before', async () => {
      const socket = await open(port);
      let answeredAt = 0;
      const closed = whenClosed(socket, () => answeredAt);
      const first = await exchange(socket, GET_POSTS);
      expect(first.status).toBe(200);
      expect(first.head).toMatch(/\r\nConnection: keep-alive\r\n/i);
      // Reused within the timeout: still open, and served.
      await sleep(KEEP_ALIVE_TIMEOUT_MS / 2);
      const second = await exchange(socket, GET_POSTS);
      expect(second.status).toBe(200);
      answeredAt = Date.now();
      const { text, closedAfterMs } = await closed;
      // Closed without a word after the second answer: there was no request to answer.
      expect(text.slice(text.lastIndexOf(second.body) + second.body.length)).toBe('');
      expect(closedAfterMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - CLOCK_SLACK_MS);
      expect(closedAfterMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + NODE_KEEP_ALIVE_BUFFER_MS + MARGIN_MS);
    });
  });

  describe('connection cap', () => {
    const MAX_CONNECTIONS = 3;
    let t: TestApp;
    let port: number;

    beforeAll(async () => {
      // No request through the harness's client before the test: its pooled connections would take places.
      t = await createTestApp({ env: { HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS) } });
      port = Number(new URL(t.baseUrl).port);
    });

    afterAll(async () => {
      await t.close();
    });

    it(`with HTTP_MAX_CONNECTIONS=${MAX_CONNECTIONS}, one more connection is closed at once while the first ${MAX_CONNECTIONS} are still served`, async () => {
      expect(t.app.getHttpServer().maxConnections).toBe(MAX_CONNECTIONS);
      const sockets: Socket[] = [];
      try {
        // Each served once, so the server has certainly accepted and counted it; then left open (keep-alive).
        for (let i = 0; i < MAX_CONNECTIONS; i++) {
          const socket = await open(port);
          sockets.push(socket);
          expect((await exchange(socket, GET_POSTS)).status).toBe(200);
        }

        const extra = await open(port);
        const openedAt = Date.now();
        const closed = whenClosed(extra, () => openedAt);
        extra.write(GET_POSTS, () => undefined);
        const { text, closedAfterMs } = await closed;
        // Closed unanswered.
        expect(text).toBe('');
        expect(closedAfterMs).toBeLessThan(MARGIN_MS);

        for (const socket of sockets) expect((await exchange(socket, GET_POSTS)).status).toBe(200);
      } finally {
        for (const socket of sockets) socket.destroy();
      }

      // Once they are gone, a new connection has a place again.
      await sleep(100);
      const later = await open(port);
      try {
        expect((await exchange(later, GET_POSTS)).status).toBe(200);
      } finally {
        later.destroy();
      }
    });
  });
});
