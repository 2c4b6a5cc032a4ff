// Masking rules as a YAML file: database → schema → table → column → one of
//   function: <masking function>   value: <SQL constant>   not_sensitive: true (+ reason)
// Read with the failsafe schema, so every scalar stays the text the user
// wrote (value: NULL is SQL NULL, not YAML null); written back through the
// yaml Document API into the existing file, so comments and order survive.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Document, isMap, isScalar, LineCounter, parseDocument, Scalar, YAMLMap, type Node } from "yaml";
import type { MaskingRule } from "../masking/types.ts";
import { usageError } from "./exit.ts";

/** A rule as the API takes and gives it. */
export type Rule = MaskingRule;

export interface NotSensitive {
  database_name: string;
  schema_name: string;
  table_name: string;
  column_name: string;
  reason?: string;
}

export interface RulesFile {
  rules: Rule[];
  notSensitive: NotSensitive[];
}

const HEADER = ` anonbranch masking rules — database → schema → table → column → one of:
   function: <masking function>   e.g. anon.dummy_safe_email(), anon.partial(phone, 2, 'XXX', 2)
   value: <SQL constant>          e.g. "'CONFIDENTIAL'", NULL, 0
   not_sensitive: true            (optional reason: …) the column holds no personal data
 anonbranch rules diff|push --project <id> --file <this file>; anonbranch rules check for the coverage gate.`;

const LEVELS = ["database", "schema", "table", "column"] as const;
const FIELDS = new Set(["function", "value", "not_sensitive", "reason"]);

type Entry = { function: string } | { value: string } | { not_sensitive: true; reason?: string };

const failsafe = { schema: "failsafe" as const };

/** Parses a rules file; a mistake is a usage error naming the file, line and path. */
export function parseRules(text: string, file: string): RulesFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...failsafe, lineCounter: lines, uniqueKeys: true });
  const where = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    return offset === undefined ? file : `${file}:${lines.linePos(offset).line}`;
  };
  if (doc.errors.length > 0) throw usageError(`${file}: ${doc.errors[0]!.message}`);
  const result: RulesFile = { rules: [], notSensitive: [] };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === "")) return result;

  const walk = (node: unknown, path: string[]): void => {
    const level = LEVELS[path.length]!;
    if (!isMap(node)) throw usageError(`${where(node as Node)}: ${path.join(".") || "the file"} must be a mapping of ${level} names`);
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (key === "") throw usageError(`${where(pair.key as Node)}: a ${level} name must be a non-empty string`);
      if (Buffer.byteLength(key) > 63) throw usageError(`${where(pair.key as Node)}: ${level} name "${key}" is longer than 63 bytes`);
      if (path.length < 3) walk(pair.value, [...path, key]);
      else readEntry(pair.value as Node, [...path, key]);
    }
  };

  const readEntry = (node: Node | null, path: string[]): void => {
    const name = path.join(".");
    if (!isMap(node)) throw usageError(`${where(node)}: ${name}: give function:, value: or not_sensitive: true`);
    const fields = new Map<string, string>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!FIELDS.has(key)) throw usageError(`${where(pair.key as Node)}: ${name}: unknown field "${key}" (expected function, value, not_sensitive or reason)`);
      if (!isScalar(pair.value)) throw usageError(`${where(pair.value as Node)}: ${name}.${key} must be a single value`);
      fields.set(key, String(pair.value.value).trim());
    }
    const [database_name, schema_name, table_name, column_name] = path as [string, string, string, string];
    const at = { database_name, schema_name, table_name, column_name };
    const given = ["function", "value", "not_sensitive"].filter((f) => fields.has(f));
    if (given.length !== 1) throw usageError(`${where(node)}: ${name}: give exactly one of function:, value: or not_sensitive: true (found ${given.join(", ") || "none"})`);
    if (fields.has("reason") && !fields.has("not_sensitive")) throw usageError(`${where(node)}: ${name}: reason: goes with not_sensitive: true`);
    if (fields.has("not_sensitive")) {
      if (fields.get("not_sensitive") !== "true") throw usageError(`${where(node)}: ${name}: not_sensitive must be true (remove the column to undo the decision)`);
      const reason = fields.get("reason");
      result.notSensitive.push({ ...at, ...(reason ? { reason } : {}) });
    } else {
      const [field, text] = fields.has("function") ? ["masking_function", fields.get("function")!] : ["masking_value", fields.get("value")!];
      if (text === "") throw usageError(`${where(node)}: ${name}: ${given[0]} must not be empty`);
      result.rules.push({ ...at, [field]: text });
    }
  };

  walk(doc.contents, []);
  return result;
}

