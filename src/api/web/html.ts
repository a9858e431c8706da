/**
 * Escaping-by-default HTML templates: every value interpolated into `html` is escaped as text unless it
 * is itself an `Html` fragment built by `html`. There is no other way to make an `Html`, so data can
 * never become markup by accident.
 */
export class Html {
  /** @internal Use `html` to build fragments. */
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

/** Anything a template accepts: fragments, text, numbers, lists of them; null/undefined/false render nothing. */
export type Renderable = Html | string | number | boolean | null | undefined | readonly Renderable[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for an HTML text node or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(value: Renderable): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** The template tag: literal parts are markup, interpolated values are text. */
export function html(strings: TemplateStringsArray, ...values: Renderable[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Join fragments (or text) with a separator. */
export function join(items: readonly Renderable[], separator: Renderable = ''): Html {
  return new Html(items.map(render).join(render(separator)));
}
