// What the addon's files share: tensor handles (a tensor crosses to JS as Napi::External<Box>), the guard that turns
// libtorch exceptions into JS errors, and the registration function each file exports to init.cc.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <exception>
#include <vector>

namespace batchcam {

// ---------------------------------------------------------------------------------- handles (tensors.cc)

// A new JS handle owning t; counted by liveTensors() until disposed or collected.
Napi::Value wrap(Napi::Env env, at::Tensor t);
// The tensor behind a handle; throws a JS error naming `what` for a non-handle or a disposed one.
const at::Tensor& tensorOf(const Napi::Value& v, const char* what = "tensor");
// A JS array of handles (null entries: undefined tensors); null/undefined: an empty list.
std::vector<at::Tensor> tensorArray(const Napi::Value& v, const char* what);

// ---------------------------------------------------------------------------------- JS values (ops.cc)

// A JS number or array of numbers as an int list.
std::vector<int64_t> intList(const Napi::Value& v);

// Runs f, turning libtorch and std exceptions into JS errors carrying their message.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

// ---------------------------------------------------------------------------------- registration (init.cc calls)

using Fn = Napi::Value (*)(const Napi::CallbackInfo&);

inline void exportFn(Napi::Env env, Napi::Object exports, const char* name, Fn f) {
  exports.Set(name, Napi::Function::New(env, f, name));
}

void registerOps(Napi::Env env, Napi::Object exports);      // ops.cc
void registerTensors(Napi::Env env, Napi::Object exports);  // tensors.cc
void registerC10d(Napi::Env env, Napi::Object exports);     // c10d.cc

}  // namespace batchcam
