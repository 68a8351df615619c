import { readFileSync } from 'node:fs';
import { EXIT_CODE_MEANINGS, EXIT_CODES } from '../errors.js';
import { coerceOption, describeKind, findOption, OptionError, type OptionSpec } from '../config/option-spec.js';
import { TRAIN_OPTIONS } from '../train/options.js';

/** A command's own flags besides the training options. */
export interface FlagSpec {
  flag: string;
  kind: 'bool' | 'string' | 'int' | 'number';
  help: string;
  def?: string | number | boolean | null;
}

/** A table of options a command takes besides its own flags (e.g. EVALUATE_OPTIONS), with its --help heading. */
export interface OptionGroup {
  title: string;
  options: readonly OptionSpec[];
}

export interface Parsed {
  /** Training options and those of the option groups, given on the command line or in --config (camelCase keys). */
  options: Record<string, unknown>;
  /** The command's own flags (kebab-case keys). */
  flags: Record<string, string | number | boolean>;
  positional: string[];
}

/**
 * Parses `--flag value`, `--flag=value`, `--bool`, `--no-bool`. Training options and those of `groups` are validated
 * by their spec; with training options, `--config file.json` supplies defaults that explicit flags override.
 * Unknown flags are errors.
 */
export function parseArgs(argv: readonly string[], own: readonly FlagSpec[], withTrainOptions: boolean,
  groups: readonly OptionGroup[] = []): Parsed {
  const tabled: readonly OptionSpec[] = [...(withTrainOptions ? TRAIN_OPTIONS : []), ...groups.flatMap((g) => g.options)];
  const byFlag = new Map(tabled.flatMap((s) => [s.flag, ...(s.aliases ?? [])].map((f) => [f, s] as const)));
  const mine = new Map(own.map((f) => [f.flag, f]));
  const options: Record<string, unknown> = {};
  const flags: Record<string, string | number | boolean> = {};
  const positional: string[] = [];
  let configFile: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const negated = name.startsWith('no-') && (byFlag.get(name.slice(3))?.kind === 'bool' || mine.get(name.slice(3))?.kind === 'bool');
    const key = negated ? name.slice(3) : name;
    const spec = byFlag.get(key);
    const f = mine.get(key);
    if (withTrainOptions && key === 'config') {
      configFile = value ?? argv[++i] ?? null;
      if (!configFile) throw new OptionError('--config needs a JSON file path');
      continue;
    }
    if (!spec && !f) {
      const all = [...byFlag.keys(), ...mine.keys(), ...(withTrainOptions ? ['config'] : [])];
      const near = all.filter((k) => k.includes(key) || key.includes(k)).slice(0, 3);
      throw new OptionError(`unknown option --${key}${near.length ? ` (did you mean ${near.map((n) => `--${n}`).join(', ')}?)` : ''}; see --help`);
    }
    const isBool = (spec?.kind ?? f?.kind) === 'bool';
    if (isBool && value === undefined) value = negated ? 'false' : 'true';
    else if (negated) throw new OptionError(`--no-${key} takes no value`);
    if (value === undefined) {
      value = argv[i + 1]?.startsWith('--') ? undefined : argv[++i];
      if (value === undefined) throw new OptionError(`--${key} needs a value (${spec ? describeKind(spec) : f!.kind})`);
    }
    if (spec) options[spec.key] = coerceOption(spec, value);
    else flags[key] = coerceFlag(f!, value);
  }
  if (configFile) {
    let fromFile: Record<string, unknown>;
    try {
      fromFile = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new OptionError(`--config ${configFile}: cannot read it as JSON (${(e as Error).message})`);
    }
    if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      throw new OptionError(`--config ${configFile}: expected a JSON object of options`);
    }
    for (const [k, v] of Object.entries(fromFile)) {
      const spec = findOption(TRAIN_OPTIONS, k);
      if (!spec) throw new OptionError(`--config ${configFile}: unknown option '${k}'`);
      if (!(spec.key in options)) options[spec.key] = coerceOption(spec, v);
    }
  }
  for (const f of own) if (!(f.flag in flags) && f.def !== undefined && f.def !== null) flags[f.flag] = f.def;
  return { options, flags, positional };
}

function coerceFlag(f: FlagSpec, v: string): string | number | boolean {
  if (f.kind === 'bool') {
    if (v === 'true' || v === 'false') return v === 'true';
    throw new OptionError(`--${f.flag}: got '${v}', expected true|false`);
  }
  if (f.kind === 'string') return v;
  const n = Number(v);
  if (!Number.isFinite(n) || (f.kind === 'int' && !Number.isInteger(n)) || v.trim() === '') {
    throw new OptionError(`--${f.flag}: got '${v}', expected ${f.kind === 'int' ? 'an integer' : 'a number'}`);
  }
  return n;
}

/** The exit codes, for --help (src/errors.ts defines them). */
export function exitCodesHelp(): string {
  const rows = (Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]).map((k) => `  ${String(EXIT_CODES[k]).padStart(3)}  ${EXIT_CODE_MEANINGS[k]}`);
  return ['Exit codes:', ...rows].join('\n');
}

/** Help text: the command's flags, the option groups, then every training option with its default and allowed values. */
export function helpText(usage: string, own: readonly FlagSpec[], withTrainOptions: boolean, groups: readonly OptionGroup[] = []): string {
  const lines = [usage, ''];
  const row = (flag: string, kind: string, def: unknown, help: string): string =>
    `  --${flag.padEnd(24)} ${help}\n  ${''.padEnd(26)} [${kind}; default ${JSON.stringify(def ?? null)}]`;
  if (own.length) {
    lines.push('Options:');
    for (const f of own) lines.push(row(f.flag, f.kind, f.def, f.help));
  }
  for (const g of groups) {
    lines.push('', `${g.title}:`);
    for (const s of g.options) lines.push(row(s.flag, describeKind(s), s.def, s.help));
  }
  if (withTrainOptions) {
    lines.push('', 'Training options (docs/method.md §8; also accepted as keys of --config FILE.json):');
    lines.push(row('config', 'path', null, 'JSON file of options; flags override it'));
    for (const s of TRAIN_OPTIONS) lines.push(row(s.flag, describeKind(s), s.def, s.help));
  }
  lines.push('', exitCodesHelp());
  return lines.join('\n');
}
