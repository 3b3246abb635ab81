/** `GET /api/pull-runs`: the ingests' recent pull runs, newest first (`sources/pull_runs.ts`). */
import type { PullRuns } from "../sources/pull_runs.ts";
import type { ApiRoute } from "./app.ts";

/** The route, over a reader of the configured ingests' runs. */
export function pullRunRoutes(
  read: () => Promise<PullRuns>,
): Record<string, Record<string, ApiRoute>> {
  return { "/api/pull-runs": { GET: async () => Response.json(await read()) } };
}
