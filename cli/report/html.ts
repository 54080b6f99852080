/**
 * The only way text reaches the report: every value is escaped here, because findings carry
 * user-controlled names (namespaces, workloads, containers, mount paths, exec file names).
 */

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML and SVG content and for quoted attribute values. */
export const esc = (value: string | number): string => String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

/** An attribute value: absent (`undefined`) attributes are left out. */
export type AttrValue = string | number | boolean | undefined;

/** ` name="value"` pairs, every value escaped; `true` gives `name="true"` (data attributes read as strings). */
export const attrs = (record: Readonly<Record<string, AttrValue>>): string =>
  Object.entries(record)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${esc(String(value))}"`)
    .join('');

/** An element with escaped attributes around already-safe inner HTML. */
export const el = (tag: string, attributes: Readonly<Record<string, AttrValue>>, inner = ''): string =>
  `<${tag}${attrs(attributes)}>${inner}</${tag}>`;

/** A fragment id derived from a finding id: finding ids are hex, but the report never trusts that. */
export const anchorOf = (findingId: string): string => `finding-${findingId.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** Shown wherever the kernel did not measure a value: never a zero. */
export const NOT_MEASURED = '<span class="absent">not measured</span>';
