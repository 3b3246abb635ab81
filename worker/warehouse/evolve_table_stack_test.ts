/**
 * Integration, on the shared stack's PostgreSQL: the worker's sink evolves a table of event
 * version 1 (two workers at once), refuses a table it will not fix, and writes rows of both
 * versions so that an event sets only the columns its version knows.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { sharedStack, uniqueName } from "../../stack/harness.ts";
import { testEvent, testUser } from "../../testing/users.ts";
import type { User } from "../../shared/event.ts";
import { createPostgresDialect, type Staging } from "./postgres_dialect.ts";
import { createWarehouseSink } from "./sink.ts";
import { evolveTable, TableSchemaError } from "./evolve_table.ts";
import { toUserRow } from "./user_row.ts";
import { columnType } from "./_sql_text.ts";
import { TABLE_COLUMNS } from "./table_columns.ts";

/** The DDL of the table as event version 1 made it: no nat, no cell. */
function versionOneTable(schema: string): string {
  const columns = TABLE_COLUMNS.filter((c) => c.since === 1).map((c) =>
    `${c.name} ${columnType(c)}${c.nullable ? "" : " NOT NULL"}`
  );
  return `CREATE TABLE ${schema}.users (${columns.join(", ")}, PRIMARY KEY (id))`;
}

