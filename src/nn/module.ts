import { keep, noGrad, type Tensor } from '../torch/index.js';
import { StorageError } from '../errors.js';

/** Thrown when a state dict does not fit a module; the message names the key and the shapes (exit 4). */
export class StateDictError extends StorageError {}

/**
 * Base of every layer and model, like torch.nn.Module: named parameters, buffers and children,
 * train/eval mode, and state dicts whose keys follow PyTorch's dotted naming so weights load there too.
 * Parameters and buffers are owned by the module (outside any scope) until `dispose()`.
 */
export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** Registers a trainable leaf tensor. */
  protected param(name: string, t: Tensor): Tensor {
    keep(t).requiresGrad_(true);
    this.#params.set(name, t);
    return t;
  }

  /** Registers persistent non-trainable state (running statistics). */
  protected buffer(name: string, t: Tensor): Tensor {
    this.#buffers.set(name, keep(t));
    return t;
  }

  /** Registers a submodule. */
  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /** Direct submodules by name. */
  children(): [string, Module][] {
    return [...this.#children];
  }

  /** This module and every descendant, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this.#children) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.#collect((m) => m.#params);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    return this.#collect((m) => m.#buffers);
  }

  #collect(pick: (m: Module) => Map<string, Tensor>): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, t] of pick(m)) out.push([prefix ? `${prefix}.${n}` : n, t]);
    }
    return out;
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((s, p) => s + p.numel, 0);
  }

  /** Sets training mode here and below (dropout, drop-path and batch-norm statistics depend on it). */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by dotted name. The tensors are the module's own: read them, do not dispose them. */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into the module's tensors. Strict (default): every key must exist on both sides with the same
   * shape; otherwise one error lists the missing, unexpected and mis-shaped keys.
   */
  loadStateDict(sd: Map<string, Tensor>, opts: { strict?: boolean } = {}): void {
    const own = this.stateDict();
    const strict = opts.strict ?? true;
    const problems: string[] = [];
    for (const [k, t] of own) {
      const src = sd.get(k);
      if (!src) {
        if (strict) problems.push(`missing key '${k}' (expected shape [${t.shape}])`);
      } else if (src.shape.join(',') !== t.shape.join(',')) {
        problems.push(`key '${k}': expected shape [${t.shape}], found [${src.shape}]`);
      }
    }
    if (strict) for (const k of sd.keys()) if (!own.has(k)) problems.push(`unexpected key '${k}'`);
    if (problems.length) {
      const more = problems.length > 12 ? ` (and ${problems.length - 12} more)` : '';
      throw new StateDictError(`state dict does not fit ${this.constructor.name}: ${problems.slice(0, 12).join('; ')}${more}`);
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const src = sd.get(k);
        if (!src) continue;
        const cast = src.dtype === t.dtype ? src : src.to(t.dtype);
        t.copy_(cast);
        if (cast !== src) cast.dispose();
      }
    });
  }

  /** Moves every parameter and buffer to `device` in place (same tensors, as torch's `module.to(device)`); returns this. */
  toDevice(device: string): this {
    noGrad(() => {
      for (const [, t] of this.stateDict()) t.moveTo_(device);
    });
    return this;
  }

  /** The device of the first parameter ('cpu' for a module without any). */
  get device(): string {
    return this.parameters()[0]?.device ?? 'cpu';
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }
}
