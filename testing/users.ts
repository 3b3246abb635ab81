/**
 * The test kit's one user factory: user number `i` as the warehouse stores it (`testUser`), as
 * a sender writes it (`sampleUser`), as an event (`testEvent`, `seededEvent`), as a Kafka
 * message (`toMessage`), and as randomuser.me answers it (`randomUserResult`). Ids are stable
 * per seed and index, so a test can name the rows it expects.
 *
 * @example
 * ```ts
 * import type { TestKafka } from "./kafka.ts";
 * declare const kafka: TestKafka, topic: string;
 *
 * const event = testEvent(testUser(1, "0001"), new Date());
 * await kafka.produce(topic, [toMessage(event)]);
 * const body = JSON.stringify([sampleUser(), sampleUser()]); // two new users
 * ```
 */
import {
  encodeEvent,
  newEvent,
  type User,
  type UserEvent,
  type UserInput,
} from "../shared/event.ts";

/** User number `i` (its id is stable per `seed` and `i`), every field valid and non-ASCII. */
export function testUser(i: number, seed = "0000", overrides: Partial<User> = {}): User {
  const hex = i.toString(16).padStart(12, "0");
  return {
    id: `${seed.padStart(8, "0").slice(0, 8)}-0000-4000-8000-${hex}`,
    first_name: `Zoë${i}`,
    last_name: "O'Brien",
    gender: i % 2 ? "female" : "male",
    address: `${i} Rue de l'Église\tSaint-Étienne, Auvergne, France`,
    post_code: String(10000 + (i % 90000)),
    email: `user${i}@example.com`,
    username: `user${i}`,
    dob: "1990-05-17T08:30:00.000Z",
    registered_date: "2015-01-02T03:04:05.000Z",
    phone: "+33 1 23 45 67 89",
    picture: `https://randomuser.me/api/portraits/med/women/${i % 100}.jpg`,
    ...overrides,
  };
}

let counter = 0;

/**
 * User `i` as a webhook sender writes it: `testUser(i, "6a1f2c3d")` with the post code as the
 * number 42000 (the ingest stores "42000"). Without `i`, every call is a new user.
 */
export function sampleUser(i = counter++, overrides: Partial<UserInput> = {}): UserInput {
  return { ...testUser(i, "6a1f2c3d"), post_code: 42000, ...overrides };
}

/** An event for `user` accepted at `acceptedAt` (a fresh event id unless given). */
export function testEvent(user: User, acceptedAt: Date, eventId?: string): UserEvent {
  return newEvent(user, "webhook", acceptedAt, eventId);
}

const T0 = Date.parse("2026-01-01T00:00:00.000Z");

/** Event `i` of a seeded run: the same bytes every time it is asked for. */
export function seededEvent(i: number, seed: string): UserEvent {
  const hex = i.toString(16).padStart(12, "0");
  return testEvent(testUser(i, seed), new Date(T0 + i), `${seed}-0000-4000-9000-${hex}`);
}

const NATIONALITIES = ["AU", "BR", "CA", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE"] as const;

/** Event `i` of a seeded run in event version 2: `seededEvent` with `nat` and `cell`. */
export function seededEventV2(i: number, seed: string): UserEvent {
  const hex = i.toString(16).padStart(12, "0");
  const user = testUser(i, seed, {
    nat: NATIONALITIES[i % NATIONALITIES.length]!,
    cell: `+41 79 ${String(i % 1000).padStart(3, "0")} 00 00`,
  });
  return testEvent(user, new Date(T0 + i), `${seed}-0000-4000-9000-${hex}`);
}

/** The Kafka message of `event`: key = user id, value = the JSON envelope. */
export function toMessage(event: UserEvent): { key: string; value: Uint8Array } {
  return { key: event.user.id, value: encodeEvent(event) };
}

/** A randomuser.me 1.4 result for `uuid`, as the pull job fetches it. */
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
