import assert from "node:assert/strict";
import { ResponseError } from "@platformatic/kafka";
import { isRoutineGroupError } from "./kafka_error.ts";

/** What the client throws when JoinGroup (API 11) is answered with `code` for the group. */
function joinGroupAnswer(code: number): Error {
  return new ResponseError(11, 9, { "/": [code, null] }, {});
}

Deno.test("isRoutineGroupError() knows a broker's group answers by their id, not their text", () => {
  // COORDINATOR_LOAD_IN_PROGRESS (14): the text says "The coordinator is loading …".
  const loading = joinGroupAnswer(14);
  assert.equal(isRoutineGroupError(loading), true);
  assert.equal(
    isRoutineGroupError(new AggregateError([loading], "joinGroup failed 4 times")),
    true,
  );
  assert.equal(isRoutineGroupError(joinGroupAnswer(15)), true, "COORDINATOR_NOT_AVAILABLE");
  assert.equal(isRoutineGroupError(joinGroupAnswer(16)), true, "NOT_COORDINATOR");
  assert.equal(isRoutineGroupError(joinGroupAnswer(30)), false, "GROUP_AUTHORIZATION_FAILED");
  assert.equal(isRoutineGroupError(new Error("connect ECONNREFUSED")), false);
});
