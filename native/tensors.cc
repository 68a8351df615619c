// Tensors: the JS handles that own them, their bytes, shape, dtype and device, gradients, backward and grad mode,
// and the live-handle count that leak tests read.
#include "addon.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/variable.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

namespace batchcam {

namespace {

std::atomic<int64_t> g_live{0};

struct Box {
  at::Tensor t;
  bool live = true;
};

void releaseBox(Box* b) {
  if (b->live) {
    b->live = false;
    b->t.reset();
    g_live--;
  }
}

Box* boxOf(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a tensor handle");
  return v.As<Napi::External<Box>>().Data();
}

}  // namespace

// ---------------------------------------------------------------------------------- handles

Napi::Value wrap(Napi::Env env, at::Tensor t) {
  g_live++;
  auto* b = new Box{std::move(t)};
  return Napi::External<Box>::New(env, b, [](Napi::Env, Box* p) {
    releaseBox(p);
    delete p;
  });
}

const at::Tensor& tensorOf(const Napi::Value& v, const char* what) {
  Box* b = boxOf(v, what);
  if (!b->live) throw Napi::Error::New(v.Env(), std::string(what) + ": tensor was disposed");
  return b->t;
}

std::vector<at::Tensor> tensorArray(const Napi::Value& v, const char* what) {
  std::vector<at::Tensor> out;
  if (v.IsNull() || v.IsUndefined()) return out;
  auto a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    auto e = a.Get(i);
    out.push_back(e.IsNull() || e.IsUndefined() ? at::Tensor() : tensorOf(e, what));
  }
  return out;
}

namespace {

// ---------------------------------------------------------------------------------- tensors

// fromBuffer(typedArray, shape, scalarType) -> tensor (copies).
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto ta = info[0].As<Napi::TypedArray>();
    auto shape = intList(info[1]);
    auto st = static_cast<at::ScalarType>(info[2].As<Napi::Number>().Int32Value());
    auto t = at::empty(shape, at::TensorOptions().dtype(st));
    size_t bytes = t.numel() * c10::elementSize(st);
    if (bytes != ta.ByteLength())
      throw Napi::RangeError::New(info.Env(), "fromBuffer: " + std::to_string(ta.ByteLength()) +
                                                  " bytes given, shape needs " + std::to_string(bytes));
    auto* src = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    if (bytes) std::memcpy(t.data_ptr(), src, bytes);
    return wrap(info.Env(), t);
  });
}

// toBuffer(tensor) -> ArrayBuffer with the contiguous CPU bytes (copies).
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    at::NoGradGuard ng;
    auto t = tensorOf(info[0]).detach().to(at::kCPU).contiguous();
    size_t bytes = t.numel() * t.element_size();
    auto ab = Napi::ArrayBuffer::New(info.Env(), bytes);
    if (bytes) std::memcpy(ab.Data(), t.data_ptr(), bytes);
    return ab;
  });
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  const auto& t = tensorOf(info[0]);
  auto s = t.sizes();
  auto a = Napi::Array::New(info.Env(), s.size());
  for (size_t i = 0; i < s.size(); i++) a.Set(i, Napi::Number::New(info.Env(), static_cast<double>(s[i])));
  return a;
}

Napi::Value ScalarType(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(tensorOf(info[0]).scalar_type()));
}

Napi::Value DeviceOf(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), tensorOf(info[0]).device().str());
}

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensorOf(info[0]).requires_grad());
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    tensorOf(info[0]).set_requires_grad(info[1].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensorOf(info[0]).is_leaf());
}

// gradOf(tensor) -> the accumulated .grad, or null.
Napi::Value GradOf(const Napi::CallbackInfo& info) {
  const auto& g = tensorOf(info[0]).grad();
  if (!g.defined()) return info.Env().Null();
  return wrap(info.Env(), g);
}

