// libpg-query for the Workers runtime. wrangler.toml aliases "libpg-query" to
// this file, so src/masking validates rules with the same PostgreSQL parser
// (the same WASM build) on Workers as on Node.
//
// Why not the package's own entry: it compiles its .wasm at import time from a
// path next to the script, and Workers forbid both — there is no file system,
// and WebAssembly may only be instantiated from modules uploaded with the
// Worker. Here wrangler uploads libpg-query.wasm as a compiled module and we
// hand it to the Emscripten factory (the package's libpg-query.js) through its
// instantiateWasm hook. Only the two functions src/masking uses are provided.
// @ts-expect-error -- Emscripten factory without type declarations
import createParserModule from "libpg-query/wasm/libpg-query.js";
// @ts-expect-error -- a .wasm import is a WebAssembly.Module under wrangler
import parserWasm from "libpg-query/wasm/libpg-query.wasm";

/** What we call on the Emscripten module: the exported C API of libpg_query and heap helpers. */
interface ParserModule {
  _malloc(size: number): number;
  _free(ptr: number): void;
  _wasm_parse_query_raw(queryPtr: number): number;
  _wasm_free_parse_result(resultPtr: number): void;
  getValue(ptr: number, type: "i32"): number;
  lengthBytesUTF8(text: string): number;
  stringToUTF8(text: string, ptr: number, maxBytes: number): void;
  UTF8ToString(ptr: number): string;
}

let parser: ParserModule | undefined;
let loading: Promise<void> | undefined;

export function loadModule(): Promise<void> {
  loading ??= (createParserModule as (options: object) => Promise<ParserModule>)({
    instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) {
      void WebAssembly.instantiate(parserWasm as WebAssembly.Module, imports).then(done);
      return {};
    },
  }).then((module) => {
    parser = module;
  });
  return loading;
}

/**
 * Parses SQL into libpg_query's JSON tree; throws an Error carrying the
 * parser's message on a syntax error (as the package's parseSync does).
 */
export function parseSync(query: string): unknown {
  const m = parser;
  if (!m) throw new Error("the SQL parser is not loaded: await loadModule() first");
  const size = m.lengthBytesUTF8(query) + 1;
  const queryPtr = m._malloc(size);
  let resultPtr = 0;
  try {
    m.stringToUTF8(query, queryPtr, size);
    resultPtr = m._wasm_parse_query_raw(queryPtr);
    if (!resultPtr) throw new Error("the SQL parser ran out of memory");
    // pg_query.h: PgQueryParseResult { char *parse_tree; char *stderr_buffer; PgQueryError *error; }
    // (wasm32: 4-byte pointers); PgQueryError starts with char *message.
    const treePtr = m.getValue(resultPtr, "i32");
    const errorPtr = m.getValue(resultPtr + 8, "i32");
    if (errorPtr) {
      const messagePtr = m.getValue(errorPtr, "i32");
      throw new Error(messagePtr ? m.UTF8ToString(messagePtr) : "syntax error");
    }
    return JSON.parse(m.UTF8ToString(treePtr));
  } finally {
    m._free(queryPtr);
    if (resultPtr) m._wasm_free_parse_result(resultPtr);
  }
}
