/** Which class a sample's CAM explains: its ground-truth label (training default) or the model's prediction. */
export type CamTarget = 'label' | 'pred';
/** second-order: α = mean ∂s/∂A stays in the graph, so a CAM loss trains through α and A; detached: only through A. */
export type CamGrad = 'second-order' | 'detached';
/** Per-sample normalisation: max (cam / (max + 1e-7)) or minmax ((cam − min) / (max − min + 1e-7)). */
export type CamNorm = 'max' | 'minmax';

export const CAM_TARGETS: readonly CamTarget[] = ['label', 'pred'];
export const CAM_GRADS: readonly CamGrad[] = ['second-order', 'detached'];
export const CAM_NORMS: readonly CamNorm[] = ['max', 'minmax'];

/** Options shared by Batch-CAM and the per-sample loop (docs/method.md §1). */
export interface CamOptions {
  /** CAM layer (default: the model's first, e.g. conv2, layer4, stage3). */
  layer?: string;
  /** Default 'label' when labels are given, else 'pred'. */
  target?: CamTarget;
  /** Default 'second-order'. */
  grad?: CamGrad;
  /** Default 'max'. */
  norm?: CamNorm;
  /** Bilinear upsampling to the input size (align_corners=false); default true. */
  upsample?: boolean;
}

export const CAM_EPS = 1e-7;
