import assert from "node:assert/strict";
import { snapshotTimes } from "./sse_clients.ts";

Deno.test("snapshotTimes() reads the time of each whole snapshot message and keeps the rest", () => {
  const text = 'event: hello\ndata: {"history":[]}\n\n' +
    'event: snapshot\ndata: {"time":1700000000000,"rates":{}}\n\n' +
    'event: snapshot\ndata: {"time":1700000001000,"rates":{}}\n\n' +
    'event: snapshot\ndata: {"time":17000';
  assert.deepEqual(snapshotTimes(text), {
    times: [1700000000000, 1700000001000],
    rest: 'event: snapshot\ndata: {"time":17000',
  });
});
