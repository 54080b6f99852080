/**
 * Pub/Sub subscription filters on attributes, for the local stack: the official emulator accepts
 * and stores a subscription's `filter` but delivers every message anyway (measured: a subscription
 * with `attributes.kind = "cpu.throttle"` was pushed a `pod.birth`), while Pub/Sub itself delivers
 * only matching messages and acknowledges the others on its own (cloud.google.com/pubsub/docs/
 * subscription-message-filter: "Messages that don't match the filter are automatically
 * acknowledged"; gcp-conventions.md §3). {@link startFilteringRelay} stands in for that between the
 * emulator and a push endpoint.
 *
 * The grammar is the filter language's attribute part (same page, "Filter syntax"):
 * `attributes.KEY = "v"`, `attributes.KEY != "v"`, `attributes:KEY`, `hasPrefix(attributes.KEY, "p")`,
 * `NOT`/`-`, `AND`, `OR` and parentheses. Anything else is refused with an error, never guessed.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AttributeFilter = (attributes: Readonly<Record<string, string>>) => boolean;

export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
}

const TOKEN = /\s*(?:(\()|(\))|(!=|=|:|,)|("(?:[^"\\]|\\.)*")|(-)|([A-Za-z_][A-Za-z0-9_.-]*))/y;

const tokenize = (text: string): string[] => {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) {
      break;
    }
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (match === null) {
      throw new FilterSyntaxError(`cannot read the filter at ${JSON.stringify(text.slice(start, start + 20))}`);
    }
    tokens.push(match[0].trim());
  }
  return tokens;
};

const stringValue = (token: string | undefined): string => {
  if (token === undefined || !token.startsWith('"')) {
    throw new FilterSyntaxError(`expected a quoted string, got ${token ?? 'the end'}`);
  }
  return JSON.parse(token) as string;
};

const attributeKey = (token: string | undefined): string => {
  if (token === undefined || !token.startsWith('attributes.')) {
    throw new FilterSyntaxError(`expected attributes.KEY, got ${token ?? 'the end'}`);
  }
  return token.slice('attributes.'.length);
};

/** Parses a filter into a predicate over message attributes. */
export const parseFilter = (text: string): AttributeFilter => {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): string | undefined => tokens[at];
  const take = (expected?: string): string => {
    const token = tokens[at];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new FilterSyntaxError(`expected ${expected ?? 'more'} at token ${at + 1}, got ${token ?? 'the end'}`);
    }
    at += 1;
    return token;
  };
  const primary = (): AttributeFilter => {
    const token = peek();
    if (token === 'NOT' || token === '-') {
      take();
      const inner = primary();
      return (a) => !inner(a);
    }
    if (token === '(') {
      take('(');
      const inner = disjunction();
      take(')');
      return inner;
    }
    if (token === 'hasPrefix') {
      take();
      take('(');
      const key = attributeKey(take());
      take(',');
      const prefix = stringValue(take());
      take(')');
      return (a) => a[key]?.startsWith(prefix) ?? false;
    }
    if (token === 'attributes') {
      take();
      take(':');
      const key = take();
      return (a) => key in a;
    }
    const key = attributeKey(take());
    const op = take();
    if (op !== '=' && op !== '!=') {
      throw new FilterSyntaxError(`expected = or != after attributes.${key}, got ${op}`);
    }
    const value = stringValue(take());
    // An absent attribute is unequal to every value (and != matches it).
    return op === '=' ? (a) => a[key] === value : (a) => a[key] !== value;
  };
  const conjunction = (): AttributeFilter => {
    let left = primary();
    while (peek() === 'AND') {
      take();
      const l = left;
      const r = primary();
      left = (a) => l(a) && r(a);
    }
    return left;
  };
  const disjunction = (): AttributeFilter => {
    let left = conjunction();
    while (peek() === 'OR') {
      take();
      const l = left;
      const r = conjunction();
      left = (a) => l(a) || r(a);
    }
    return left;
  };
  const filter = disjunction();
  if (at !== tokens.length) {
    throw new FilterSyntaxError(`unexpected ${tokens[at] ?? ''} at token ${at + 1}`);
  }
  return filter;
};

const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};

const attributesOf = (body: Buffer): Record<string, string> => {
  try {
    const envelope = JSON.parse(body.toString('utf8')) as { message?: { attributes?: Record<string, string> } };
    return envelope.message?.attributes ?? {};
  } catch {
    return {};
  }
};

export interface FilteringRelay {
  /** The URL to give the emulator as the push endpoint. */
  readonly url: string;
  /** Messages pushed on to the endpoint, and acknowledged here without delivery. */
  readonly counts: { delivered: number; filteredOut: number };
  stop(): Promise<void>;
}

/**
 * An HTTP relay in front of `endpoint` that does what Pub/Sub's filter does: matching pushes are
 * forwarded (the endpoint's status and body are the answer), the others are acknowledged (204)
 * and never reach the endpoint.
 */
export const startFilteringRelay = async (filter: string, endpoint: string): Promise<FilteringRelay> => {
  const matches = parseFilter(filter);
  const counts = { delivered: 0, filteredOut: 0 };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (!matches(attributesOf(body))) {
        counts.filteredOut += 1;
        res.statusCode = 204;
        res.end();
        return;
      }
      counts.delivered += 1;
      try {
        const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, body: new Uint8Array(body) });
        res.statusCode = response.status;
        res.setHeader('content-type', response.headers.get('content-type') ?? 'application/octet-stream');
        res.end(Buffer.from(await response.arrayBuffer()));
      } catch {
        // The endpoint is down: Pub/Sub would see a failed push and redeliver.
        res.statusCode = 502;
        res.end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    counts,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
};
