"""Independent safetensors reader/writer for batchcam's tests: struct + json + numpy only (no safetensors package),
written from the format spec: u64 little-endian header length N, N bytes of UTF-8 JSON
{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the data buffer.

CLI (all output is one JSON document on stdout):
  describe PATH           read PATH (validating it) and print metadata, layout facts and every tensor's bytes and values
  copy IN OUT [k=v ...]   read IN and write its tensors to OUT with this writer (metadata replaced by the k=v pairs)
  make OUT                write a fixed, seeded set of tensors of every dtype (with NaN, ±inf, -0.0, int64 extremes) and describe it
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}
NAMES = {np.dtype(v).str if k != "BOOL" else "|b1": k for k, v in DTYPES.items()}


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("header length %d past end of file" % n)
    header_bytes = raw[8:8 + n]
    header = json.loads(header_bytes.decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", None) or {}
    tensors = {}
    spans = []
    for name, info in header.items():
        dt = np.dtype(DTYPES[info["dtype"]])
        shape = tuple(int(d) for d in info["shape"])
        begin, end = info["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if end - begin != count * dt.itemsize:
            raise ValueError("%s: %d bytes for shape %s" % (name, end - begin, shape))
        tensors[name] = np.frombuffer(data[begin:end], dtype=dt).reshape(shape).copy()
        spans.append((begin, end, name))
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise ValueError("%s: offsets [%d, %d] do not continue at %d" % (name, begin, end, pos))
        pos = end
    if pos != len(data):
        raise ValueError("%d trailing bytes" % (len(data) - pos))
    layout = {
        "header_length": n,
        "data_aligned_8": (8 + n) % 8 == 0,
        "trailing_spaces": len(header_bytes) - len(header_bytes.rstrip(b" ")),
        "json_ends_at_brace": header_bytes.rstrip(b" ").endswith(b"}"),
        "header_keys": list(json.loads(header_bytes.decode("utf-8")).keys()),
        "data_order": [name for _, _, name in spans],
    }
    return tensors, meta, layout


def write(path, tensors, metadata=None):
    names = sorted(tensors, key=lambda s: s.encode("utf-8"))
    header = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(metadata[k]) for k in sorted(metadata, key=lambda s: s.encode("utf-8"))}
    chunks = []
    pos = 0
    for name in names:
        a = np.require(tensors[name], requirements="C")  # ascontiguousarray would turn 0-d into 1-d
        kind = "BOOL" if a.dtype == np.bool_ else NAMES[a.dtype.newbyteorder("<").str if a.dtype.itemsize > 1 else a.dtype.str]
        b = a.astype(DTYPES[kind]).tobytes()
        header[name] = {"dtype": kind, "shape": list(a.shape), "data_offsets": [pos, pos + len(b)]}
        chunks.append(b)
        pos += len(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")  # raw UTF-8 like serde_json
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in chunks:
            f.write(b)


def value_strings(a):
    out = []
    for x in a.reshape(-1).tolist():
        if isinstance(x, bool):
            out.append("1" if x else "0")
        elif isinstance(x, int):
            out.append(str(x))
        else:
            out.append(repr(float(x)))  # 'nan', 'inf', '-0.0' or the shortest round-trip decimal
    return out


def describe(path):
    tensors, meta, layout = read(path)
    return {
        "metadata": meta,
        "layout": layout,
        "tensors": {
            k: {"dtype": NAMES["|b1"] if v.dtype == np.bool_ else NAMES[v.dtype.str], "shape": list(v.shape),
                "hex": v.astype(v.dtype.newbyteorder("<")).tobytes().hex(), "values": value_strings(v)}
            for k, v in tensors.items()
        },
    }


def make(path):
    rng = np.random.default_rng(20240607)
    f32 = rng.standard_normal((3, 4)).astype(np.float32)
    f32[0, 0], f32[0, 1], f32[0, 2], f32[0, 3] = np.nan, np.inf, -np.inf, -0.0
    tensors = {
        "f32": f32,
        "f64": rng.standard_normal((2, 2, 3)),
        "i64": np.array([0, -1, 2**62, -(2**63), 2**63 - 1, 12345678901234], dtype=np.int64),
        "i32": rng.integers(-2**31, 2**31, size=(5,), dtype=np.int32),
        "u8": rng.integers(0, 256, size=(2, 3, 2), dtype=np.uint8),
        "bool": rng.integers(0, 2, size=(7,)).astype(np.bool_),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "unicode.κλειδί": np.arange(3, dtype=np.int32),
    }
    write(path, tensors, {"written_by": "safetensors_io.py", "note": "ünïcode ✓"})
    return describe(path)


def main(argv):
    cmd = argv[1]
    if cmd == "describe":
        out = describe(argv[2])
    elif cmd == "copy":
        tensors, _, _ = read(argv[2])
        write(argv[3], tensors, dict(kv.split("=", 1) for kv in argv[4:]))
        out = describe(argv[3])
    elif cmd == "make":
        out = make(argv[2])
    else:
        raise SystemExit("unknown command %r" % cmd)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
