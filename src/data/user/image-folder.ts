import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { DataError } from '../errors.js';
import { IMAGE_EXTENSIONS } from '../formats/image-file.js';
import { Rng } from '../sampling/rng.js';

// Stream key so the train/test split never coincides with shuffling, subset or decoy draws from the same seed.
const SPLIT_STREAM = 0x5911;

/** One split of an image folder: file paths and their class indices, in torchvision's order. */
export interface FolderSplit {
  readonly paths: readonly string[];
  readonly labels: Uint8Array;
}

/** An image folder scanned: class names (sorted folder names) and the files of both splits. */
export interface ScannedFolder {
  readonly dir: string;
  readonly classNames: readonly string[];
  /** 'folders': DIR/train and DIR/test; 'split': DIR/<class>, split by `testFraction`. */
  readonly layout: 'folders' | 'split';
  readonly train: FolderSplit;
  readonly test: FolderSplit;
}

/** Python's str ordering (by code point), which torchvision's `sorted()` of folder and file names uses. */
export function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (ch) => ch.codePointAt(0)!);
  const y = Array.from(b, (ch) => ch.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

const visible = (name: string): boolean => !name.startsWith('.');
const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** Sorted class folder names of `dir` (hidden entries skipped; plain files beside them are ignored, as torchvision does). */
function classFolders(dir: string): string[] {
  return readdirSync(dir).filter((n) => visible(n) && isDir(join(dir, n))).sort(byCodePoint);
}

/**
 * The image files under a class folder, walked as torchvision does (`sorted(os.walk(...))`, then sorted file names);
 * hidden files are skipped, anything else that is not a PNG/JPEG/WebP is an error naming it.
 */
function classFiles(root: string, classDir: string): string[] {
  const dirs: string[] = [];
  const walk = (d: string): void => {
    dirs.push(d);
    for (const n of readdirSync(d)) if (visible(n) && isDir(join(d, n))) walk(join(d, n));
  };
  walk(classDir);
  const files: string[] = [];
  for (const d of dirs.sort(byCodePoint)) {
    for (const n of readdirSync(d).filter(visible).sort(byCodePoint)) {
      const p = join(d, n);
      if (isDir(p)) continue;
      if (!(IMAGE_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase())) {
        throw new DataError(`${p}: not an image (batchcam reads ${IMAGE_EXTENSIONS.join(', ')} files); ` +
          `remove it from ${root} or move it elsewhere`);
      }
      files.push(p);
    }
  }
  if (files.length === 0) {
    throw new DataError(`${classDir}: class folder holds no images (${IMAGE_EXTENSIONS.join(', ')}); add images or remove the folder`);
  }
  return files;
}

function readSplit(root: string, splitDir: string, classNames: readonly string[]): FolderSplit {
  const paths: string[] = [];
  const labels: number[] = [];
  classNames.forEach((name, c) => {
    const dir = join(splitDir, name);
    if (!isDir(dir)) return;
    for (const p of classFiles(root, dir)) {
      paths.push(p);
      labels.push(c);
    }
  });
  return { paths, labels: Uint8Array.from(labels) };
}

function checkClassCount(dir: string, classNames: readonly string[]): void {
  if (classNames.length < 2) {
    throw new DataError(`${dir}: expected at least two class folders, found ${classNames.length}${classNames.length ? ` (${classNames[0]})` : ''}; ` +
      'a classifier needs two or more classes: add a folder per class (DIR/<class>/*.png, or DIR/train/<class>/ and DIR/test/<class>/)');
  }
  if (classNames.length > 256) throw new DataError(`${dir}: expected at most 256 class folders, found ${classNames.length}`);
}

/**
 * Scans an image folder in torchvision's ImageFolder layout: `DIR/train/<class>/*` and `DIR/test/<class>/*`, or
 * `DIR/<class>/*` split per class with a seeded shuffle, `round(n_c · testFraction)` images of each class going to
 * the test split (at least one stays in training). Class names are the sorted folder names of the training split.
 */
export function scanImageFolder(dir: string, o: { testFraction: number; seed?: number }): ScannedFolder {
  if (!isDir(dir)) {
    throw new DataError(`${dir}: expected a directory of class folders (DIR/<class>/*.png, or DIR/train/<class>/ and DIR/test/<class>/), ` +
      `found ${existsSync(dir) ? 'a file' : 'nothing at that path'}`);
  }
  const hasTrain = isDir(join(dir, 'train'));
  const hasTest = isDir(join(dir, 'test'));
  if (hasTrain !== hasTest) {
    const [have, miss] = hasTrain ? ['train', 'test'] : ['test', 'train'];
    throw new DataError(`${dir}: has ${have}/ but no ${miss}/; add ${join(dir, miss)}/<class>/ or put the class folders directly in ${dir}`);
  }
  if (hasTrain) {
    const classNames = classFolders(join(dir, 'train'));
    checkClassCount(join(dir, 'train'), classNames);
    const extra = classFolders(join(dir, 'test')).filter((n) => !classNames.includes(n));
    if (extra.length) {
      throw new DataError(`${join(dir, 'test', extra[0]!)}: class "${extra[0]}" is in test/ but not in train/ ` +
        `(${extra.length > 1 ? `also ${extra.slice(1).join(', ')}; ` : ''}the model can only learn classes it trains on); ` +
        `add ${join(dir, 'train', extra[0]!)}/ or remove it from test/`);
    }
    const train = readSplit(dir, join(dir, 'train'), classNames);
    const test = readSplit(dir, join(dir, 'test'), classNames);
    if (test.paths.length === 0) throw new DataError(`${join(dir, 'test')}: holds no class folders with images; add DIR/test/<class>/ images`);
    return { dir, classNames, layout: 'folders', train, test };
  }
  const classNames = classFolders(dir);
  checkClassCount(dir, classNames);
  const all = readSplit(dir, dir, classNames);
  const rng = Rng.derive(o.seed ?? 0, SPLIT_STREAM);
  const train: number[] = [];
  const test: number[] = [];
  classNames.forEach((_, c) => {
    const members: number[] = [];
    all.labels.forEach((y, i) => { if (y === c) members.push(i); });
    const nTest = Math.min(members.length - 1, Math.round(members.length * o.testFraction));
    const picked = new Set(rng.shuffle(members.slice()).slice(0, nTest));
    for (const i of members) (picked.has(i) ? test : train).push(i);
  });
  if (test.length === 0) {
    throw new DataError(`${dir}: --test-fraction ${o.testFraction} leaves no test images (${all.paths.length} images); ` +
      'raise --test-fraction, add images, or lay out DIR/train/<class>/ and DIR/test/<class>/');
  }
  // Each split keeps torchvision's order (by class, then by file).
  const pick = (ix: number[]): FolderSplit => {
    ix.sort((a, b) => a - b);
    return { paths: ix.map((i) => all.paths[i]!), labels: Uint8Array.from(ix, (i) => all.labels[i]!) };
  };
  return { dir, classNames, layout: 'split', train: pick(train), test: pick(test) };
}
