import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AdamW, type AdamWOptions } from '../../src/nn/adamw.js';
import { CosineSchedule } from '../../src/nn/cosine-schedule.js';
import { StateDictError } from '../../src/nn/module.js';
import type { Optimizer } from '../../src/nn/optimizer.js';
import { loadSafetensors, saveSafetensors } from '../../src/nn/safetensors.js';
import { SGD, type SGDOptions } from '../../src/nn/sgd.js';
import { keep, liveTensors, scope, tensor, type Tensor } from '../../src/torch/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = join(ROOT, 'test', 'py', 'optim_ref.py');
const PYTHON = process.env.BATCHCAM_PYTHON ?? '/usr/bin/python3';
const haveTorch = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;

const TOL = 1e-6;
const STEPS = 5;
const PARAMS = [
  { shape: [4, 3], dtype: 'F32' }, { shape: [5], dtype: 'F32' }, { shape: [2, 3, 2, 2], dtype: 'F32' },
  { shape: [], dtype: 'F32' }, { shape: [3], dtype: 'F64' },
];
/** [step, param] pairs without a gradient: skipped parameters, late state creation, per-parameter step counts. */
const MISSING = [[1, 2], [2, 1], [3, 1], [4, 3]];

/** The schedule whose rates the 'adamw_scheduled' run uses, set through `apply()` on the TS side. */
const RUN_SCHEDULE = new CosineSchedule({ baseLr: 3e-3, warmupSteps: 2, totalSteps: 5, minLr: 1e-4 });

type TorchOptions = { lr?: number; momentum?: number; dampening?: number; nesterov?: boolean; weight_decay?: number; betas?: [number, number]; eps?: number };
interface Config { kind: 'sgd' | 'adamw'; options: TorchOptions; lrs?: number[]; scales?: number[] }

const CONFIGS: Record<string, Config> = {
  sgd_plain: { kind: 'sgd', options: { lr: 0.1 } },
  sgd_momentum: { kind: 'sgd', options: { lr: 0.1, momentum: 0.9, dampening: 0.25 } },
  sgd_momentum_wd: { kind: 'sgd', options: { lr: 0.05, momentum: 0.8, weight_decay: 0.1 } },
  sgd_nesterov_wd: { kind: 'sgd', options: { lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.01 } },
  sgd_nesterov: { kind: 'sgd', options: { lr: 0.05, momentum: 0.9, nesterov: true } },
  adamw: { kind: 'adamw', options: { lr: 0.01 } },
  adamw_custom: { kind: 'adamw', options: { lr: 0.02, betas: [0.8, 0.99], eps: 1e-6, weight_decay: 0.1 } },
  adamw_no_wd: { kind: 'adamw', options: { lr: 0.05, weight_decay: 0 } },
  adamw_scheduled: {
    kind: 'adamw', options: { lr: RUN_SCHEDULE.baseLr, weight_decay: 0.05 },
    lrs: Array.from({ length: STEPS }, (_, s) => RUN_SCHEDULE.lrAt(s)),
  },
  // Two learning rates, as fine-tuning's --backbone-lr-scale sets them: torch's param groups with lrs in that ratio.
  adamw_lr_groups: {
    kind: 'adamw', options: { lr: RUN_SCHEDULE.baseLr, weight_decay: 0.05 },
    lrs: Array.from({ length: STEPS }, (_, s) => RUN_SCHEDULE.lrAt(s)), scales: [0.1, 1, 0.1, 1, 0.1],
  },
  sgd_lr_groups: { kind: 'sgd', options: { lr: 0.05, momentum: 0.9, weight_decay: 0.01 }, scales: [1, 0.25, 0.25, 1, 0.25] },
};

const SCHEDULES = {
  warm: { baseLr: 0.1, warmupSteps: 3, totalSteps: 10, minLr: 0.001, n: 14 },
  no_warmup: { baseLr: 1e-3, warmupSteps: 0, totalSteps: 7, minLr: 0, n: 9 },
  all_warmup: { baseLr: 0.5, warmupSteps: 4, totalSteps: 4, minLr: 0.1, n: 6 },
  long: { baseLr: 4e-3, warmupSteps: 100, totalSteps: 2345, minLr: 1e-5, n: 2400 },
};

