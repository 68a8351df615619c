import { native } from './native.js';

/** glibc's largest mmap threshold (32 MiB on 64-bit): blocks below it come from the heap and are reused. */
const MMAP_THRESHOLD = 32 * 1024 * 1024;
/** Free memory at the top of the heap that glibc keeps before handing it back to the kernel. */
const TRIM_THRESHOLD = 1024 * 1024 * 1024;

/**
 * Tunes glibc malloc for training: `mallopt(M_MMAP_THRESHOLD, 32 MiB)` and `mallopt(M_TRIM_THRESHOLD, 1 GiB)`, the
 * same settings as the PyTorch reference of `batchcam bench` (`tune_malloc()` in bench/torch_reference.py).
 * By default glibc serves blocks of 128 KiB and more with fresh `mmap()`s and unmaps them on free, so each training
 * step page-faults its activation buffers in anew; with these settings freed buffers stay in the heap and the next
 * step reuses them. Measured here (SimpleCNN training steps, batch 64, 2 threads, two runs each): 7,400–9,100 minor
 * page faults and 184–191 ms per step with glibc's defaults, 6–309 faults and 160–164 ms tuned. The cost: freed
 * memory stays resident (RSS 307–352 MB against 281–282 MB in those runs; up to 1 GiB at the top of the heap).
 *
 * Process-wide; call it once, at the start of a program that trains or benchmarks, before the first tensors. The
 * `batchcam` command, `src/bench/soak.ts` and `src/bench/profile-convnext.ts` do; the library does not on its own.
 * `BATCHCAM_MALLOC=default` in the environment leaves glibc's defaults (the call then does nothing).
 * @returns whether the settings were applied: false with `BATCHCAM_MALLOC=default`, or if glibc refused them.
 */
export function tuneAllocator(): boolean {
  if (process.env.BATCHCAM_MALLOC === 'default') return false;
  return native.tuneAllocator(MMAP_THRESHOLD, TRIM_THRESHOLD);
}
