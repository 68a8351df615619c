import { keep, noGrad, scope, type Tensor } from '../torch/index.js';
import { StateDictError } from './module.js';

/**
 * An optimiser's complete state: per-parameter tensors (`state.<paramIndex>.<name>`, e.g. `state.3.exp_avg`)
 * and scalars (`step`: number of `step()` calls, `lr`, `paramCount`, and for AdamW `state.<i>.step`).
 * The tensors fit a safetensors file and the scalars its string metadata (as JSON).
 */
export interface OptimizerState {
  tensors: Map<string, Tensor>;
  scalars: Record<string, number>;
}

/** What a concrete optimiser keeps per parameter. */
export interface SlotSpec {
  /** Names of the per-parameter state tensors (all shaped like the parameter). */
  names: readonly string[];
  /** Whether each parameter has its own update count (AdamW's bias correction, like torch's `state['step']`). */
  perParamStep: boolean;
}

const KEY = /^state\.(0|[1-9][0-9]*)\.([A-Za-z_][A-Za-z0-9_]*)$/;
const FLOATING = new Set(['float32', 'float64']);
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Base of the optimisers: one parameter group over a fixed list of leaf tensors whose `.grad` is filled by
 * `backward()`. `step()` updates, under no-grad, the parameters that have a gradient (others are skipped,
 * like PyTorch), with the `foreach*` list ops so a step costs a handful of addon calls, not a few per tensor.
 * State tensors are owned by the optimiser until `dispose()`.
 */
export abstract class Optimizer {
  /** The optimised tensors, in the order that state keys index. */
  readonly params: readonly Tensor[];
  #lr = 0;
  #steps = 0;
  readonly #spec: SlotSpec;
  /** Per-parameter state, undefined until the parameter first has a gradient at a step. */
  protected readonly slots: (Map<string, Tensor> | undefined)[];
  /** Per-parameter update counts (used when `perParamStep`). */
  protected readonly paramSteps: number[];
  /** Per parameter, its learning rate as a multiple of `lr` (1 unless `scaleLr` set it): PyTorch's param groups. */
  protected readonly lrScales: number[];

  protected constructor(params: Iterable<Tensor>, lr: number, spec: SlotSpec) {
    this.params = [...params];
    if (this.params.length === 0) throw new RangeError(`${new.target.name}: got an empty parameter list`);
    const seen = new Set<number>();
    this.params.forEach((p, i) => {
      if (p.isDisposed) throw new RangeError(`${new.target.name}: parameter ${i} has been disposed`);
      if (!FLOATING.has(p.dtype)) throw new RangeError(`${new.target.name}: parameter ${i} is ${p.dtype}, expected a floating-point tensor`);
      if (!p.isLeaf) throw new RangeError(`${new.target.name}: parameter ${i} is not a leaf tensor; optimise the leaf it was computed from`);
      // Storage address catches the same tensor passed twice, even through two wrappers.
      const ptr = p.numel > 0 ? p.dataPtr() : -1 - i;
      if (seen.has(ptr)) throw new RangeError(`${new.target.name}: parameter ${i} appears more than once`);
      seen.add(ptr);
    });
    this.lr = lr;
    this.#spec = spec;
    this.slots = this.params.map(() => undefined);
    this.paramSteps = this.params.map(() => 0);
    this.lrScales = this.params.map(() => 1);
  }

  /**
   * Gives `params` (some of this optimiser's) the learning rate `scale` × `lr` from now on, as a PyTorch param group
   * whose lr is that multiple of the others' (a schedule then scales both alike). Weight decay scales with it.
   */
  scaleLr(params: Iterable<Tensor>, scale: number): void {
    if (!Number.isFinite(scale) || scale < 0) throw new RangeError(`${this.constructor.name}.scaleLr: scale must be a finite number ≥ 0, got ${scale}`);
    const index = new Map(this.params.map((p, i) => [p.numel > 0 ? p.dataPtr() : -1 - i, i] as const));
    for (const p of params) {
      const i = p.numel > 0 ? index.get(p.dataPtr()) : undefined;
      if (i === undefined) throw new RangeError(`${this.constructor.name}.scaleLr: a tensor that is not one of its parameters`);
      this.lrScales[i] = scale;
    }
  }

  /** The positions 0..n−1 of `idx` grouped by the learning-rate scale of the parameter each names. */
  protected byLrScale(idx: readonly number[]): Map<number, number[]> {
    const groups = new Map<number, number[]>();
    idx.forEach((i, k) => {
      const g = groups.get(this.lrScales[i]!);
      if (g) g.push(k); else groups.set(this.lrScales[i]!, [k]);
    });
    return groups;
  }

  /** The learning rate the next `step()` uses (a schedule sets it before each step). */
  get lr(): number {
    return this.#lr;
  }

