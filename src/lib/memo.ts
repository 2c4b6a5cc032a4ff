// What is derived from an object, computed once per object and kept while the
// object lives (a WeakMap: nothing is held past it). For the API's hot reads:
// the read cache hands every request the same row objects until something
// changes, so a row is presented, and a presentation serialised, once per
// change instead of once per request. The derived value must not be mutated.
export function memoized<K extends object, V>(derive: (key: K) => V): (key: K) => V {
  const values = new WeakMap<K, V>();
  return (key) => {
    let value = values.get(key);
    if (value === undefined) {
      value = derive(key);
      values.set(key, value);
    }
    return value;
  };
}