// setGrad(tensor, grad|null)
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto& t = const_cast<at::Tensor&>(tensorOf(info[0]));
    if (info[1].IsNull() || info[1].IsUndefined()) t.mutable_grad().reset();
    else t.mutable_grad() = tensorOf(info[1]);
    return info.Env().Undefined();
  });
}

// setData(tensor, src): tensor.data = src (Variable::set_data), e.g. to move a parameter to another device in place,
// keeping its identity (torch.nn.Module._apply does the same).
Napi::Value SetData(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto& t = const_cast<at::Tensor&>(tensorOf(info[0]));
    t.set_data(tensorOf(info[1]));
    return info.Env().Undefined();
  });
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), tensorOf(info[0]).item<double>());
  });
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  releaseBox(boxOf(info[0], "dispose"));
  return info.Env().Undefined();
}

Napi::Value IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !boxOf(info[0], "isDisposed")->live);
}

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_live.load()));
}

// Identity of the underlying storage, so the TS side can tell aliases apart in tests.
Napi::Value DataPtr(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(reinterpret_cast<uintptr_t>(tensorOf(info[0]).data_ptr())));
}

// ---------------------------------------------------------------------------------- autograd

// grad(outputs[], inputs[], gradOutputs[]|null, retainGraph, createGraph, allowUnused) -> (tensor|null)[]
Napi::Value Grad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto outputs = tensorArray(info[0], "grad.outputs");
    auto inputs = tensorArray(info[1], "grad.inputs");
    auto gradOutputs = tensorArray(info[2], "grad.gradOutputs");
    bool retain = info[3].As<Napi::Boolean>().Value();
    bool create = info[4].As<Napi::Boolean>().Value();
    bool allowUnused = info[5].As<Napi::Boolean>().Value();
    auto gs = torch::autograd::grad(outputs, inputs, gradOutputs, retain, create, allowUnused);
    auto a = Napi::Array::New(info.Env(), gs.size());
    for (size_t i = 0; i < gs.size(); i++) a.Set(i, gs[i].defined() ? wrap(info.Env(), gs[i]) : info.Env().Null());
    return a;
  });
}

// backward(tensors[], grads[]|null, retainGraph, createGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto tensors = tensorArray(info[0], "backward.tensors");
    auto grads = tensorArray(info[1], "backward.grads");
    bool retain = info[2].As<Napi::Boolean>().Value();
    bool create = info[3].As<Napi::Boolean>().Value();
    torch::autograd::backward(tensors, grads, retain, create);
    return info.Env().Undefined();
  });
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(info[0].As<Napi::Boolean>().Value());
  return Napi::Boolean::New(info.Env(), prev);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}

}  // namespace

void registerTensors(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "fromBuffer", FromBuffer);
  exportFn(env, exports, "toBuffer", ToBuffer);
  exportFn(env, exports, "shape", Shape);
  exportFn(env, exports, "scalarType", ScalarType);
  exportFn(env, exports, "device", DeviceOf);
  exportFn(env, exports, "requiresGrad", RequiresGrad);
  exportFn(env, exports, "setRequiresGrad", SetRequiresGrad);
  exportFn(env, exports, "isLeaf", IsLeaf);
  exportFn(env, exports, "gradOf", GradOf);
  exportFn(env, exports, "setGrad", SetGrad);
  exportFn(env, exports, "item", Item);
  exportFn(env, exports, "setData", SetData);
  exportFn(env, exports, "dispose", Dispose);
  exportFn(env, exports, "isDisposed", IsDisposed);
  exportFn(env, exports, "liveTensors", LiveTensors);
  exportFn(env, exports, "dataPtr", DataPtr);
  exportFn(env, exports, "grad", Grad);
  exportFn(env, exports, "backward", Backward);
  exportFn(env, exports, "setGradEnabled", SetGradEnabled);
  exportFn(env, exports, "isGradEnabled", IsGradEnabled);
}

}  // namespace batchcam
