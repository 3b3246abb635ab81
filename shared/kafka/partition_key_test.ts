import assert from "node:assert/strict";
import { parsePartitionKey, partitionKey } from "./partition_key.ts";

Deno.test("parsePartitionKey() gives back what partitionKey() was given", () => {
  assert.equal(partitionKey("user_created", 12), "user_created:12");
  assert.deepEqual(parsePartitionKey(partitionKey("user_created", 12)), {
    topic: "user_created",
    partition: 12,
  });
  assert.deepEqual(parsePartitionKey("a.b-c:0"), { topic: "a.b-c", partition: 0 });
});
