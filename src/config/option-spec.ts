/**
 * Option tables: one row per option (config key, CLI flag, kind, default, range, help) from which a command's
 * value type, defaults, validation, `--help` text and the README table all follow. The training options
 * (src/train/options.ts) and the evaluation options (src/eval/evaluate-options.ts) are such tables.
 */

import { UsageError } from '../errors.js';

/** What an option holds: a whole number, any finite number, true/false, non-empty text, or one of a list. */
export type OptionKind = 'int' | 'number' | 'bool' | 'string' | readonly string[];

/** A default as JSON can write it. */
export type OptionDefault = string | number | boolean | null;

/** One option: its key in configs, CLI flag, kind, default, allowed range and help line. */
export interface OptionSpec<K extends string = string> {
  readonly key: K;
  readonly flag: string;
  readonly kind: OptionKind;
  readonly def: OptionDefault;
  readonly help: string;
  /** Inclusive bounds of a numeric option. */
  readonly min?: number;
  readonly max?: number;
  /** null is accepted (and then usually means "derive it", as the help says). */
  readonly nullable?: boolean;
  /**
   * Former keys or flags of a renamed option, still accepted, so that configs, checkpoints, grids and commands
   * written before the rename keep working.
   */
  readonly aliases?: readonly string[];
}

/** The value type one spec stands for: a choice list gives its union, `nullable: true` adds null. */
export type OptionValue<S extends OptionSpec> =
  | (S['kind'] extends readonly (infer C)[] ? C : S['kind'] extends 'bool' ? boolean : S['kind'] extends 'string' ? string : number)
  | (S extends { readonly nullable: true } ? null : never);

/** The object a table describes: one property per spec, keyed by `key`, typed by its kind. */
export type OptionValues<T extends readonly OptionSpec[]> = { -readonly [S in T[number] as S['key']]: OptionValue<S> };

/**
 * The defaults of a table as written (literal types): assigning them to `OptionValues<T>` checks every default
 * against its own option's kind at compile time.
 */
export type OptionDefaults<T extends readonly OptionSpec[]> = { -readonly [S in T[number] as S['key']]: S['def'] };

/** Thrown for an invalid option; the message names the option and what it accepts (exit 2). */
export class OptionError extends UsageError {}

/** What an option accepts, for messages and help. */
export function describeKind(s: OptionSpec): string {
  if (Array.isArray(s.kind)) return (s.kind as readonly string[]).join('|');
  const range = s.min !== undefined || s.max !== undefined ? ` in [${s.min ?? '-inf'}, ${s.max ?? 'inf'}]` : '';
  return `${s.kind === 'int' ? 'an integer' : s.kind === 'number' ? 'a number' : s.kind === 'bool' ? 'true|false' : 'a string'}${range}`;
}

/** Converts and checks one value (a CLI string or a JSON value) for an option. */
export function coerceOption<S extends OptionSpec>(s: S, raw: unknown): OptionValue<S> {
  return coerce(s, raw) as OptionValue<S>;
}

function coerce(s: OptionSpec, raw: unknown): OptionDefault {
  const bad = (): never => {
    throw new OptionError(`--${s.flag}: got ${JSON.stringify(raw)}, expected ${describeKind(s)}${s.nullable ? ' (or null)' : ''}`);
  };
  if (raw === null || raw === 'null') return s.nullable ? null : bad();
  if (Array.isArray(s.kind)) return (s.kind as readonly string[]).includes(String(raw)) ? String(raw) : bad();
  switch (s.kind) {
    case 'bool':
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      return bad();
    case 'string':
      return typeof raw === 'string' && raw.length > 0 ? raw : bad();
    default: {
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(v) || (s.kind === 'int' && !Number.isInteger(v))) return bad();
      if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) return bad();
      return v;
    }
  }
}

/** The spec of a config key or CLI flag name, or undefined. */
export function findOption<T extends readonly OptionSpec[]>(table: T, name: string): T[number] | undefined {
  return table.find((s) => s.key === name || s.flag === name || s.aliases?.includes(name));
}

/** The defaults of every option of a table. */
export function optionDefaults<T extends readonly OptionSpec[]>(table: T): OptionDefaults<T> {
  return Object.fromEntries(table.map((s) => [s.key, s.def])) as OptionDefaults<T>;
}

/**
 * Checks every given value of `partial` (keys as config keys or flag names; undefined values skipped) and returns
 * only those, converted. Unknown keys are errors naming `what` and the known keys, so a typo never silently falls
 * back to a default.
 */
export function checkOptions<T extends readonly OptionSpec[]>(table: T, partial: Readonly<Record<string, unknown>>,
  what = 'option'): Partial<OptionValues<T>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(partial)) {
    if (v === undefined) continue;
    const spec = findOption(table, k);
    if (!spec) throw new OptionError(`unknown ${what} '${k}'; known ${what}s: ${table.map((s) => s.key).join(', ')}`);
    out[spec.key] = coerceOption(spec, v);
  }
  return out as Partial<OptionValues<T>>;
}

/** The table's defaults overlaid with the checked values of `partial` (see {@link checkOptions}). */
export function resolveOptions<T extends readonly OptionSpec[]>(table: T, partial: Readonly<Record<string, unknown>> = {},
  what = 'option'): OptionValues<T> {
  return { ...optionDefaults(table), ...checkOptions(table, partial, what) } as OptionValues<T>;
}
