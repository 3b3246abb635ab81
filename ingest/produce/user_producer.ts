/**
 * Wraps validated users in `user_created` envelopes and produces them through the batcher:
 * key = user id, value = the encoded envelope, header `traceparent`.
 *
 * A request's events share one timestamp and one headers object, and each envelope is written
 * straight to text around the validated user (`encodeNewEvent`), without an envelope object.
 */
import { encodeNewEvent, type Source, type User } from "../../shared/event.ts";
import type { Batcher } from "./batcher.ts";
import type { OutgoingMessage } from "./port.ts";

/** Produces users as events. */
export interface UserProducer {
  /**
   * Resolves with the event ids (in the order of `users`) once Kafka acknowledged all of them.
   * @throws {ProduceError} when any of them was not acknowledged.
   */
  produce(users: readonly User[], source: Source, traceparent: string): Promise<string[]>;
}

/** Creates a user producer on `batcher`; `now` stamps `accepted_at`. */
export function createUserProducer(
  batcher: Pick<Batcher, "enqueue">,
  now: () => number = Date.now,
): UserProducer {
  return {
    async produce(users, source, traceparent) {
      const acceptedAt = new Date(now()).toISOString();
      const headers = { traceparent };
      const eventIds: string[] = new Array(users.length);
      const messages: OutgoingMessage[] = new Array(users.length);
      for (let i = 0; i < users.length; i++) {
        const user = users[i]!;
        const eventId = crypto.randomUUID();
        eventIds[i] = eventId;
        messages[i] = {
          key: user.id,
          value: encodeNewEvent(user, source, acceptedAt, eventId),
          headers,
        };
      }
      await batcher.enqueue(messages);
      return eventIds;
    },
  };
}
