/**
 * @module engine/model/own-keys
 * Keys that come from outside (a registry's image config, a client's body, a network's name) stay
 * plain keys. `JSON.parse` keeps a `"__proto__"` key as an own property, but a later copy by
 * assignment (`out[k] = v`) would make its value the prototype of the copy instead (ECMA-262
 * Object.prototype.__proto__ setter): so such keys are dropped where untrusted JSON is parsed, and
 * set with define semantics where a map is built from outside keys.
 */

/** A JSON.parse reviver that drops `__proto__` keys (a reviver's undefined deletes the property). */
export const dropProtoKeys = (key: string, value: unknown): unknown => (key === '__proto__' ? undefined : value);

/** JSON.parse for documents from outside (registries, stored copies of them): no `__proto__` keys. */
export function parseUntrusted<T>(text: string): T {
  return JSON.parse(text, dropProtoKeys) as T;
}

/** `obj[key] = value` as an own data property, whatever the key (`__proto__` included). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}
