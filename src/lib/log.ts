// Structured JSON logs on stderr. Every message passes through redact(), so a
// connection URI with credentials or a password never reaches a log line.
export type LogLevel = "debug" | "info" | "warn" | "error";
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const uriCredentials = /\b(postgres(?:ql)?:\/\/)[^@\s/]*@/gi;
const passwordField = /(password\s*=\s*)('[^']*'|[^\s"',}]+)/gi;
/** "password":"…" (and "…_password", "secret", "token" keys) inside JSON log lines. */
const secretJsonField = /("(?:[a-z_]*password|secret|token|key)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

/** Words without which none of the patterns can match: most lines skip the regexes. */
const suspicious = /:\/\/|password|secret|token|key/i;

/** Removes credentials from connection URIs and password=… pairs in text. */
export function redact(text: string): string {
  if (!suspicious.test(text)) return text;
  return text.replace(uriCredentials, "$1***@").replace(secretJsonField, '$1"***"').replace(passwordField, "$1***");
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel = "info", write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (order[lvl] < order[level]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }, (_key, value) =>
      value instanceof Error ? { name: value.name, message: value.message } : value,
    );
    write(`${redact(line)}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
