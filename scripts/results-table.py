"""Compact markdown table of an experiment's aggregate.json (for RESULTS.md): mean ± std, Welch p vs 'ce'."""
import json
import sys

COLS = [("accuracy", "accuracy %", 100, 2), ("coherenceSsim", "coherence ssim ↓", 1, 3), ("coherenceL1", "coherence l1 ↓", 1, 3),
        ("reconstructionSsim", "reconstr. ssim ↓", 1, 3), ("mapCoverage", "map coverage", 1, 3), ("mapContrast", "map contrast", 1, 3),
        ("specificitySsim", "within/between ssim ↓", 1, 3), ("decoyEnergy", "decoy energy ↓", 1, 4),
        ("accuracyGap", "clean − decoy acc. pp", 100, 2), ("wrongReasonGradCam", "wrong reason Grad-CAM ↓", 1, 3),
        ("wrongReasonInputGradient", "wrong reason input grad ↓", 1, 3),
        ("worstGroupAccuracy", "worst-group acc. % ↑", 100, 2), ("conflictingAccuracy", "bias-conflicting acc. % ↑", 100, 2),
        ("alignedAccuracy", "bias-aligned acc. %", 100, 2), ("biasedAccuracy", "biased-test acc. %", 100, 2),
        ("biasMass", "CAM mass on bias ↓", 1, 3),
        ("deletionAuc", "deletion AUC ↓", 1, 3), ("insertionAuc", "insertion AUC ↑", 1, 3), ("averageDrop", "avg drop ↓", 1, 3)]

agg = json.load(open(sys.argv[1]))
# Optional: a comma-separated list of column keys to show (default: every column some row has).
only = sys.argv[2].split(",") if len(sys.argv) > 2 else None
rows = agg["rows"]
cols = [c for c in COLS if any(r.get(c[0]) for r in rows) and (only is None or c[0] in only)]
print("| model | dataset | setting | seeds | " + " | ".join(c[1] for c in cols) + " |")
print("|---|---|---|---:|" + "---:|" * len(cols))
for r in rows:
    cells = []
    for key, _, scale, dp in cols:
        m = r.get(key)
        if not m:
            cells.append("—")
            continue
        s = f"{m['mean'] * scale:.{dp}f}"
        if m.get("n", 1) > 1 and m.get("std") is not None:
            s += f" ± {m['std'] * scale:.{dp}f}"
        t = (r.get("vsBaseline") or {}).get(key)
        if t and t.get("p") is not None and m.get("n", 1) > 1:
            p = t["p"]
            s += " **" if p < 0.01 else " *" if p < 0.05 else ""
        cells.append(s)
    seeds = len(r['seeds']) if isinstance(r['seeds'], list) else r['seeds']
    print(f"| {r['model']} | {r['dataset']} | {r['setting']} | {seeds} | " + " | ".join(cells) + " |")
