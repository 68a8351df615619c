// batchcam native floor: a thin, mechanical N-API binding over libtorch. Tensors cross as Napi::External handles
// (tensors.cc), every ATen op is reached through the dispatcher's boxed entry point (ops.cc), process groups are
// torch's own c10d (c10d.cc). This file holds the module's init and the runtime: seed and RNG state, threads,
// build facts, and the allocator call. No method logic lives here.
#include "addon.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <malloc.h>

#include <cstdint>
#include <mutex>

namespace batchcam {

namespace {

// ---------------------------------------------------------------------------------- runtime

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    bool lossless;
    uint64_t seed = info[0].IsBigInt() ? info[0].As<Napi::BigInt>().Uint64Value(&lossless)
                                       : static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    at::manual_seed(seed);
    return info.Env().Undefined();
  });
}

// The default CPU generator's state as a uint8 tensor, for checkpoints.
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return wrap(info.Env(), gen.get_state());
  });
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(tensorOf(info[0]));
    return info.Env().Undefined();
  });
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value CudaAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::hasCUDA());
}

Napi::Value Config(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("version", TORCH_VERSION);
  o.Set("parallel", at::get_parallel_info());
  o.Set("mkldnn", at::hasMKLDNN());
  o.Set("cuda", at::hasCUDA());
  return o;
}

// tuneAllocator(mmapThreshold, trimThreshold) -> whether glibc took both settings. What they are, why, and the
// opt-out are src/torch/allocator.ts's; nothing calls this at load.
Napi::Value TuneAllocator(const Napi::CallbackInfo& info) {
  bool mmapSet = mallopt(M_MMAP_THRESHOLD, info[0].As<Napi::Number>().Int32Value()) == 1;
  bool trimSet = mallopt(M_TRIM_THRESHOLD, info[1].As<Napi::Number>().Int32Value()) == 1;
  return Napi::Boolean::New(info.Env(), mmapSet && trimSet);
}

}  // namespace

}  // namespace batchcam

namespace {

// Same export order as the single-file addon had, so Object.keys(native) is unchanged.
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace batchcam;
  registerOps(env, exports);
  registerTensors(env, exports);
  exportFn(env, exports, "manualSeed", ManualSeed);
  exportFn(env, exports, "getRngState", GetRngState);
  exportFn(env, exports, "setRngState", SetRngState);
  exportFn(env, exports, "setNumThreads", SetNumThreads);
  exportFn(env, exports, "getNumThreads", GetNumThreads);
  exportFn(env, exports, "cudaAvailable", CudaAvailable);
  exportFn(env, exports, "config", Config);
  registerC10d(env, exports);
  exportFn(env, exports, "tuneAllocator", TuneAllocator);
  return exports;
}

}  // namespace

NODE_API_MODULE(batchcam_native, Init)