export function readRulesFile(file: string): RulesFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw usageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseRules(text, file);
}

function entryOf(r: Rule): Entry {
  return r.masking_function?.trim() ? { function: r.masking_function.trim() } : { value: String(r.masking_value ?? "").trim() };
}

/** database → schema → table → column → entry, in the order given. */
function tree(file: RulesFile): Map<string, Map<string, Map<string, Map<string, Entry>>>> {
  const root = new Map<string, Map<string, Map<string, Map<string, Entry>>>>();
  const put = (c: NotSensitive | Rule, entry: Entry) => {
    const schemas = root.get(c.database_name) ?? root.set(c.database_name, new Map()).get(c.database_name)!;
    const tables = schemas.get(c.schema_name) ?? schemas.set(c.schema_name, new Map()).get(c.schema_name)!;
    const columns = tables.get(c.table_name) ?? tables.set(c.table_name, new Map()).get(c.table_name)!;
    columns.set(c.column_name, entry);
  };
  for (const r of file.rules) put(r, entryOf(r));
  for (const n of file.notSensitive) put(n, { not_sensitive: true, ...(n.reason ? { reason: n.reason } : {}) });
  return root;
}

/**
 * Makes `map` hold exactly `desired`, touching only what differs (comments on
 * the rest stay). depth 1 = databases, 2 schemas, 3 tables, 4 columns, 5 a column's fields.
 */
function sync(doc: Document, map: YAMLMap, desired: Map<string, unknown>, depth: number): void {
  for (const pair of [...map.items]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!desired.has(key)) map.delete(pair.key);
  }
  for (const [key, value] of desired) {
    const current = map.get(key, true) as unknown;
    if (depth < 5) {
      let child = isMap(current) ? current : undefined;
      if (!child) {
        child = new YAMLMap();
        map.set(key, child);
      }
      const wanted = depth < 4 ? (value as Map<string, unknown>) : new Map(Object.entries(value as Entry).map(([k, v]) => [k, v === true ? "true" : v]));
      sync(doc, child, wanted, depth + 1);
    } else if (isScalar(current)) {
      if (String(current.value) !== value) current.value = value;
    } else {
      map.set(key, new Scalar(value));
    }
  }
}

/** The file's text for `file`, merged into `existing` (the current text) when there is one. */
export function renderRules(file: RulesFile, existing?: string, label = "the file to write into"): string {
  const doc = existing?.trim() ? parseDocument(existing, failsafe) : new Document(new YAMLMap(), failsafe);
  if (doc.errors.length > 0) throw usageError(`${label} is not valid YAML (${doc.errors[0]!.message.split("\n")[0]}); fix or remove it`);
  if (!existing?.trim()) doc.commentBefore = HEADER;
  if (!isMap(doc.contents)) doc.contents = new YAMLMap() as typeof doc.contents;
  sync(doc, doc.contents as YAMLMap, tree(file), 1);
  return doc.toString({ lineWidth: 0 });
}

export function writeRulesFile(path: string, file: RulesFile): void {
  const text = renderRules(file, existsSync(path) ? readFileSync(path, "utf8") : undefined, path);
  try {
    writeFileSync(path, text);
  } catch (error) {
    throw usageError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
