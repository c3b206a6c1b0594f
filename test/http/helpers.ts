import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import express5 from 'express';

/** Express 5 (`express`) and Express 4 (`express4`, an npm alias of express@4). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const EXPRESSES: Array<{ version: string; express: typeof express5 }> = [
  { version: 'express 4', express: require('express4') as typeof express5 },
  { version: 'express 5', express: express5 },
];

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
  /** Whether the request went over a socket an earlier request used (keep-alive). */
  reused: boolean;
}

/** Listens on 127.0.0.1 with an OS-chosen port; returns the base URL and a close function. */
export async function listen(app: http.RequestListener): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A real HTTP request with Node's client (a fresh connection unless a keep-alive `agent` is given). */
export function request(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: unknown;
    agent?: http.Agent;
    /** Send the head first and the body this many ms later (in packets of its own, as slow clients do). */
    bodyDelay?: number;
  } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = http.request(
      url,
      {
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, reused: req.reusedSocket });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined && options.bodyDelay !== undefined) {
      req.flushHeaders();
      setTimeout(() => req.end(body), options.bodyDelay);
    } else {
      req.end(body);
    }
  });
}

/**
 * Sends bytes as they are (malformed or repeated headers that Node's client
 * refuses to send) and returns the status code of the answer.
 */
export function raw(port: number, head: string | Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may reset the socket after answering a bad request.
      if (chunks.length) finish(); else reject(error);
    });
    socket.on('end', finish);
    socket.on('close', finish);
    let done = false;
    function finish() {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!match) return reject(new Error(`No HTTP answer (got ${JSON.stringify(text.slice(0, 200))})`));
      resolve({ status: Number(match[1]), text });
    }
    socket.write(head);
  });
}
