import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Independent PNG readers for the tests: a stdlib-only Python decoder (zlib + struct, written from the PNG
 * specification, sharing no code with src/report) and, where Debian's python3-pil is installed, Pillow.
 */

export const PYTHON = process.env.BATCHCAM_PYTHON ?? '/usr/bin/python3';

/** Reads a PNG file (argv[1]) with zlib + struct only; prints {width, height, depth, colour, interlace, data}. */
const STDLIB_READER = String.raw`
import json, struct, sys, zlib
raw = open(sys.argv[1], 'rb').read()
assert raw[:8] == b'\x89PNG\r\n\x1a\n', 'bad signature'
pos, idat, hdr = 8, b'', None
while pos < len(raw):
    n, = struct.unpack('>I', raw[pos:pos+4]); typ = raw[pos+4:pos+8]; body = raw[pos+8:pos+8+n]
    crc, = struct.unpack('>I', raw[pos+8+n:pos+12+n])
    assert zlib.crc32(typ + body) & 0xffffffff == crc, 'crc mismatch in %r' % typ
    if typ == b'IHDR': hdr = struct.unpack('>IIBBBBB', body)
    elif typ == b'IDAT': idat += body
    elif typ == b'IEND': break
    pos += 12 + n
w, h, depth, colour, comp, filt, interlace = hdr
assert depth == 8 and interlace == 0 and comp == 0 and filt == 0
ch = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
data = zlib.decompress(idat); stride = w * ch; out = bytearray(); prev = bytearray(stride)
for y in range(h):
    f = data[y*(stride+1)]; line = bytearray(data[y*(stride+1)+1:(y+1)*(stride+1)])
    for i in range(stride):
        a = line[i-ch] if i >= ch else 0; b = prev[i]; c = prev[i-ch] if i >= ch else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p-a), abs(p-b), abs(p-c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        else: assert f == 0, 'filter %d' % f
    out += line; prev = line
print(json.dumps({'width': w, 'height': h, 'depth': depth, 'colour': colour, 'interlace': interlace, 'data': list(out)}))
`;

export interface PyDecoded {
  width: number;
  height: number;
  depth: number;
  colour: number;
  interlace: number;
  data: number[];
}

export const pythonAvailable = existsSync(PYTHON);

/** The stdlib reader's view of a PNG file. */
export function readPngWithPython(path: string): PyDecoded {
  const r = spawnSync(PYTHON, ['-c', STDLIB_READER, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python PNG reader failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PyDecoded;
}

/** Whether Pillow is importable by {@link PYTHON}. */
export const pillowAvailable = pythonAvailable && spawnSync(PYTHON, ['-c', 'import PIL'], { encoding: 'utf8' }).status === 0;

/** Pillow's mode, size and pixel bytes of a PNG file. */
export function readPngWithPillow(path: string): { mode: string; width: number; height: number; data: number[] } {
  const code = 'import json,sys\nfrom PIL import Image\nim=Image.open(sys.argv[1]); im.load()\n' +
    'print(json.dumps({"mode": im.mode, "width": im.size[0], "height": im.size[1], "data": list(im.tobytes())}))';
  const r = spawnSync(PYTHON, ['-c', code, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Pillow failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { mode: string; width: number; height: number; data: number[] };
}

/** Runs a Pillow snippet with argv[1] = `path` (to write test PNGs the encoder under test cannot make). */
export function pillow(code: string, path: string): void {
  const r = spawnSync(PYTHON, ['-c', `import sys\nfrom PIL import Image\n${code}`, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Pillow snippet failed: ${r.stderr}`);
}
