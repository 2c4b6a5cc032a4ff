// Neon-shaped identifiers, generated in one place.
// neonctl relies on branch ids having exactly three dash-separated parts after "br-".
import { randomInt, randomUUID } from "node:crypto";

const adjectives = [
  "aged", "ancient", "autumn", "billowing", "bitter", "black", "blue", "bold", "broad", "broken",
  "calm", "cold", "cool", "crimson", "curly", "damp", "dark", "dawn", "delicate", "divine",
  "dry", "empty", "falling", "fancy", "flat", "floral", "fragrant", "frosty", "gentle", "green",
  "hidden", "holy", "icy", "jolly", "late", "lingering", "little", "lively", "long", "lucky",
  "misty", "morning", "muddy", "mute", "nameless", "noisy", "odd", "old", "orange", "patient",
  "plain", "polished", "proud", "purple", "quiet", "rapid", "raspy", "red", "restless", "rough",
  "round", "royal", "shiny", "shrill", "shy", "silent", "small", "snowy", "soft", "solitary",
  "sparkling", "spring", "square", "steep", "still", "summer", "super", "sweet", "throbbing", "tight",
  "tiny", "twilight", "wandering", "weathered", "white", "wild", "winter", "wispy", "withered", "young",
];
const nouns = [
  "art", "band", "bar", "base", "bird", "block", "boat", "bonus", "bread", "breeze",
  "brook", "bush", "butterfly", "cake", "cell", "cherry", "cloud", "credit", "darkness", "dawn",
  "dew", "disk", "dream", "dust", "feather", "field", "fire", "firefly", "flower", "fog",
  "forest", "frog", "frost", "glade", "glitter", "grass", "hall", "hat", "haze", "heart",
  "hill", "king", "lab", "lake", "leaf", "limit", "math", "meadow", "mode", "moon",
  "morning", "mountain", "mouse", "mud", "night", "paper", "pine", "poetry", "pond", "queen",
  "rain", "recipe", "resonance", "rice", "river", "salad", "scene", "sea", "shadow", "shape",
  "silence", "sky", "smoke", "snow", "snowflake", "sound", "star", "sun", "sunset", "surf",
  "term", "thunder", "tooth", "tree", "truth", "union", "unit", "violet", "voice", "water",
];

function pick<T>(list: readonly T[]): T {
  return list[randomInt(list.length)]!;
}

function triple(): string {
  return `${pick(adjectives)}-${pick(nouns)}-${String(randomInt(1_000_000)).padStart(6, "0")}`;
}

export const newProjectId = (): string => triple();
export const newBranchId = (): string => `br-${triple()}`;
export const newEndpointId = (): string => `ep-${triple()}`;
export const newOperationId = (): string => randomUUID();

/** Matches ids made here; anything else in a path is rejected before a query runs. */
export const projectIdPattern = /^[a-z]+-[a-z]+-\d{6}$/;
export const branchIdPattern = /^br-[a-z]+-[a-z]+-\d{6}$/;
