/**
 * Valid users and events for the worker's tests (no Kafka, no sockets).
 */
import { encodeEvent, newEvent, type User, type UserEvent } from "../shared/event.ts";

/** A valid user number `i` (ids are stable per `seed` and `i`). */
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

/** An event for `user` accepted at `acceptedAt`. */
export function testEvent(user: User, acceptedAt: Date, eventId?: string): UserEvent {
  return newEvent(user, "webhook", acceptedAt, eventId);
}

/** The message for `event`: key = user id, value = the JSON envelope. */
export function toMessage(event: UserEvent): { key: string; value: Uint8Array } {
  return { key: event.user.id, value: encodeEvent(event) };
}
