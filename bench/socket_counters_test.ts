import assert from "node:assert/strict";
import { parseSocketCounters } from "./socket_counters.ts";

const SS = [
  'ESTAB 0      0      [::ffff:127.0.0.1]:47298 [::ffff:127.0.0.1]:9092 users:(("deno",pid=301,fd=20))',
  "\t bbr wscale:1,10 rto:204 mss:50940 cwnd:12 bytes_sent:249 bytes_acked:250 segs_out:6 data_segs_out:2 data_segs_in:2",
  'ESTAB 0      0      127.0.0.1:47314 127.0.0.1:9092 users:(("deno",pid=301,fd=21))',
  "\t bbr bytes_sent:1272 bytes_acked:1273 segs_out:54 segs_in:31 data_segs_out:27 data_segs_in:27",
  'ESTAB 0      0      127.0.0.1:47315 127.0.0.1:9092 users:(("deno",pid=3010,fd=21))',
  "\t bbr bytes_sent:5000 data_segs_out:500",
  'ESTAB 0      0      127.0.0.1:47316 127.0.0.1:19092 users:(("deno",pid=301,fd=22))',
  "\t bbr bytes_sent:7000 data_segs_out:700",
].join("\n");

Deno.test("parseSocketCounters() sums the connections of one process to one port", () => {
  assert.deepEqual(parseSocketCounters(SS, 301, 9092), {
    connections: 2,
    bytesSent: 249 + 1272,
    dataSegmentsOut: 2 + 27,
  });
});

Deno.test("parseSocketCounters() reads output without the state column", () => {
  const noState = SS.split("\n").map((l) => l.replace(/^ESTAB /, "")).join("\n");
  assert.deepEqual(parseSocketCounters(noState, 301, 19092), {
    connections: 1,
    bytesSent: 7000,
    dataSegmentsOut: 700,
  });
  assert.deepEqual(parseSocketCounters("", 301, 9092), {
    connections: 0,
    bytesSent: 0,
    dataSegmentsOut: 0,
  });
});
