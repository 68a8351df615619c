import { statSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../errors.js';
import { noGrad, type Tensor } from '../torch/index.js';
import { loadSafetensors } from '../nn/safetensors.js';
import { StateDictError } from '../nn/module.js';
import type { Classifier } from './classifier.js';

/** A `--pretrained` file that cannot be read or does not fit the model; names the file and what to do (exit 4). */
export class PretrainedError extends StorageError {
  override readonly name = 'PretrainedError';
}

// Prefixes a saved state dict may carry around the model's own keys: nn.DataParallel's and a wrapping module's.
const WRAPPER_PREFIXES = ['module.', 'model.'];

/**
 * timm's ConvNeXt(-V2) key names → the official ones batchcam uses (stem → downsample_layers.0, stages.i.downsample →
 * downsample_layers.i, blocks' conv_dw/mlp.fc1/mlp.fc2/mlp.grn → dwconv/pwconv1/pwconv2/grn, head.norm → norm, head.fc
 * → head); null for a key that is not timm's ConvNeXt layout. timm's GRN weight/bias (C) become gamma/beta (1×1×1×C).
 */
function officialConvNeXtKey(key: string): string | null {
  const rules: [RegExp, string][] = [
    [/^stem\.([01])\.(.+)$/, 'downsample_layers.0.$1.$2'],
    [/^stages\.(\d+)\.downsample\.([01])\.(.+)$/, 'downsample_layers.$1.$2.$3'],
    [/^stages\.(\d+)\.blocks\.(\d+)\.conv_dw\.(.+)$/, 'stages.$1.$2.dwconv.$3'],
    [/^stages\.(\d+)\.blocks\.(\d+)\.norm\.(.+)$/, 'stages.$1.$2.norm.$3'],
    [/^stages\.(\d+)\.blocks\.(\d+)\.mlp\.fc1\.(.+)$/, 'stages.$1.$2.pwconv1.$3'],
    [/^stages\.(\d+)\.blocks\.(\d+)\.mlp\.fc2\.(.+)$/, 'stages.$1.$2.pwconv2.$3'],
    [/^stages\.(\d+)\.blocks\.(\d+)\.mlp\.grn\.weight$/, 'stages.$1.$2.grn.gamma'],
    [/^stages\.(\d+)\.blocks\.(\d+)\.mlp\.grn\.bias$/, 'stages.$1.$2.grn.beta'],
    [/^head\.norm\.(.+)$/, 'norm.$1'],
    [/^head\.fc\.(.+)$/, 'head.$1'],
  ];
  for (const [re, to] of rules) if (re.test(key)) return key.replace(re, to);
  return null;
}

/** A timm-named ConvNeXt state dict renamed to the official keys (tensors reshaped where the layouts differ); others as they are. */
function fromTimmNames(sd: Map<string, Tensor>, made: Tensor[]): Map<string, Tensor> {
  if (!sd.has('stem.0.weight')) return sd;
  const out = new Map<string, Tensor>();
  for (const [k, t] of sd) {
    const official = officialConvNeXtKey(k);
    if (official === null) {
      out.set(k, t);
    } else if (official.endsWith('.grn.gamma') || official.endsWith('.grn.beta')) {
      const r = t.reshape([1, 1, 1, t.numel]);
      made.push(r);
      out.set(official, r);
    } else {
      out.set(official, t);
    }
  }
  return out;
}

/** What `loadPretrained` did besides copying weights, one line each, for the training log. */
export interface PretrainedReport {
  /** The file read (a directory resolves to its model.safetensors). */
  readonly file: string;
  readonly notes: string[];
}

/** The safetensors file `path` names: itself, or `model.safetensors` inside a directory (a batchcam run, a hub snapshot). */
export function pretrainedFile(path: string): string {
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch {
    throw new PretrainedError(`--pretrained ${path}: no such file or directory`);
  }
  return dir ? join(path, 'model.safetensors') : path;
}

/**
 * Loads a pretrained state dict (safetensors: torchvision's, timm's or the official ConvNeXt-V2 key names, or a batchcam
 * `model.safetensors`) into
 * `model`, as fine-tuning starts: a head with another class count is left freshly initialised (and said so); an RGB
 * stem loaded into a one-channel model has its kernels summed over the input channels (timm's `adapt_input_conv`);
 * missing `num_batches_tracked` counters are allowed. Anything else that does not fit — a missing or unexpected
 * key, a shape — stops with one message listing them, before the model is changed. Never unpickles anything.
 */
export function loadPretrained(model: Classifier, path: string): PretrainedReport {
  const file = pretrainedFile(path);
  let tensors: Map<string, Tensor>;
  try {
    tensors = loadSafetensors(file).tensors;
  } catch (e) {
    throw new PretrainedError(`--pretrained ${file}: ${(e as Error).message}; expected a safetensors state dict ` +
      '(README "Fine-tune a pretrained model on your images" shows how to convert a .pth)', { cause: e });
  }
  const notes: string[] = [];
  const made: Tensor[] = [];
  try {
    const own = model.stateDict();
    let sd = new Map<string, Tensor>();
    for (const [k, t] of tensors) {
      const prefix = WRAPPER_PREFIXES.find((p) => k.startsWith(p) && !own.has(k));
      sd.set(prefix ? k.slice(prefix.length) : k, t);
    }
    sd = fromTimmNames(sd, made);
    // The head: replaced when the class count differs (as timm's reset_classifier), loaded otherwise.
    const headKeys = [...own.keys()].filter((k) => k.startsWith(model.headPrefix));
    const fileHead = headKeys.map((k) => sd.get(k)).find((t) => t && t.ndim === 2);
    if (fileHead && fileHead.shape[0] !== model.numClasses) {
      for (const k of headKeys) sd.delete(k);
      notes.push(`classifier head ${model.headPrefix.slice(0, -1)} (${fileHead.shape[0]} classes in ${file}) replaced by a new one for ${model.numClasses} classes`);
    }
    // A one-channel model from an RGB stem: the kernels summed over the input channels.
    const stem = sd.get(model.stemKey);
    const ownStem = own.get(model.stemKey);
    if (stem && ownStem && stem.ndim === 4 && ownStem.shape[1] === 1 && stem.shape[1] === 3) {
      const summed = noGrad(() => stem.sum([1], true));
      made.push(summed);
      sd.set(model.stemKey, summed);
      notes.push(`stem ${model.stemKey}: RGB kernels summed over the input channels for one-channel images`);
    }
    for (const [k, t] of own) if (k.endsWith('num_batches_tracked') && !sd.has(k)) sd.set(k, t);
    const expectedMissing = headKeys.filter((k) => !sd.has(k));
    const missing = [...own.keys()].filter((k) => !sd.has(k) && !expectedMissing.includes(k));
    const unexpected = [...sd.keys()].filter((k) => !own.has(k));
    const shapes = [...own].filter(([k, t]) => sd.has(k) && sd.get(k)!.shape.join(',') !== t.shape.join(','))
      .map(([k, t]) => `${k} is [${sd.get(k)!.shape}] in the file, [${t.shape}] in ${model.constructor.name}`);
    if (missing.length || unexpected.length || shapes.length) {
      const list = (what: string, keys: string[]): string => keys.length ? `${what} (${keys.length}): ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''}` : '';
      throw new PretrainedError(`--pretrained ${file} does not fit --model's architecture: ` +
        [list('missing keys', missing), list('unexpected keys', unexpected), list('shape mismatches', shapes)].filter(Boolean).join('; ') +
        '; pass weights of the same architecture (torchvision/timm key names)');
    }
    // Keys absent on purpose (a replaced head) keep their fresh initialisation.
    try {
      model.loadStateDict(sd, { strict: false });
    } catch (e) {
      if (e instanceof StateDictError) throw new PretrainedError(`--pretrained ${file}: ${e.message}`, { cause: e });
      throw e;
    }
    return { file, notes };
  } finally {
    for (const t of [...tensors.values(), ...made]) t.dispose();
  }
}
