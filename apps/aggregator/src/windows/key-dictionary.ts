/**
 * Keys (category names, product ids, customer ids) as small integers. Every figure table is
 * keyed by these ids, so the hot path hashes an int instead of a string and a table row holds
 * no pointer to a string. One dictionary per kind of key for the whole process; it grows with
 * the key space (like the all-time figures do), never with the number of sales.
 */
export class KeyDictionary {
  readonly #ids = new Map<string, number>();
  readonly #names: string[] = [];

  /** The id of `name`, assigned on first sight. */
  id(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.#names.length;
      this.#ids.set(name, id);
      this.#names.push(name);
    }
    return id;
  }

  /** The id of `name`, or -1 if it was never seen (does not assign one). */
  find(name: string): number {
    return this.#ids.get(name) ?? -1;
  }

  name(id: number): string {
    return this.#names[id] as string;
  }

  get size(): number {
    return this.#names.length;
  }
}

/** The three kinds of keys the figures are kept per. */
export interface KeyDictionaries {
  readonly categories: KeyDictionary;
  readonly products: KeyDictionary;
  readonly customers: KeyDictionary;
}

/** The process's dictionaries: ids are only meaningful within one process (snapshots carry names). */
export const KEYS: KeyDictionaries = {
  categories: new KeyDictionary(),
  products: new KeyDictionary(),
  customers: new KeyDictionary(),
};
