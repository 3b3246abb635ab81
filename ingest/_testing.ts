/**
 * Test helpers for the ingest: configurations, fake producers, signed requests and fixtures.
 * Used by the `*_test.ts` files only.
 */
import type { OutgoingMessage, Producer } from "./batcher.ts";
import { type IngestConfig, loadIngestConfig } from "./config.ts";
import { signWebhook } from "./webhook_signature.ts";
import type { UserInput } from "../shared/event.ts";

/** A test secret (32 key bytes). */
export const TEST_SECRET = "whsec_" + btoa("0123456789abcdef0123456789abcdef");
/** Another secret, for "wrong secret" and rotation tests. */
export const OTHER_SECRET = "whsec_" + btoa("fedcba9876543210fedcba9876543210");

/** A loaded configuration with test defaults and `overrides` applied (as env text). */
export function testConfig(overrides: Record<string, string> = {}): Readonly<IngestConfig> {
  const env: Record<string, string> = {
    KAFKA_BROKERS: "127.0.0.1:9",
    WEBHOOK_SECRET: TEST_SECRET,
    INGEST_LINGER_MS: "1",
    PULL_BACKOFF_MS: "1",
    PULL_ENABLED: "false",
    ...overrides,
  };
  return loadIngestConfig((key) => env[key]);
}

/** A producer that records what it is sent; `fail`/`hold` switch its behaviour. */
export class FakeProducer implements Producer {
  /** Every send, in order. */
  readonly sends: OutgoingMessage[][] = [];
  /** When set, sends reject with this error. */
  fail: Error | null = null;
  /** When set, sends wait for this promise before answering. */
  hold: Promise<void> | null = null;

  async send(messages: OutgoingMessage[]): Promise<void> {
    this.sends.push(messages);
    if (this.hold) await this.hold;
    if (this.fail) throw this.fail;
  }

  /** Every message sent, flattened. */
  get messages(): OutgoingMessage[] {
    return this.sends.flat();
  }
}

let counter = 0;

/** A valid webhook user; `i` varies the id and the names. */
export function sampleUser(i = counter++, overrides: Partial<UserInput> = {}): UserInput {
  const hex = i.toString(16).padStart(12, "0");
  return {
    id: `6a1f2c3d-4e5f-4a6b-8c7d-${hex}`,
    first_name: "Zoë",
    last_name: `O'Brien ${i}`,
    gender: "female",
    address: "12 Rue de l'Église, Saint-Étienne, Auvergne, France",
    post_code: 42000,
    email: `zoe.obrien${i}@example.com`,
    username: `zoe${i}`,
    dob: "1990-04-01T10:00:00.000Z",
    registered_date: "2015-06-01T08:30:00.000Z",
    phone: "+33 4 77 00 00 00",
    picture: "https://randomuser.me/api/portraits/med/women/1.jpg",
    ...overrides,
  };
}

/** Options for `signedRequest`. */
export interface SignedRequestOptions {
  path?: string;
  secret?: string;
  id?: string;
  /** Unix seconds (default now). */
  timestamp?: number;
  contentType?: string;
  headers?: Record<string, string>;
  /** Replace the body after signing (tampering). */
  tamper?: (body: string) => string;
}

/** A request to the ingest signed by the Standard Webhooks scheme. */
export async function signedRequest(
  body: string,
  opts: SignedRequestOptions = {},
): Promise<Request> {
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const bytes = new TextEncoder().encode(body);
  const signature = await signWebhook(opts.secret ?? TEST_SECRET, id, timestamp, bytes);
  return new Request(`http://ingest.test${opts.path ?? "/v1/users"}`, {
    method: "POST",
    body: opts.tamper ? opts.tamper(body) : body,
    headers: {
      "content-type": opts.contentType ?? "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature,
      ...opts.headers,
    },
  });
}

/** A randomuser.me 1.4 result for `uuid`. */
export function randomUserResult(
  uuid: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    gender: "male",
    name: { title: "Mr", first: "Ömer", last: "D'Angelo" },
    location: {
      street: { number: 4431, name: "Bağdat Cd" },
      city: "Kırıkkale",
      state: "Ağrı",
      country: "Turkey",
      postcode: 76133,
      coordinates: { latitude: "-26.7", longitude: "-4.2" },
      timezone: { offset: "+3:00", description: "Istanbul" },
    },
    email: "omer.dangelo@example.com",
    login: { uuid, username: "bluebird123", password: "x", salt: "y", md5: "z" },
    dob: { date: "1970-03-12T01:02:03.456Z", age: 56 },
    registered: { date: "2012-05-06T07:08:09.101Z", age: 14 },
    phone: "(578)-530-7614",
    cell: "(578)-530-7615",
    id: { name: "", value: null },
    picture: {
      large: "https://randomuser.me/api/portraits/men/1.jpg",
      medium: "https://randomuser.me/api/portraits/med/men/1.jpg",
      thumbnail: "https://randomuser.me/api/portraits/thumb/men/1.jpg",
    },
    nat: "TR",
    ...overrides,
  };
}

/** Polls `condition()` every `pollMs` until it is true, or fails after `ms`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
  pollMs = 20,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
