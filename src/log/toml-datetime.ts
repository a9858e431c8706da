/**
 * TOML date and time values kept exactly as written, so an import never rounds `.999999` to
 * milliseconds, never moves `-07:00` to `Z`, and keeps local dates, times and year-0001 dates as text.
 */

/** The four TOML 1.0 date-time kinds. */
export type TomlDatetimeKind = 'offset-datetime' | 'local-datetime' | 'local-date' | 'local-time';

/**
 * A TOML date-time value as its RFC 3339 text: the separator between date and time is `T` and the
 * `Z` is upper case (TOML also allows a space and lower case); every other character is as written.
 */
export class TomlDatetime {
  constructor(
    readonly kind: TomlDatetimeKind,
    readonly text: string,
  ) {}

  toString(): string {
    return this.text;
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;
/** TOML 1.1 lets the seconds be left out (`07:32`); they are then 0 and written out (`07:32:00`). */
const NO_SECONDS = /^(\d{4}-\d{2}-\d{2}T)?\d{2}:\d{2}(?=$|Z|[+-])/;
const OFFSET = /^(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Check and normalise the text of a TOML date-time literal of `kind`. Returns undefined when it is not a
 * real date or time (month 13, February 30, hour 24, an offset beyond ±23:59).
 */
export function tomlDatetime(kind: TomlDatetimeKind, literal: string): TomlDatetime | undefined {
  let text = literal;
  if (kind === 'offset-datetime' || kind === 'local-datetime') text = `${text.slice(0, 10)}T${text.slice(11)}`;
  if (kind === 'offset-datetime') text = text.replace(/z$/, 'Z');
  text = text.replace(NO_SECONDS, (head) => `${head}:00`);
  switch (kind) {
    case 'local-date':
      return validDate(text) ? new TomlDatetime(kind, text) : undefined;
    case 'local-time':
      return validTime(text) ? new TomlDatetime(kind, text) : undefined;
    case 'local-datetime':
      return text[10] === 'T' && validDate(text.slice(0, 10)) && validTime(text.slice(11)) ? new TomlDatetime(kind, text) : undefined;
    case 'offset-datetime': {
      const zone = /(?:Z|[+-]\d{2}:\d{2})$/.exec(text);
      if (!zone || text[10] !== 'T') return undefined;
      const ok = validDate(text.slice(0, 10)) && validTime(text.slice(11, zone.index)) && validOffset(zone[0]);
      return ok ? new TomlDatetime(kind, text) : undefined;
    }
  }
}

function validDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

/** RFC 3339 times: seconds may be 60 (a leap second). */
function validTime(text: string): boolean {
  const m = TIME.exec(text);
  return m !== null && Number(m[1]) <= 23 && Number(m[2]) <= 59 && Number(m[3]) <= 60;
}

function validOffset(text: string): boolean {
  const m = OFFSET.exec(text);
  return m !== null && (m[1] === undefined || (Number(m[1]) <= 23 && Number(m[2]) <= 59));
}