async function withSchema(
  name: string,
  run: (sql: postgres.Sql, schema: string, url: string) => Promise<void>,
): Promise<void> {
  const env = await sharedStack();
  const schema = uniqueName(name);
  const sql = postgres(env.WAREHOUSE_URL, { max: 2, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE SCHEMA ${schema}`);
    await run(sql, schema, env.WAREHOUSE_URL);
  } finally {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.end();
  }
}

const columnsOf = async (sql: postgres.Sql, schema: string) =>
  (await sql.unsafe<{ column_name: string }[]>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'users' ORDER BY ordinal_position`,
    [schema],
  )).map((r) => r.column_name);

Deno.test("two workers starting at once against a version-1 table add its columns once, and neither fails", async () => {
  await withSchema("w_evolve", async (sql, schema, url) => {
    await sql.unsafe(versionOneTable(schema));
    await sql.unsafe(
      `INSERT INTO ${schema}.users SELECT * FROM (VALUES ('00000000-0000-4000-8000-000000000001', 'a', 'b', NULL, NULL, NULL, 'a@b.c', NULL, NULL::timestamptz, NULL::timestamptz, NULL, NULL, 'webhook', '00000000-0000-4000-8000-0000000000aa', now(), now(), now())) v`,
    );
    const pools = [0, 1, 2, 3].map(() => postgres(url, { max: 1, onnotice: () => {} }));
    const added: string[][] = [];
    try {
      // Four at once: every one of them races the others on each column.
      await Promise.all(
        pools.map((pool) =>
          createWarehouseSink(pool, createPostgresDialect({ schema, table: "users" }), {
            onColumnsAdded: (columns) => added.push(columns),
          }).ensureTable()
        ),
      );
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    assert.deepEqual(added.flat().toSorted(), ["cell", "nat"], "each column added by one worker");
    assert.deepEqual(
      (await columnsOf(sql, schema)).slice(-4),
      ["date_added", "updated_at", "nat", "cell"],
      "appended after the first version's columns, as in TABLE_COLUMNS",
    );
    const [row] = await sql.unsafe(`SELECT nat, cell FROM ${schema}.users`);
    assert.deepEqual({ ...row }, { nat: null, cell: null }, "rows written before have them NULL");
  });
});

Deno.test("a column another worker added between the read and the ALTER is not an error", async () => {
  await withSchema("w_evolve_race", async (sql, schema) => {
    await sql.unsafe(versionOneTable(schema));
    await sql.unsafe(`ALTER TABLE ${schema}.users ADD COLUMN nat VARCHAR(2)`);
    const dialect = createPostgresDialect({ schema, table: "users" });
    // The first read is from before the other worker's ALTER: it does not see nat.
    let reads = 0;
    const stale = {
      ...dialect,
      describeColumns: () => {
        const q = dialect.describeColumns();
        return reads++ === 0 ? { ...q, text: `${q.text} AND column_name <> 'nat'` } : q;
      },
    };
    assert.deepEqual(await evolveTable(sql, stale), { added: ["cell"] });
    assert.equal(reads, 3, "read again after the refused ALTER, and after all of them");
  });
});

Deno.test("a table the worker will not fix stops the start with an error naming the column", async () => {
  await withSchema("w_evolve_bad", async (sql, schema) => {
    await sql.unsafe(versionOneTable(schema));
    await sql.unsafe(`ALTER TABLE ${schema}.users ADD COLUMN nat VARCHAR(1) NOT NULL DEFAULT 'x'`);
    const sink = createWarehouseSink(sql, createPostgresDialect({ schema, table: "users" }));
    await assert.rejects(sink.ensureTable(), (err: unknown) => {
      assert.ok(err instanceof TableSchemaError, String(err));
      assert.match(err.message, new RegExp(`^The table ${schema}\\.users disagrees`));
      assert.match(err.message, /column nat is VARCHAR\(1\); the worker needs VARCHAR\(2\)/);
      assert.match(err.message, /column nat is NOT NULL/);
      assert.match(err.message, /See docs\/schema\.md/);
      return true;
    });
    assert.ok(!(await columnsOf(sql, schema)).includes("cell"), "nothing changed on a refusal");
  });
});

for (const staging of ["auto", "copy", "insert"] as Staging[]) {
  Deno.test(`an event sets only the columns its version knows: absent is not null (${staging})`, async () => {
    await withSchema(`w_versions_${staging}`, async (sql, schema) => {
      const sink = createWarehouseSink(
        sql,
        createPostgresDialect({ schema, table: "users" }, { staging }),
      );
      await sink.ensureTable();
      const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
      const user = (i: number, o: Partial<User> = {}) => testUser(i, "5e5e", o);
      const row = (u: User, at: Date) => toUserRow(testEvent(u, at));
      const read = async (i: number) => {
        const [r] = await sql.unsafe(
          `SELECT last_name, nat, cell FROM ${schema}.users WHERE id = $1`,
          [user(i).id],
        );
        return { ...r };
      };
      // One batch of both versions; user 3 is new from a version-1 event.
      await sink.upsert([
        row(user(1, { nat: "GB", cell: "07700 900123" }), t(1)),
        row(user(2, { nat: "US", cell: null }), t(1)),
        row(user(3), t(1)),
      ]);
      assert.deepEqual(await read(1), { last_name: "O'Brien", nat: "GB", cell: "07700 900123" });
      assert.deepEqual(await read(3), { last_name: "O'Brien", nat: null, cell: null });
      // A newer version-1 event: its columns change, nat and cell stay.
      await sink.upsert([
        row(user(1, { last_name: "v1 later" }), t(2)),
        row(user(3, { nat: "IE", cell: "087 1234567" }), t(2)),
      ]);
      assert.deepEqual(await read(1), { last_name: "v1 later", nat: "GB", cell: "07700 900123" });
      assert.deepEqual(await read(3), { last_name: "O'Brien", nat: "IE", cell: "087 1234567" });
      // A newer version-2 event with nat null clears it: null is a value, absent is not.
      await sink.upsert([row(user(1, { last_name: "v2", nat: null, cell: "1" }), t(3))]);
      assert.deepEqual(await read(1), { last_name: "v2", nat: null, cell: "1" });
      // An older event of either version changes nothing; which event wins is as before.
      const { stale } = await sink.upsert([
        row(user(1, { last_name: "old", nat: "FR", cell: "2" }), t(0)),
        row(user(2, { last_name: "old" }), t(0)),
      ]);
      assert.equal(stale, 2);
      assert.deepEqual(await read(1), { last_name: "v2", nat: null, cell: "1" });
      assert.deepEqual(await read(2), { last_name: "O'Brien", nat: "US", cell: null });
    });
  });
}

Deno.test("a write that meets a column dropped since the start adds it again and is written", async () => {
  await withSchema("w_evolve_lost", async (sql, schema) => {
    const added: string[][] = [];
    const sink = createWarehouseSink(sql, createPostgresDialect({ schema, table: "users" }), {
      onColumnsAdded: (columns) => added.push(columns),
    });
    await sink.ensureTable();
    assert.deepEqual(added, []);
    await sql.unsafe(`ALTER TABLE ${schema}.users DROP COLUMN cell`);
    await sink.upsert([toUserRow(testEvent(testUser(9, "5e5f", { cell: "555" }), new Date()))]);
    assert.deepEqual(added, [["cell"]]);
    const [r] = await sql.unsafe(`SELECT cell FROM ${schema}.users`);
    assert.equal(r?.cell, "555");
  });
});
