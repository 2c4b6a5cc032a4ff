// From a column's sampled values to evidence: which detectors fired and on
// what share of the sampled rows. Only counts leave this module; the values
// are dropped by the caller as soon as this returns.
import { categoryOfName } from "./categories.ts";
import { detectInText, isPersonName, WHOLE_VALUE_DETECTORS, type ValueDetector } from "./value-detectors.ts";

/** Where in a value the detector found personal data. */
export type FoundIn = "value" | "json_key" | "json_value" | "free_text";

export interface ValueEvidence {
  /** A value detector (email, phone, iban, …) or, for json_key, the kind the key names. */
  detector: string;
  found_in: FoundIn;
  /** Matching rows / sampled non-null rows, rounded to 3 decimals. */
  share: number;
  /** Non-null values sampled from the column. */
  sampled: number;
}

/**
 * How much of a column must match before we call it personal data. A whole
 * value is either an e-mail address or not, so most of the column must be;
 * a free-text column needs only a few rows that mention someone.
 */
const THRESHOLDS: Record<FoundIn, number> = { value: 0.5, json_key: 0.2, json_value: 0.2, free_text: 0.05 };
const PERSON_NAME_THRESHOLDS: Record<FoundIn, number> = { value: 0.4, json_key: 0.2, json_value: 0.3, free_text: 0.2 };
/** At least this many matching rows (fewer when the sample itself is smaller). */
const MIN_MATCHES = 3;
const MAX_JSON_NODES = 200;

export interface ColumnSampleOptions {
  /** json/jsonb columns: each value is parsed and walked. */
  json: boolean;
  /** Numeric columns: only card numbers make sense (phone-like ids would not be people). */
  numeric: boolean;
}

function wholeValueDetector(value: string, numeric: boolean): ValueDetector | null {
  for (const [detector, test] of WHOLE_VALUE_DETECTORS) {
    if (numeric && detector !== "card_number") continue;
    if (test(value)) return detector;
  }
  return null;
}

const snake = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[\s-]+/g, "_").toLowerCase();

/** Keys that name personal data and string leaves that are personal data, in one JSON document. */
function walkJson(doc: unknown, found: Set<string>): void {
  const stack: unknown[] = [doc];
  let visited = 0;
  while (stack.length > 0 && visited++ < MAX_JSON_NODES) {
    const node = stack.pop();
    if (typeof node === "string") {
      const detector = wholeValueDetector(node.trim(), false);
      if (detector) found.add(`json_value:${detector}`);
    } else if (Array.isArray(node)) {
      stack.push(...node);
    } else if (node !== null && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        const category = categoryOfName(snake(key))?.category;
        // A bare "name" key names products as often as people: the value decides.
        const leaf = typeof value === "string" || typeof value === "number";
        if (category && leaf && (category !== "name" || (typeof value === "string" && isPersonName(value)))) {
          found.add(`json_key:${category}`);
        }
        stack.push(value);
      }
    }
  }
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined; // truncated by the sampler, or not JSON after all
  }
}

/** Evidence for one column from its sampled values (null = SQL NULL). */
export function columnEvidence(values: readonly (string | null)[], options: ColumnSampleOptions): ValueEvidence[] {
  const counts = new Map<string, number>();
  let sampled = 0;
  for (const raw of values) {
    const value = raw?.trim();
    if (!value) continue;
    sampled++;
    const found = new Set<string>();
    const looksJson = options.json || /^[[{]/.test(value);
    const doc = looksJson ? parseJson(value) : undefined;
    if (doc !== undefined && typeof doc === "object" && doc !== null) {
      walkJson(doc, found);
    } else {
      const detector = wholeValueDetector(value, options.numeric);
      if (detector) found.add(`value:${detector}`);
      else if (!options.numeric && value.length >= 12 && /\s/.test(value)) {
        for (const d of detectInText(value)) found.add(`free_text:${d}`);
      }
    }
    for (const key of found) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const evidence: ValueEvidence[] = [];
  for (const [key, matches] of counts) {
    const [foundIn, detector] = key.split(/:(.*)/s) as [FoundIn, string];
    const threshold = (detector === "person_name" || detector === "name" ? PERSON_NAME_THRESHOLDS : THRESHOLDS)[foundIn];
    const share = matches / sampled;
    if (share >= threshold && matches >= Math.min(MIN_MATCHES, sampled)) {
      evidence.push({ detector, found_in: foundIn, share: Math.round(share * 1000) / 1000, sampled });
    }
  }
  return evidence.sort((a, b) => b.share - a.share);
}
