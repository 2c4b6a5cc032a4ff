// Detectors that recognise personal data in one value (a whole cell, or a
// span of free text). Pure functions: they see sampled values in memory and
// answer yes or no; nothing they see is kept or returned.
import { isIP } from "node:net";
import { isCommonFirstName } from "./person-names.ts";

export type ValueDetector = "email" | "phone" | "iban" | "card_number" | "ip_address" | "national_id" | "person_name";

const EMAIL = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,24}$/i;

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

/**
 * Phone numbers as people write them: international (+33 6 12 34 56 78,
 * 0044 20 …) or national with separators ((555) 123-4567, 06.12.34.56.78),
 * or a bare national number with its trunk 0 (0612345678). A bare run of
 * digits without one of those marks is an id, not a phone number.
 */
export function isPhone(value: string): boolean {
  if (!/^\+?[0-9 ().-]{7,24}$/.test(value)) return false;
  const digits = value.replace(/\D/g, "");
  if (digits.length < 8 || digits.length > 15) return false;
  if (/^\+|^00/.test(value)) return true;
  if (/^0\d{9}$/.test(value)) return true;
  // national formats: groups of digits joined by separators; nine digits at
  // least, so that dates (2024-01-15) are not taken for phone numbers
  return digits.length >= 9 && /^(\(\d{2,4}\) ?|\d{2,4}[ .-])(\d{2,4}[ .-]){0,3}\d{2,4}$/.test(value) && /[ .()-]/.test(value);
}

/** ISO 13616: country, check digits, BBAN; the mod-97 check must give 1. */
export function isIban(value: string): boolean {
  const compact = value.replace(/ /g, "").toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact)) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const n = ch >= "A" ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    remainder = n >= 10 ? (remainder * 100 + n) % 97 : (remainder * 10 + n) % 97;
  }
  return remainder === 1;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Payment card numbers: 13–19 digits (spaces or dashes allowed between
 * groups), an issuer prefix of the big networks, and a valid Luhn digit.
 * The prefix check matters: one random number in ten passes Luhn.
 */
export function isCardNumber(value: string): boolean {
  if (!/^\d[\d -]{11,22}\d$/.test(value)) return false;
  const digits = value.replace(/[ -]/g, "");
  if (!/^\d{13,19}$/.test(digits)) return false;
  const issuer = /^(4|5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720)|3[47]|6011|65|64[4-9]|35|3[0689]|62)/;
  return issuer.test(digits) && luhnValid(digits);
}

export function isIpAddress(value: string): boolean {
  const host = value.replace(/\/\d{1,3}$/, ""); // inet/cidr output may carry a prefix length
  return isIP(host) !== 0;
}

const SSN = /^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$/;
const UK_NINO = /^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TY][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]$/;
const NIR = /^[12] ?\d{2} ?(0[1-9]|1[0-2]|[2-9]\d) ?(\d{2}|2[AB]) ?\d{3} ?\d{3} ?(\d{2})$/;
const DNI = /^(\d{8})-?([A-Z])$/;

/** US SSN, UK National Insurance number, French NIR (with its key), Spanish DNI (with its letter). */
export function isNationalId(value: string): boolean {
  const v = value.toUpperCase();
  if (SSN.test(v) || UK_NINO.test(v)) return true;
  const nir = NIR.exec(v);
  if (nir) {
    const body = v.replace(/ /g, "").slice(0, 13).replace("2A", "19").replace("2B", "18");
    return 97 - Number(BigInt(body) % 97n) === Number(nir[3]);
  }
  const dni = DNI.exec(v);
  return dni !== null && "TRWAGMYFPDXBNJZSQVHLCKE"[Number(dni[1]) % 23] === dni[2];
}

const firstNameLike = (word: string): boolean => word.split("-").some((part) => isCommonFirstName(part));

/**
 * "Jane Doe", "Marie-Claire Dubois", "DOE, Jane": two to four capitalised
 * words starting with a common first name (or with one after the comma).
 */
export function isPersonName(value: string): boolean {
  if (value.length > 80) return false;
  const [surname, given] = value.includes(",") ? value.split(",", 2).map((s) => s.trim()) : [undefined, value.trim()];
  const words = value.split(/[\s,]+/).filter((w) => w !== "");
  if (words.length < 2 || words.length > 4) return false;
  if (!words.every((w) => /^\p{Lu}[\p{L}'’.-]*$/u.test(w))) return false;
  const first = (given ?? "").split(/\s+/)[0] ?? "";
  return (surname === undefined || surname !== "") && firstNameLike(first);
}

/** Whole-value detectors, in the order a tie is reported. */
export const WHOLE_VALUE_DETECTORS: readonly [ValueDetector, (value: string) => boolean][] = [
  ["email", isEmail],
  ["iban", isIban],
  ["card_number", isCardNumber],
  ["national_id", isNationalId],
  ["ip_address", isIpAddress],
  ["phone", isPhone],
  ["person_name", isPersonName],
];

// Spans inside free text. Each candidate is then checked by the whole-value
// detector, so "order 1234567" never counts as a phone number.
const TEXT_CANDIDATES: readonly [ValueDetector, RegExp][] = [
  ["email", /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,24}/gi],
  ["iban", /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g],
  ["card_number", /\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{1,7}\b/g],
  ["national_id", /\b\d{3}-\d{2}-\d{4}\b/g],
  ["ip_address", /\b\d{1,3}(?:\.\d{1,3}){3}\b/g],
  ["phone", /(?:\+|\b00)\d[\d ().-]{6,18}\d|\(\d{2,4}\) ?\d{3}[ .-]\d{4}/g],
  ["person_name", /\b\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)? \p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?\b/gu],
];

const wholeDetector = new Map(WHOLE_VALUE_DETECTORS);

/** Which kinds of personal data appear somewhere inside a text. */
export function detectInText(text: string): Set<ValueDetector> {
  const found = new Set<ValueDetector>();
  for (const [detector, pattern] of TEXT_CANDIDATES) {
    for (const match of text.matchAll(pattern)) {
      if (wholeDetector.get(detector)!(match[0].trim())) {
        found.add(detector);
        break;
      }
    }
  }
  return found;
}
