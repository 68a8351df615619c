import { existsSync, readFileSync, readSync, statSync, truncateSync, appendFileSync, fstatSync } from 'node:fs';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { withOpenFile } from '../../io/open-file.js';

/** The format tag of probes.json; a reader refuses any other. */
export const PROBE_FORMAT = 'batchcam-probes-1';

/**
 * probes.json: the fixed probe set of a run's CAM timeline (written once, when the run starts) and the layout of the
 * records appended to probes.bin. Everything a viewer needs to show any recorded step without a checkpoint.
 */
export interface ProbeIndex {
  format: typeof PROBE_FORMAT;
  /** A record every this many optimiser steps (plus step 0 and the last step). */
  probeEvery: number;
  /** CAM layer, class each map explains ('label': the true class) and per-map normalisation. */
  layer: string;
  target: 'label';
  norm: string;
  /** Probe images, their size and class count. */
  n: number;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  classNames: string[];
  /** Position of each probe in the run's test split, and its index in the official split. */
  indices: number[];
  sourceIndices: number[];
  labels: number[];
  /** n×C×H×W uint8 pixels as the model sees them (before standardisation), base64. */
  pixels: string;
  /** Bytes of one record of probes.bin (see {@link ProbeRecord}). */
  recordBytes: number;
}

/**
 * One record of probes.bin, at a fixed size so that a torn last record is recognisable and a resume can cut the file
 * at a step: uint32 step, uint32 epoch, float32 p(pred)×n, float32 p(label)×n, uint16 pred×n (padded to 4 bytes),
 * then the n CAMs, H×W uint8 each (the [0,1] map × 255, rounded), all little-endian.
 */
export interface ProbeRecord {
  /** Optimiser steps taken when the probes ran (0: the initial weights). */
  step: number;
  /** 1-based epoch of the last step taken (0 before the first). */
  epoch: number;
  pred: Uint16Array;
  /** Softmax probability of the predicted class and of the true class. */
  pPred: Float32Array;
  pLabel: Float32Array;
  /** n·H·W quantised maps. */
  cams: Uint8Array;
}

/** The files of a run's CAM timeline. */
export interface ProbePaths {
  /** probes.json */
  probeIndex: string;
  /** probes.bin */
  probeRecords: string;
}

/** Bytes of one record for n probes of H×W. */
export function probeRecordBytes(n: number, height: number, width: number): number {
  return 8 + 8 * n + Math.ceil((2 * n) / 4) * 4 + n * height * width;
}

/** A record as the bytes appended to probes.bin. */
export function encodeProbeRecord(r: ProbeRecord, index: Pick<ProbeIndex, 'n' | 'height' | 'width' | 'recordBytes'>): Buffer {
  const { n } = index;
  const b = Buffer.alloc(index.recordBytes);
  b.writeUInt32LE(r.step, 0);
  b.writeUInt32LE(r.epoch, 4);
  let o = 8;
  for (let i = 0; i < n; i++, o += 4) b.writeFloatLE(r.pPred[i]!, o);
  for (let i = 0; i < n; i++, o += 4) b.writeFloatLE(r.pLabel[i]!, o);
  for (let i = 0; i < n; i++, o += 2) b.writeUInt16LE(r.pred[i]!, o);
  o = 8 + 8 * n + Math.ceil((2 * n) / 4) * 4;
  b.set(r.cams, o);
  return b;
}

/** Decodes one record (the inverse of {@link encodeProbeRecord}). */
export function decodeProbeRecord(b: Uint8Array, index: Pick<ProbeIndex, 'n' | 'height' | 'width'>): ProbeRecord {
  const { n, height, width } = index;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const pPred = new Float32Array(n);
  const pLabel = new Float32Array(n);
  const pred = new Uint16Array(n);
  let o = 8;
  for (let i = 0; i < n; i++, o += 4) pPred[i] = v.getFloat32(o, true);
  for (let i = 0; i < n; i++, o += 4) pLabel[i] = v.getFloat32(o, true);
  for (let i = 0; i < n; i++, o += 2) pred[i] = v.getUint16(o, true);
  o = 8 + 8 * n + Math.ceil((2 * n) / 4) * 4;
  return { step: v.getUint32(0, true), epoch: v.getUint32(4, true), pred, pPred, pLabel, cams: b.slice(o, o + n * height * width) };
}

/** probes.json, or null when absent, unreadable or of another format (a run without a timeline, or one being written). */
export function readProbeIndex(path: string): ProbeIndex | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<ProbeIndex>;
    if (v?.format !== PROBE_FORMAT || typeof v.recordBytes !== 'number' || v.recordBytes !== probeRecordBytes(v.n ?? -1, v.height ?? -1, v.width ?? -1)) return null;
    return v as ProbeIndex;
  } catch {
    return null;
  }
}

/** Writes probes.json (atomically) and an empty probes.bin: a fresh timeline. */
export function startProbeLog(paths: ProbePaths, index: ProbeIndex): void {
  writeFileAtomic(paths.probeIndex, Buffer.from(JSON.stringify(index) + '\n'));
  writeFileAtomic(paths.probeRecords, Buffer.alloc(0));
}

/** Appends one record. A kill mid-append leaves a torn last record, which readers ignore and a resume cuts off. */
export function appendProbeRecord(paths: ProbePaths, index: ProbeIndex, r: ProbeRecord): void {
  appendFileSync(paths.probeRecords, encodeProbeRecord(r, index));
}

/** The steps of the complete records of probes.bin, in order ([] when it does not exist). */
export function probeSteps(path: string, index: Pick<ProbeIndex, 'recordBytes'>): number[] {
  return withOpenFile(path, [], (fd) => {
    const count = Math.floor(fstatSync(fd).size / index.recordBytes);
    const head = Buffer.alloc(4);
    const steps: number[] = [];
    for (let k = 0; k < count; k++) {
      if (readSync(fd, head, 0, 4, k * index.recordBytes) < 4) break;
      steps.push(head.readUInt32LE(0));
    }
    return steps;
  });
}

/** The k-th complete record of probes.bin, or null when there is none (yet). */
export function readProbeRecord(path: string, index: ProbeIndex, k: number): ProbeRecord | null {
  if (!Number.isInteger(k) || k < 0) return null;
  return withOpenFile(path, null, (fd) => {
    const b = Buffer.alloc(index.recordBytes);
    return readSync(fd, b, 0, b.length, k * index.recordBytes) < b.length ? null : decodeProbeRecord(b, index);
  });
}

/**
 * On resume: keeps the records up to `step` (the checkpoint's position) and drops the rest and any torn record, so
 * the resumed run appends the same records an uninterrupted one has. Returns the step of the last record kept (-1: none).
 */
export function truncateProbeLog(paths: ProbePaths, index: ProbeIndex, step: number): number {
  if (!existsSync(paths.probeRecords)) {
    writeFileAtomic(paths.probeRecords, Buffer.alloc(0));
    return -1;
  }
  const steps = probeSteps(paths.probeRecords, index);
  let keep = 0;
  while (keep < steps.length && steps[keep]! <= step) keep++;
  if (statSync(paths.probeRecords).size !== keep * index.recordBytes) truncateSync(paths.probeRecords, keep * index.recordBytes);
  return keep > 0 ? steps[keep - 1]! : -1;
}
