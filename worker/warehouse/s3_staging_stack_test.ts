/**
 * Integration: the staged objects on a real S3 server (moto, with signatures and the worker's
 * IAM policy checked) are byte-exact gzip CSV that `COPY … CSV` reads back to the same values.
 * PostgreSQL of the shared stack stands in for Redshift's COPY, with the equivalent options:
 * `(FORMAT csv, NULL '@NULL@')` for `FORMAT AS CSV NULL AS '@NULL@'`.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import postgres from "postgres";
import { s3Server, sharedStack, uniqueName } from "../../stack/harness.ts";
import { createPostgresDialect } from "./postgres_dialect.ts";
import { EVENT_COLUMNS, WRITE_COLUMNS } from "./table_columns.ts";
import type { UserRow } from "./user_row.ts";
import { createCredentialChain } from "../../shared/aws/credentials.ts";
import { CSV_NULL, csvRow } from "./csv_row.ts";
import { gzipCsvParts } from "./gzip_csv_parts.ts";
import { createS3Client, S3Error } from "./s3_client.ts";
import { createS3Staging } from "./s3_staging.ts";

const WRITTEN_AT = "2026-01-02T03:04:05.123456Z";

/** Values that CSV must carry exactly: one field of each row differs, by column kind. */
const TEXTS = [
  "Zoë Ångström-Øster 山田 😀",
  'O"Brien, "the" third',
  "a,b,,c",
  "tab\there\tand\tthere",
  "line one\nline two\n",
  "carriage\rreturn\r\nand CRLF",
  "",
  " ",
  "\\N",
  "back\\slash\\",
  "\\.",
  "before\n\\.\nafter",
  CSV_NULL, // data equal to the marker: quoted, so PostgreSQL reads it as data
  `"${CSV_NULL}"`,
  "@NULL",
  "'single' quotes",
  "#comment-like",
  "\u00a0nbsp\u2028ls\ufeffbom",
];

/** Timestamps as the rows carry them (UTC, 0 to 6 fraction digits, years 0001..9999). */
const TIMES = [
  "0001-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999999Z",
  "1990-05-17T08:30:00.5Z",
  "2024-02-29T12:00:00.000001Z",
];