  set lr(v: number) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`learning rate must be a finite number ≥ 0, got ${v}`);
    this.#lr = v;
  }

  /** Number of `step()` calls so far (restored by `loadStateDict`). */
  get stepCount(): number {
    return this.#steps;
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    noGrad(() => scope(() => {
      const idx: number[] = [];
      const grads: Tensor[] = [];
      this.params.forEach((p, i) => {
        const g = p.grad;
        if (g) {
          idx.push(i);
          grads.push(g);
        }
      });
      if (idx.length > 0) this.update(idx, grads);
    }));
    this.#steps++;
  }

  /**
   * The update itself, run under no-grad inside a scope (temporaries are freed; state made with `initSlot()` is kept).
   * `idx[k]` is the index of the parameter whose gradient is `grads[k]`.
   */
  protected abstract update(idx: readonly number[], grads: readonly Tensor[]): void;

  /** Creates the state of parameter i (tensors are kept out of the step's scope). */
  protected initSlot(i: number, tensors: Record<string, Tensor>): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    for (const name of this.#spec.names) m.set(name, keep(tensors[name]));
    this.slots[i] = m;
    this.paramSteps[i] = 0;
    return m;
  }

  /** Drops every gradient (sets `.grad` to null, like PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /**
   * The complete state, enough to continue bit-identically after `loadStateDict`. The tensors are the
   * optimiser's own (no copy): read or serialise them, do not dispose them; they change at the next step.
   */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    const scalars: Record<string, number> = { step: this.#steps, lr: this.#lr, paramCount: this.params.length };
    this.slots.forEach((slot, i) => {
      if (!slot) return;
      for (const [name, t] of slot) tensors.set(`state.${i}.${name}`, t);
      if (this.#spec.perParamStep) scalars[`state.${i}.step`] = this.paramSteps[i];
    });
    return { tensors, scalars };
  }

  /**
   * Restores a `stateDict()`: values are copied (converted to each parameter's dtype and device), so the
   * caller may dispose its tensors afterwards. Validates everything before changing anything; a wrong
   * parameter count, unknown or missing key, or mis-shaped tensor is a StateDictError naming key and shapes.
   */
  loadStateDict(sd: OptimizerState): void {
    const name = this.constructor.name;
    const problems: string[] = [];
    const n = this.params.length;
    const sc = sd.scalars ?? {};
    const count = sc.paramCount;
    if (count !== undefined && count !== n) problems.push(`state is for ${count} parameters, this ${name} has ${n}`);
    const step = sc.step;
    if (!Number.isSafeInteger(step) || step < 0) problems.push(`scalar 'step': expected an integer ≥ 0, found ${String(step)}`);
    const lr = sc.lr;
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) problems.push(`scalar 'lr': expected a finite number ≥ 0, found ${String(lr)}`);

    const found = new Map<number, Map<string, Tensor>>();
    for (const [key, t] of sd.tensors) {
      const m = KEY.exec(key);
      if (!m) { problems.push(`unexpected key '${key}'`); continue; }
      const i = Number(m[1]);
      if (i >= n) { problems.push(`key '${key}': parameter ${i} does not exist, this ${name} has ${n} parameters`); continue; }
      if (!this.#spec.names.includes(m[2])) {
        problems.push(`key '${key}': ${name} keeps no '${m[2]}' (its state is ${this.#spec.names.map((s) => `'${s}'`).join(', ') || 'empty'})`);
        continue;
      }
      const want = this.params[i].shape;
      if (!sameShape(t.shape, want)) { problems.push(`key '${key}': expected shape [${want}] (parameter ${i}), found [${t.shape}]`); continue; }
      if (!FLOATING.has(t.dtype)) { problems.push(`key '${key}': expected a floating-point tensor, found ${t.dtype}`); continue; }
      let slot = found.get(i);
      if (!slot) found.set(i, (slot = new Map()));
      slot.set(m[2], t);
    }
    const steps = new Map<number, number>();
    for (const [key, v] of Object.entries(sc)) {
      if (key === 'step' || key === 'lr' || key === 'paramCount') continue;
      const m = KEY.exec(key);
      if (!m || m[2] !== 'step' || !this.#spec.perParamStep) { problems.push(`unexpected scalar '${key}'`); continue; }
      const i = Number(m[1]);
      if (i >= n) { problems.push(`scalar '${key}': parameter ${i} does not exist, this ${name} has ${n} parameters`); continue; }
      if (!Number.isSafeInteger(v) || v < 1) { problems.push(`scalar '${key}': expected an integer ≥ 1, found ${String(v)}`); continue; }
      steps.set(i, v);
    }
    for (let i = 0; i < n; i++) {
      const slot = found.get(i);
      const has = slot !== undefined || steps.has(i);
      if (!has) continue;
      for (const s of this.#spec.names) if (!slot?.has(s)) problems.push(`missing key 'state.${i}.${s}' (expected shape [${this.params[i].shape}])`);
      if (this.#spec.perParamStep && !steps.has(i)) problems.push(`missing scalar 'state.${i}.step'`);
    }
    if (problems.length) {
      const more = problems.length > 12 ? ` (and ${problems.length - 12} more)` : '';
      throw new StateDictError(`optimizer state does not fit ${name}: ${problems.slice(0, 12).join('; ')}${more}`);
    }

    this.#disposeSlots();
    noGrad(() => scope(() => {
      for (const [i, slot] of found) {
        const p = this.params[i];
        const copies: Record<string, Tensor> = {};
        for (const [s, t] of slot) {
          let c = t.dtype === p.dtype ? t : t.to(p.dtype);
          if (c.device !== p.device) c = c.to(p.device);
          copies[s] = c === t ? t.clone() : c; // a conversion already copied
        }
        this.initSlot(i, copies);
        this.paramSteps[i] = steps.get(i) ?? 0;
      }
    }));
    this.#steps = step as number;
    this.lr = lr as number;
  }

  #disposeSlots(): void {
    this.slots.forEach((slot, i) => {
      if (slot) for (const t of slot.values()) t.dispose();
      this.slots[i] = undefined;
      this.paramSteps[i] = 0;
    });
  }

  /** Frees the optimiser's state (not the parameters). */
  dispose(): void {
    this.#disposeSlots();
  }
}
