// A Map for what a long-running process keeps per key (verified tokens, opened
// secrets, parse trees, recent reads): it never holds more than `limit`
// entries. Adding one to a full map empties it first: the keys are cheap to
// recompute, and no entry is kept at the price of bookkeeping on every hit.
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.limit) this.clear();
    return super.set(key, value);
  }
}