function rows(): UserRow[] {
  const out: UserRow[] = [];
  for (let i = 0; i < 120; i++) {
    const text = TEXTS[i % TEXTS.length]!;
    const time = TIMES[i % TIMES.length]!;
    out.push([
      `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      text === "" ? "x" : text, // first_name: NOT NULL, any text
      text, // last_name: NOT NULL, the empty string included
      i % 3 === 0 ? null : text, // gender
      i % 3 === 1 ? null : `${text} ${i}`, // address
      i % 5 === 0 ? null : "", // post_code: NULL or the empty string
      `user${i}@exämple.com`,
      i % 2 === 0 ? null : text,
      i % 4 === 0 ? null : time, // dob
      time, // registered_date
      null,
      "https://randomuser.me/api/portraits/med/women/1.jpg",
      "webhook",
      `00000000-0000-4000-8000-${String(1000 + i).padStart(12, "0")}`,
      time, // event_time
      i % 6 === 0 ? null : "GB", // nat (version 2)
      i % 7 === 0 ? null : text, // cell (version 2)
    ]);
  }
  return out;
}

/** `2026-01-02T03:04:05.5Z` → `2026-01-02T03:04:05.500000Z`, as the query renders it. */
function micros(t: string): string {
  const [, base, fraction = ""] = /^(.{19})(?:\.(\d{1,6}))?Z$/.exec(t)!;
  return `${base}.${fraction.padEnd(6, "0")}Z`;
}

/**
 * Runs `COPY … FROM STDIN` with `data` on a connection of its own. postgres.js 3.4.9 never
 * settles the writable when the server refuses the data (porsager/postgres#1173): a deadline
 * turns that hang into a failure, and ending the connection frees it.
 */
async function copyIn(url: string, text: string, data: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const writable = await sql.unsafe(text).writable();
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        writable.once("error", reject);
        writable.once("finish", () => resolve());
        writable.end(data);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("COPY did not finish in 10 s: PostgreSQL refused the CSV")),
          10_000,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await sql.end({ timeout: 0 });
  }
}

Deno.test("S3 staging: the objects are byte-exact gzip CSV that COPY … CSV reads back to the same values", async () => {
  const s3 = await s3Server({ bucket: "staging-csv-test", prefix: "staging/" });
  const env = await sharedStack();
  const schema = uniqueName("w_s3_csv");
  const sql = postgres(env.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
  try {
    const store = createS3Client(
      { bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint },
      {
        credentials: createCredentialChain({
          AWS_ACCESS_KEY_ID: s3.worker.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.worker.secretAccessKey,
        }),
      },
    );
    // Small parts, so that one write makes several objects, as a large flush does.
    const maxPartBytes = 8 * 1024;
    const staging = createS3Staging(store, { maxPartBytes });
    const staged = { keyPrefix: "staging/w-1/", rows: rows(), trailing: [WRITTEN_AT, WRITTEN_AT] };
    const keys = await staging.upload(staged);

    // Byte-exact: what the server holds is what the encoder made, part by part.
    assert.ok(keys.length >= 3, `${keys.length} objects`);
    assert.deepEqual(
      keys,
      keys.map((_, i) => `staging/w-1/part-${String(i).padStart(5, "0")}.csv.gz`),
    );
    assert.deepEqual((await s3.list("staging/w-1/")).toSorted(), keys);
    const expected = [];
    for await (const part of gzipCsvParts(staged.rows, { ...staged, maxPartBytes })) {
      expected.push(part.body);
    }
    const downloaded = await Promise.all(keys.map((k) => s3.get(k)));
    assert.deepEqual(downloaded, expected);
    const csv = downloaded.map((b) =>
      new TextDecoder("utf-8", { fatal: true }).decode(gunzipSync(b))
    );
    assert.equal(
      csv.join(""),
      staged.rows.map((r) => csvRow([...r, WRITTEN_AT, WRITTEN_AT])).join(""),
    );

    // COPY reads it back: the stage is LIKE the real table, as on Redshift, and filled with the
    // event's columns, then the write times.
    const STAGED = [...EVENT_COLUMNS, ...WRITE_COLUMNS];
    for (const ddl of createPostgresDialect({ schema, table: "users" }).createTable()) {
      await sql.unsafe(ddl);
    }
    await sql.unsafe(`CREATE TABLE ${schema}.stage (LIKE ${schema}.users)`);
    const columns = STAGED.map((c) => c.name).join(", ");
    for (const text of csv) {
      await copyIn(
        env.WAREHOUSE_URL,
        `COPY ${schema}.stage (${columns}) FROM STDIN (FORMAT csv, NULL '${CSV_NULL}')`,
        text,
      );
    }
    const utc = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    const loaded = await sql.unsafe(
      `SELECT ${
        STAGED.map((c) => c.type.kind === "timestamptz" ? `${utc(c.name)} AS ${c.name}` : c.name)
          .join(", ")
      } FROM ${schema}.stage ORDER BY id`,
    );
    assert.equal(loaded.length, staged.rows.length);
    loaded.forEach((row, r) => {
      const want = [...staged.rows[r]!, WRITTEN_AT, WRITTEN_AT];
      STAGED.forEach((c, i) => {
        const value = want[i] ?? null;
        const expectedValue = value !== null && c.type.kind === "timestamptz"
          ? micros(value)
          : value;
        assert.equal(row[c.name], expectedValue, `row ${r}, ${c.name}: ${JSON.stringify(value)}`);
      });
    });
    const [{ nulls, empties }] = await sql.unsafe(
      `SELECT count(*) FILTER (WHERE post_code IS NULL)::int AS nulls,
              count(*) FILTER (WHERE post_code = '')::int AS empties FROM ${schema}.stage`,
    ) as unknown as [{ nulls: number; empties: number }];
    assert.deepEqual({ nulls, empties }, { nulls: 24, empties: 96 }, "NULL and '' stay apart");
    assert.equal(staged.rows[0]!.length, EVENT_COLUMNS.length, "rows of the newest version");

    await staging.remove(keys);
    assert.deepEqual(await s3.list("staging/w-1/"), [], "removed after the write");
  } finally {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.end();
    await s3.stop();
  }
});

Deno.test("S3 staging: a refused upload throws and leaves no object behind", async () => {
  const s3 = await s3Server({ bucket: "staging-refused-test", prefix: "staging/" });
  try {
    const store = createS3Client(
      { bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint },
      {
        credentials: createCredentialChain({
          AWS_ACCESS_KEY_ID: s3.worker.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.worker.secretAccessKey,
        }),
      },
    );
    // The first part lands under the allowed prefix; the second is refused by the policy.
    let puts = 0;
    const staging = createS3Staging({
      ...store,
      put: (key, body, type) => store.put(puts++ === 0 ? key : `elsewhere/${key}`, body, type),
    }, { maxPartBytes: 1024 });
    const err = await staging.upload({ keyPrefix: "staging/w-2/", rows: rows(), trailing: [] })
      .catch((e) => e);
    assert.ok(err instanceof S3Error, String(err));
    assert.equal(err.s3Code, "AccessDenied");
    assert.deepEqual(await s3.list("staging/"), [], "the part that was put is deleted again");
  } finally {
    await s3.stop();
  }
});
