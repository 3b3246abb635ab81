/**
 * The batcher's send lanes by broker, kept in step with the `LaneRouter`: which lane a message
 * takes, and, when the router's leaders changed, moving queued messages to their partition's
 * new lane (in order) and retiring lanes of brokers that lead nothing any more once idle.
 */
import { type LaneRouter, ONE_LANE, type OutgoingMessage } from "./port.ts";
import type { Entry } from "./send_lane.ts";
import { SendLane } from "./send_lane.ts";

const ONE_LANE_ONLY: readonly number[] = [ONE_LANE];

/** The router of a batcher without leaders: every message in one lane, as before lanes. */
export const oneLane: LaneRouter = {
  laneOf: () => ONE_LANE,
  current: () => ONE_LANE_ONLY,
  version: () => 0,
  stalled() {},
};

/** The lanes of one batcher. */
export class LaneTable {
  readonly #router: LaneRouter;
  /** The batcher's send of a lane, given to each lane made. */
  readonly #sendNow: (lane: SendLane) => void;
  /** The lanes by broker node id. */
  readonly #lanes = new Map<number, SendLane>();
  /** The router's version the lanes were last routed at. */
  #routedVersion: number;
  /** The lanes the router uses now: any other goes once it is idle. */
  #current: Set<number>;

  constructor(router: LaneRouter, sendNow: (lane: SendLane) => void) {
    this.#router = router;
    this.#sendNow = sendNow;
    this.#routedVersion = router.version();
    this.#current = new Set(router.current());
  }

  /** True when the router's leaders changed since the lanes were routed (`reroute` then). */
  get stale(): boolean {
    return this.#router.version() !== this.#routedVersion;
  }

  /** The lane `message` takes now. */
  laneOf(message: OutgoingMessage): SendLane {
    return this.#lane(this.#router.laneOf(message));
  }

  /** Every lane that has work or may get some. */
  values(): IterableIterator<SendLane> {
    return this.#lanes.values();
  }

  /**
   * Moves queued messages whose partition now has another leader to that leader's lane, in
   * order, and drops dead entries on the way. Returns every lane, to be scheduled again.
   */
  reroute(): SendLane[] {
    this.#routedVersion = this.#router.version();
    this.#current = new Set(this.#router.current());
    for (const lane of [...this.#lanes.values()]) {
      if (lane.queue.length === 0) continue;
      const keep: Entry[] = [];
      for (const e of lane.queue) {
        if (e.ticket.settled) {
          e.lane = null;
          continue;
        }
        const to = this.laneOf(e.message);
        if (to === lane) {
          keep.push(e);
          continue;
        }
        to.push(e);
        lane.queuedBytes -= e.bytes;
        e.lane = to;
      }
      lane.queue = keep;
      lane.dead = 0;
    }
    return [...this.#lanes.values()];
  }

  /** Removes `lane`, idle, when its broker leads nothing any more. */
  retireIfGone(lane: SendLane): void {
    if (this.#current.has(lane.id)) return;
    lane.clearLinger();
    this.#lanes.delete(lane.id);
  }

  /** The lanes the router uses now (for `stats().stalled`). */
  current(): readonly number[] {
    return this.#router.current();
  }

  /** Tells the router that `lane`'s send is stuck (it looks for moved leaders). */
  stalled(lane: SendLane): void {
    this.#router.stalled(lane.id);
  }

  #lane(id: number): SendLane {
    let lane = this.#lanes.get(id);
    if (!lane) this.#lanes.set(id, lane = new SendLane(id, this.#sendNow));
    return lane;
  }
}