function makeOptimizer(c: Config, params: Tensor[]): Optimizer {
  const o = c.options;
  if (c.kind === 'sgd') {
    const opts: SGDOptions = { lr: o.lr!, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weight_decay };
    return new SGD(params, opts);
  }
  const opts: AdamWOptions = { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay };
  return new AdamW(params, opts);
}

/** The optimiser of a config, with its parameters' learning-rate multiples applied. */
function configuredOptimizer(c: Config, params: Tensor[]): Optimizer {
  const opt = makeOptimizer(c, params);
  for (const scale of new Set(c.scales ?? [])) opt.scaleLr(params.filter((_, i) => c.scales![i] === scale), scale);
  return opt;
}

const dir = mkdtempSync(join(tmpdir(), 'batchcam-optim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Maximum |a − b| over all elements (Infinity if shapes differ). */
function maxDiff(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join()) return Infinity;
  const x = a.data() as Float32Array | Float64Array;
  const y = b.data() as Float32Array | Float64Array;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

function bytesOf(t: Tensor): Buffer {
  const d = t.data();
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

function sameBits(a: Tensor, b: Tensor): boolean {
  return a.dtype === b.dtype && bytesOf(a).equals(bytesOf(b));
}

describe('optimisers against PyTorch 1.13', () => {
  it('the PyTorch oracle is installed (apt-get install python3-torch)', () => assert.ok(haveTorch, `${PYTHON} cannot import torch`));
  let ref: Map<string, Tensor>;
  const pristine = new Map<string, Buffer>();
  const worst = new Map<string, number>();

  before(() => {
    const cfgPath = join(dir, 'config.json');
    const outPath = join(dir, 'reference.safetensors');
    const schedules = Object.fromEntries(Object.entries(SCHEDULES));
    writeFileSync(cfgPath, JSON.stringify({ seed: 1234, steps: STEPS, params: PARAMS, missing: MISSING, optimizers: CONFIGS, schedules }));
    const r = spawnSync(PYTHON, [SCRIPT, cfgPath, outPath], { encoding: 'utf8' });
    assert.equal(r.status, 0, `optim_ref.py failed:\n${r.stderr}`);
    ref = loadSafetensors(outPath).tensors;
    for (const [k, t] of ref) {
      keep(t);
      pristine.set(k, bytesOf(t));
    }
  });
  after(() => {
    for (const t of ref?.values() ?? []) t.dispose();
  });

  const get = (k: string): Tensor => {
    const t = ref.get(k);
    assert.ok(t, `reference has no ${k}`);
    return t;
  };
  const freshParams = (): Tensor[] => PARAMS.map((_, i) => keep(get(`init.${i}`).clone().requiresGrad_(true)));
  const setGrads = (params: Tensor[], s: number): void => {
    params.forEach((p, i) => { p.grad = ref.get(`grad.${s}.${i}`) ?? null; });
  };
  const runSteps = (name: string, opt: Optimizer, params: Tensor[], from: number, to: number): void => {
    for (let s = from; s <= to; s++) {
      if (name === 'adamw_scheduled' || name === 'adamw_lr_groups') RUN_SCHEDULE.apply(opt);
      setGrads(params, s);
      opt.step();
      opt.zeroGrad();
    }
  };
  const compare = (name: string, params: Tensor[], s: number): void => {
    params.forEach((p, i) => {
      const d = maxDiff(p, get(`${name}.param.${s}.${i}`));
      worst.set(name, Math.max(worst.get(name) ?? 0, d));
      assert.ok(d <= TOL, `${name}: parameter ${i} after step ${s} differs from torch by ${d}`);
    });
  };

  for (const [name, cfg] of Object.entries(CONFIGS)) {
    it(`${name}: ${STEPS} steps match torch.optim, parameters and final state`, () => scope(() => {
      const params = freshParams();
      const opt = configuredOptimizer(cfg, params);
      for (let s = 1; s <= STEPS; s++) {
        runSteps(name, opt, params, s, s);
        compare(name, params, s);
        assert.equal(opt.stepCount, s);
      }
      if (cfg.lrs) assert.equal(opt.lr, cfg.lrs[STEPS - 1]);
      const { tensors, scalars } = opt.stateDict();
      const expectKeys = [...ref.keys()].filter((k) => k.startsWith(`${name}.state.`) && !k.endsWith('.step')).map((k) => k.slice(name.length + 1));
      assert.deepEqual([...tensors.keys()].sort(), expectKeys.sort());
      for (const [k, t] of tensors) {
        const d = maxDiff(t, get(`${name}.${k}`));
        assert.ok(d <= TOL, `${name}: ${k} differs from torch by ${d}`);
      }
      for (const [k, v] of Object.entries(scalars)) {
        if (k.startsWith('state.')) assert.equal(v, get(`${name}.${k}`).item(), `${name}: ${k}`);
      }
      assert.equal(scalars.step, STEPS);
      // Gradients are inputs, never scratch space.
      for (const [k, g] of ref) {
        if (k.startsWith('grad.')) assert.ok(bytesOf(g).equals(pristine.get(k)!), `${k} was modified`);
      }
      opt.dispose();
      for (const p of params) p.dispose();
    }));

    it(`${name}: a state dict saved after 3 steps (via safetensors) resumes identically`, () => scope(() => {
      const params = freshParams();
      const a = configuredOptimizer(cfg, params);
      runSteps(name, a, params, 1, 3);
      const sd = a.stateDict();
      const file = join(dir, `${name}.ckpt.safetensors`);
      const tensors = new Map(sd.tensors);
      params.forEach((p, i) => tensors.set(`param.${i}`, p));
      saveSafetensors(file, tensors, { optimizer: JSON.stringify(sd.scalars) });

      const back = loadSafetensors(file);
      const params2 = PARAMS.map((_, i) => keep(back.tensors.get(`param.${i}`)!.requiresGrad_(true)));
      const b = configuredOptimizer({ ...cfg, options: { ...cfg.options, lr: 0.123 } }, params2);
      const state = new Map([...back.tensors].filter(([k]) => k.startsWith('state.')));
      b.loadStateDict({ tensors: state, scalars: JSON.parse(back.metadata.optimizer) as Record<string, number> });
      for (const t of state.values()) t.dispose(); // the optimiser holds copies
      assert.equal(b.stepCount, 3);
      assert.equal(b.lr, a.lr);

      runSteps(name, a, params, 4, STEPS);
      runSteps(name, b, params2, 4, STEPS);
      params.forEach((p, i) => assert.ok(sameBits(p, params2[i]), `${name}: resumed parameter ${i} differs from the uninterrupted run`));
      compare(name, params2, STEPS);
      a.dispose();
      b.dispose();
      for (const p of [...params, ...params2]) p.dispose();
    }));
  }

  it('schedules equal torch LambdaLR with the same lambda', () => {
    for (const [name, s] of Object.entries(SCHEDULES)) {
      const sched = new CosineSchedule(s);
      const want = get(`sched.${name}`).data() as Float64Array;
      assert.equal(want.length, s.n);
      want.forEach((w, k) => {
        const got = sched.lrAt(k);
        assert.ok(Math.abs(got - w) <= 1e-12 * Math.max(1e-12, Math.abs(w)) + 1e-18, `${name}: update ${k + 1}: ${got} vs torch ${w}`);
      });
    }
  });

  after(() => {
    // Visible in the TAP output: how close each run came to torch.
    for (const [k, v] of worst) console.log(`max |param − torch| ${k}: ${v.toExponential(2)}`);
  });
});

describe('optimiser behaviour', () => {
  it('zeroGrad drops gradients; parameters without a gradient are skipped; step leaks no tensors', () => scope(() => {
    const a = keep(tensor([1, 2, 3]).requiresGrad_(true));
    const b = keep(tensor([4, 5]).requiresGrad_(true));
    const opt = new AdamW([a, b], { lr: 0.1 });
    a.grad = tensor([1, 1, 1]);
    opt.step();
    assert.deepEqual(b.toArray(), [4, 5]);
    assert.deepEqual([...opt.stateDict().tensors.keys()], ['state.0.exp_avg', 'state.0.exp_avg_sq']);
    assert.deepEqual(opt.stateDict().scalars, { step: 1, lr: 0.1, paramCount: 2, 'state.0.step': 1 });
    opt.zeroGrad();
    assert.equal(a.grad, null);
    a.grad = tensor([1, -1, 1]);
    b.grad = tensor([1, 1]);
    opt.step();
    const live = liveTensors();
    for (let k = 0; k < 5; k++) opt.step();
    assert.equal(liveTensors(), live, 'step() must free its temporaries');
    assert.equal(opt.stateDict().scalars['state.0.step'], 7);
    assert.equal(opt.stateDict().scalars['state.1.step'], 6);
    opt.dispose();
  }));

  it('validates options and parameters like torch', () => scope(() => {
    const p = tensor([1, 2]).requiresGrad_(true);
    assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /Nesterov momentum requires momentum > 0 and dampening = 0/);
    assert.throws(() => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /Nesterov/);
    assert.throws(() => new SGD([p], { lr: -1 }), /learning rate must be a finite number ≥ 0, got -1/);
    assert.throws(() => new SGD([], { lr: 1 }), /empty parameter list/);
    assert.throws(() => new SGD([p, p], { lr: 1 }), /parameter 1 appears more than once/);
    assert.throws(() => new SGD([p.mul(2)], { lr: 1 }), /parameter 0 is not a leaf/);
    assert.throws(() => new SGD([tensor([1], [1], { dtype: 'int64' })], { lr: 1 }), /parameter 0 is int64, expected a floating-point tensor/);
    assert.throws(() => new AdamW([p], { betas: [1, 0.9] }), /betas\[0\] must be in \[0, 1\), got 1/);
    assert.throws(() => new AdamW([p], { eps: -1 }), /eps/);
    const opt = new AdamW([p]);
    assert.equal(opt.lr, 1e-3);
    assert.throws(() => { opt.lr = NaN; }, /learning rate/);
  }));

  it('loadStateDict rejects a state that does not fit, naming keys and shapes, and changes nothing', () => scope(() => {
    const mk = (): Tensor[] => [tensor(Array(12).fill(1), [4, 3]).requiresGrad_(true), tensor([1, 2]).requiresGrad_(true)];
    const src = mk();
    const a = new AdamW(src, { lr: 0.1 });
    src.forEach((p) => { p.grad = tensor(Array(p.numel).fill(0.5), p.shape); });
    a.step();
    const sd = a.stateDict();
    const errorOf = (fn: () => void): string => {
      let msg = '';
      assert.throws(fn, (e: unknown) => { assert.ok(e instanceof StateDictError, String(e)); msg = e.message; return true; });
      return msg;
    };
    // AdamW state into SGD with momentum.
    assert.match(errorOf(() => new SGD(mk(), { lr: 0.1, momentum: 0.9 }).loadStateDict(sd)),
      /key 'state.0.exp_avg': SGD keeps no 'exp_avg' \(its state is 'momentum_buffer'\).*unexpected scalar 'state.0.step'/);
    // Parameter count and shapes.
    assert.match(errorOf(() => new AdamW([mk()[0]]).loadStateDict(sd)),
      /state is for 2 parameters, this AdamW has 1.*key 'state.1.exp_avg': parameter 1 does not exist/);
    const wrong = [tensor(Array(12).fill(1), [3, 4]).requiresGrad_(true), tensor([1, 2]).requiresGrad_(true)];
    assert.match(errorOf(() => new AdamW(wrong).loadStateDict(sd)), /key 'state.0.exp_avg': expected shape \[3,4\] \(parameter 0\), found \[4,3\]/);
    // Missing and unexpected keys, bad scalars.
    const partial = new Map(sd.tensors);
    partial.delete('state.1.exp_avg_sq');
    partial.set('momentum', tensor([1]));
    assert.match(errorOf(() => new AdamW(mk()).loadStateDict({ tensors: partial, scalars: { ...sd.scalars, step: -1 } })),
      /scalar 'step': expected an integer ≥ 0, found -1.*unexpected key 'momentum'.*missing key 'state.1.exp_avg_sq' \(expected shape \[2\]\)/);
    // A failed load leaves the optimiser as it was.
    const before = a.stateDict();
    const m0 = before.tensors.get('state.0.exp_avg')!.toArray();
    assert.throws(() => a.loadStateDict({ tensors: partial, scalars: sd.scalars }), StateDictError);
    assert.deepEqual(a.stateDict().tensors.get('state.0.exp_avg')!.toArray(), m0);
    assert.equal(a.stepCount, 1);
    // float64 state loads into float32 parameters (converted, like torch).
    const f64 = new Map([...sd.tensors].map(([k, t]) => [k, t.to('float64')]));
    const c = new AdamW(mk());
    c.loadStateDict({ tensors: f64, scalars: sd.scalars });
    assert.equal(c.stateDict().tensors.get('state.0.exp_avg')!.dtype, 'float32');
  }));
});

describe('CosineSchedule', () => {
  it('closed form: warm-up from baseLr/W to baseLr, cosine to minLr at totalSteps, then flat', () => {
    const s = new CosineSchedule({ baseLr: 1, warmupSteps: 2, totalSteps: 6 });
    const want = [0.5, 1, 1, 0.5 * (1 + Math.cos(Math.PI / 4)), 0.5, 0.5 * (1 + Math.cos((3 * Math.PI) / 4)), 0, 0];
    want.forEach((w, k) => assert.ok(Math.abs(s.lrAt(k) - w) < 1e-15, `lrAt(${k}) = ${s.lrAt(k)}, expected ${w}`));
    assert.equal(s.lrAt(1000), 0);
    const m = new CosineSchedule({ baseLr: 0.1, warmupSteps: 0, totalSteps: 10, minLr: 0.01 });
    assert.equal(m.lrAt(0), 0.1);
    assert.ok(Math.abs(m.lrAt(5) - 0.055) < 1e-15);
    assert.equal(m.lrAt(10), 0.01);
    assert.equal(m.lrAt(11), 0.01);
    // Monotone: up through warm-up, down after.
    const l = new CosineSchedule({ baseLr: 3e-3, warmupSteps: 50, totalSteps: 500, minLr: 1e-5 });
    for (let k = 1; k < 600; k++) {
      if (k < 50) assert.ok(l.lrAt(k) > l.lrAt(k - 1));
      else assert.ok(l.lrAt(k) <= l.lrAt(k - 1));
    }
  });

  it('apply() sets the optimiser rate for its next update', () => scope(() => {
    const p = tensor([1]).requiresGrad_(true);
    const opt = new SGD([p], { lr: 123 });
    const s = new CosineSchedule({ baseLr: 0.4, warmupSteps: 4, totalSteps: 8 });
    assert.equal(s.apply(opt), 0.1);
    assert.equal(opt.lr, 0.1);
    opt.step();
    opt.step();
    s.apply(opt);
    assert.equal(opt.lr, 0.30000000000000004);
    assert.equal(s.apply(opt, 6), s.lrAt(6));
  }));

  it('rejects bad options', () => {
    assert.throws(() => new CosineSchedule({ baseLr: 1, warmupSteps: 5, totalSteps: 4 }), /totalSteps must be an integer ≥ warmupSteps \(5\), got 4/);
    assert.throws(() => new CosineSchedule({ baseLr: 1, warmupSteps: 1.5, totalSteps: 4 }), /warmupSteps/);
    assert.throws(() => new CosineSchedule({ baseLr: 1, warmupSteps: 0, totalSteps: 4, minLr: 2 }), /minLr must be in \[0, baseLr = 1\], got 2/);
    assert.throws(() => new CosineSchedule({ baseLr: NaN, warmupSteps: 0, totalSteps: 4 }), /baseLr/);
    assert.throws(() => new CosineSchedule({ baseLr: 1, warmupSteps: 0, totalSteps: 4 }).lrAt(-1), /step must be an integer ≥ 0/);
  });
});
