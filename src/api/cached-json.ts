// c.json for the hot reads whose values are presented once per cached row
// (src/lib/memo.ts): the same value is then serialised once too.
import type { Context, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import { memoized } from "../lib/memo.ts";

const serialised = memoized((value: object) => JSON.stringify(value));

/** What c.json(value, 200) answers, typed as c.json types it (the body is the JSON of `value`). */
type JsonAnswer<T> = Response & TypedResponse<JSONParsed<T>, 200, "json">;

/** A 200 JSON answer of `value`, which must not be mutated afterwards (it is serialised once). */
export function cachedJson<T extends object>(c: Context, value: T): JsonAnswer<T> {
  return c.body(serialised(value), 200, { "Content-Type": "application/json" }) as unknown as JsonAnswer<T>;
}
