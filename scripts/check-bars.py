"""The pre-registered bars of RESULTS.md ("Anti-collapse objectives and shortcut evidence — protocol") checked on an
experiment's aggregate.json: each setting named on the command line against 'ce' on the same model and dataset.
Usage: python3 scripts/check-bars.py runs/evidence/simplecnn/aggregate.json recommended [paper ...]"""
import json
import sys

agg = json.load(open(sys.argv[1]))
settings = sys.argv[2:] or ["recommended"]
rows = {(r["model"], r["dataset"], r["setting"]): r for r in agg["rows"]}


def mean(r, k):
    m = r.get(k)
    return None if not m else m["mean"]


def p(r, k):
    t = (r.get("vsBaseline") or {}).get(k)
    return None if not t else t.get("p")


def fmt(v, d=3):
    return "—" if v is None else f"{v:.{d}f}"


def verdict(ok):
    return "—" if ok is None else ("met" if ok else "**missed**")


print("| model | dataset | setting | bar | value | vs CE | verdict |")
print("|---|---|---|---|---|---|---|")
for (model, dataset, setting), r in rows.items():
    if setting not in settings:
        continue
    ce = rows.get((model, dataset, "ce"))
    if not ce:
        continue
    out = []
    coh, coh0 = mean(r, "coherenceSsim"), mean(ce, "coherenceSsim")
    pc = p(r, "coherenceSsim")
    out.append(("coherence ≤ 0.5 × CE, p < 0.05", f"{fmt(coh)} ({fmt(coh / coh0, 2)}×, p {fmt(pc, 4)})", fmt(coh0),
                coh <= 0.5 * coh0 and pc is not None and pc < 0.05 and coh < coh0))
    sp, sp0 = mean(r, "specificitySsim"), mean(ce, "specificitySsim")
    out.append(("class specificity below CE", fmt(sp), fmt(sp0), None if sp is None or sp0 is None else sp < sp0))
    con, con0 = mean(r, "mapContrast"), mean(ce, "mapContrast")
    out.append(("contrast ≥ 0.8 × CE", f"{fmt(con)} ({fmt(con / con0, 2)}×)", fmt(con0), con >= 0.8 * con0))
    cov = mean(r, "mapCoverage")
    out.append(("coverage in (0.02, 0.8)", fmt(cov), fmt(mean(ce, "mapCoverage")), 0.02 < cov < 0.8))
    acc, acc0 = mean(r, "accuracy"), mean(ce, "accuracy")
    vals = (r.get("accuracy") or {}).get("values", [])
    chance = sum(1 for v in vals if v < 0.2)
    if "decoy" not in dataset:
        out.append(("accuracy within 0.5 pp of CE", f"{100 * acc:.2f}% ({100 * (acc - acc0):+.2f} pp)", f"{100 * acc0:.2f}%",
                    acc >= acc0 - 0.005))
    out.append(("0 seeds at chance", f"{chance} of {len(vals)}", "", chance == 0))
    if "decoy" in dataset:
        pa = p(r, "accuracy")
        out.append(("decoy accuracy ≥ CE + 3 pp, p < 0.05", f"{100 * acc:.2f}% ({100 * (acc - acc0):+.2f} pp, p {fmt(pa, 4)})",
                    f"{100 * acc0:.2f}%", acc >= acc0 + 0.03 and pa is not None and pa < 0.05))
        for k, name in (("wrongReasonGradCam", "Grad-CAM"), ("wrongReasonInputGradient", "input gradients")):
            w, w0, pw = mean(r, k), mean(ce, k), p(r, k)
            out.append((f"wrong reason ({name}) lower, p < 0.05", f"{fmt(w)} (p {fmt(pw, 4)})", fmt(w0),
                        None if w is None else (w < w0 and pw is not None and pw < 0.05)))
    for bar, value, base, ok in out:
        print(f"| {model} | {dataset} | {setting} | {bar} | {value} | {base} | {verdict(ok)} |")
