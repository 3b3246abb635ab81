/**
 * Wraps validated users in `user_created` envelopes and produces them through the batcher:
 * key = user id, value = the encoded envelope, header `traceparent`.
 */
import { encodeEvent, newEvent, type Source, type User } from "../shared/event.ts";
import type { Batcher } from "./batcher.ts";

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
      const acceptedAt = new Date(now());
      const headers = { traceparent };
      const eventIds: string[] = [];
      const messages = users.map((user) => {
        const event = newEvent(user, source, acceptedAt);
        eventIds.push(event.event_id);
        return { key: user.id, value: encodeEvent(event), headers };
      });
      await batcher.enqueue(messages);
      return eventIds;
    },
  };
}
