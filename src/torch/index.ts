/** The typed tensor floor over libtorch: tensors, ops, autograd, memory scopes. */
export { Tensor, callOp, op, opList, schemaOf, type TensorLike, type Dims, type MemoryFormat, type Arg } from './tensor.js';
export { type DType, type AnyTypedArray, dtypeSize } from './dtype.js';
export { scope, keep, type Disposable } from './scope.js';
export * from './creation.js';
export * from './functional.js';
export * from './foreach.js';
export * from './autograd.js';
export * from './runtime.js';
export * from './allocator.js';
export * from './device.js';
export * from './process-group.js';
export * from './batch-shards.js';
