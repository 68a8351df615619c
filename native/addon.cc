// batchcam native floor: a thin, mechanical N-API binding over libtorch.
// Tensors cross as Napi::External<Box>; every ATen op is reached through the dispatcher's
// boxed entry point, arguments converted by the op's own schema. No method logic lives here.
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/version.h>

#ifdef USE_C10D_GLOO
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef USE_C10D_NCCL
// Only defined by configure.cjs for a CUDA libtorch built with NCCL (and always together with USE_C10D_GLOO).
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <malloc.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

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

Napi::Value wrap(Napi::Env env, at::Tensor t) {
  g_live++;
  auto* b = new Box{std::move(t)};
  return Napi::External<Box>::New(env, b, [](Napi::Env, Box* p) {
    releaseBox(p);
    delete p;
  });
}

Box* boxOf(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a tensor handle");
  return v.As<Napi::External<Box>>().Data();
}

const at::Tensor& tensorOf(const Napi::Value& v, const char* what = "tensor") {
  Box* b = boxOf(v, what);
  if (!b->live) throw Napi::Error::New(v.Env(), std::string(what) + ": tensor was disposed");
  return b->t;
}

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

// ---------------------------------------------------------------------------------- JS -> IValue

std::vector<int64_t> intList(const Napi::Value& v) {
  std::vector<int64_t> out;
  if (v.IsNumber()) {
    out.push_back(v.As<Napi::Number>().Int64Value());
    return out;
  }
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an int list");
  auto a = v.As<Napi::Array>();
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::Number>().Int64Value());
  return out;
}

c10::IValue toIValue(const Napi::Value& v, const c10::TypePtr& type, const std::string& argName) {
  using K = c10::TypeKind;
  switch (type->kind()) {
    case K::OptionalType:
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return toIValue(v, type->castRaw<c10::OptionalType>()->getElementType(), argName);
    case K::TensorType:
      return tensorOf(v, argName.c_str());
    case K::IntType:
    case K::SymIntType:
    case K::ScalarTypeType:
    case K::LayoutType:
    case K::MemoryFormatType:
      if (v.IsBigInt()) {
        bool lossless;
        return v.As<Napi::BigInt>().Int64Value(&lossless);
      }
      return v.As<Napi::Number>().Int64Value();
    case K::FloatType:
      return v.As<Napi::Number>().DoubleValue();
    case K::BoolType:
      return v.As<Napi::Boolean>().Value();
    case K::NumberType:  // Scalar: a JS number is a double, a BigInt an integer
      if (v.IsBigInt()) {
        bool lossless;
        return c10::Scalar(v.As<Napi::BigInt>().Int64Value(&lossless));
      }
      if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
      return c10::Scalar(v.As<Napi::Number>().DoubleValue());
    case K::StringType:
      return v.As<Napi::String>().Utf8Value();
    case K::DeviceObjType:
      return c10::Device(v.As<Napi::String>().Utf8Value());
    case K::ListType: {
      auto elem = type->castRaw<c10::ListType>()->getElementType();
      switch (elem->kind()) {
        case K::IntType:
        case K::SymIntType:
          return intList(v);
        case K::FloatType: {
          auto a = v.As<Napi::Array>();
          std::vector<double> out;
          for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::Number>().DoubleValue());
          return out;
        }
        case K::BoolType: {
          auto a = v.As<Napi::Array>();
          c10::List<bool> out;
          for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::Boolean>().Value());
          return out;
        }
        case K::TensorType: {
          auto a = v.As<Napi::Array>();
          c10::List<at::Tensor> out;
          out.reserve(a.Length());
          for (uint32_t i = 0; i < a.Length(); i++) out.push_back(tensorOf(a.Get(i), argName.c_str()));
          return out;
        }
        case K::OptionalType: {
          auto a = v.As<Napi::Array>();
          c10::List<c10::optional<at::Tensor>> out;
          for (uint32_t i = 0; i < a.Length(); i++) {
            auto e = a.Get(i);
            if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
            else out.push_back(tensorOf(e, argName.c_str()));
          }
          return out;
        }
        default:
          break;
      }
      break;
    }
    default:
      break;
  }
  throw Napi::TypeError::New(v.Env(), "argument '" + argName + "' has unsupported type " + type->str());
}

// ---------------------------------------------------------------------------------- IValue -> JS

Napi::Value fromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return wrap(env, v.toTensor());
  if (v.isTensorList()) {
    auto l = v.toTensorList();
    auto a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); i++) a.Set(i, wrap(env, l.get(i)));
    return a;
  }
  if (v.isTuple()) {
    const auto& el = v.toTupleRef().elements();
    auto a = Napi::Array::New(env, el.size());
    for (size_t i = 0; i < el.size(); i++) a.Set(i, fromIValue(env, el[i]));
    return a;
  }
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isIntList()) {
    auto l = v.toIntVector();
    auto a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); i++) a.Set(i, Napi::Number::New(env, static_cast<double>(l[i])));
    return a;
  }
  throw Napi::TypeError::New(env, std::string("unsupported return type ") + v.tagKind());
}

// ---------------------------------------------------------------------------------- ops

struct Op {
  c10::OperatorHandle handle;
  std::string name;
};

// opHandle(name, overload) -> External<Op>: resolves an ATen schema once.
Napi::Value OpHandle(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto name = info[0].As<Napi::String>().Utf8Value();
    auto overload = info[1].As<Napi::String>().Utf8Value();
    auto h = c10::Dispatcher::singleton().findSchemaOrThrow(name.c_str(), overload.c_str());
    auto* op = new Op{h, name + (overload.empty() ? "" : "." + overload)};
    return Napi::External<Op>::New(info.Env(), op, [](Napi::Env, Op* p) { delete p; });
  });
}

// opSchema(handle) -> string, for error messages and docs.
Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  auto* op = info[0].As<Napi::External<Op>>().Data();
  std::ostringstream s;
  s << op->handle.schema();
  return Napi::String::New(info.Env(), s.str());
}

// call(handle, ...args): positional arguments in schema order; missing trailing ones take defaults.
Napi::Value Call(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto* op = info[0].As<Napi::External<Op>>().Data();
    const auto& schema = op->handle.schema();
    const auto& args = schema.arguments();
    size_t given = info.Length() - 1;
    if (given > args.size())
      throw Napi::TypeError::New(info.Env(), op->name + ": too many arguments");
    torch::jit::Stack stack;
    stack.reserve(args.size());
    for (size_t i = 0; i < args.size(); i++) {
      if (i < given && !info[i + 1].IsUndefined()) {
        stack.push_back(toIValue(info[i + 1], args[i].type(), op->name + "." + args[i].name()));
      } else if (args[i].default_value()) {
        stack.push_back(*args[i].default_value());
      } else {
        throw Napi::TypeError::New(info.Env(), op->name + ": missing argument '" + args[i].name() + "'");
      }
    }
    op->handle.callBoxed(stack);
    if (stack.empty()) return info.Env().Undefined();
    if (stack.size() == 1) return fromIValue(info.Env(), stack[0]);
    auto a = Napi::Array::New(info.Env(), stack.size());
    for (size_t i = 0; i < stack.size(); i++) a.Set(i, fromIValue(info.Env(), stack[i]));
    return a;
  });
}

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


// ---------------------------------------------------------------------------------- c10d (process groups)
// Thin bindings over torch's own distributed engine: a TCPStore rendezvous and a ProcessGroupGloo, addressed from
// JS by a small integer id. Every collective is synchronous (work->wait()) and bounded by the group's timeout, so a
// dead or stuck peer surfaces as a JS exception (via guarded), never a hang.

#ifdef USE_C10D_GLOO
// torch 2 split the collectives off into c10d::Backend (ProcessGroupGloo/NCCL derive from it); 1.13 has ProcessGroup.
#if TORCH_VERSION_MAJOR >= 2
using PgImpl = c10d::Backend;
#else
using PgImpl = c10d::ProcessGroup;
#endif
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<PgImpl> pg;
};
std::vector<std::unique_ptr<Group>> g_groups;

PgImpl& groupById(int64_t id) {
  if (id < 0 || id >= static_cast<int64_t>(g_groups.size()) || !g_groups[id])
    throw std::runtime_error("process group " + std::to_string(id) + " does not exist (destroyed?)");
  return *g_groups[id]->pg;
}

// The group a JS id names; a bad id throws, and guarded() turns that into a JS exception.
PgImpl& groupOf(const Napi::Value& v) { return groupById(v.As<Napi::Number>().Int64Value()); }

void waitWork(const c10::intrusive_ptr<c10d::Work>& w) { w->wait(); }

// The TCPStore rendezvous of pgCreate/pgCreateNccl, from their first five arguments (host, port, rank, worldSize,
// timeoutMs): rank 0 serves it on host:port and waits for every worker.
struct Rendezvous {
  int rank;
  int world;
  std::chrono::milliseconds timeout;
  c10::intrusive_ptr<c10d::TCPStore> store;
};

Rendezvous rendezvous(const Napi::CallbackInfo& info) {
  auto host = info[0].As<Napi::String>().Utf8Value();
  Rendezvous r{info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Int32Value(),
               std::chrono::milliseconds(info[4].As<Napi::Number>().Int64Value()), {}};
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(info[1].As<Napi::Number>().Int32Value());
  so.isServer = r.rank == 0;
  so.numWorkers = r.world;
  so.waitWorkers = true;
  so.timeout = r.timeout;
  r.store = c10::make_intrusive<c10d::TCPStore>(host, so);
  return r;
}

// pgCreate(host, port, rank, worldSize, timeoutMs, deviceHost, deviceInterface) -> id. Rank 0 serves the store.
Napi::Value PgCreate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto devHost = info[5].As<Napi::String>().Utf8Value();
    auto devIf = info[6].As<Napi::String>().Utf8Value();
    auto r = rendezvous(info);
    auto opts = c10d::ProcessGroupGloo::Options::create(r.timeout);
    opts->threads = 1;
    if (!devIf.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(devIf));
    else if (!devHost.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(devHost));
    else opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(r.store, r.rank, r.world, opts);
    g_groups.push_back(std::unique_ptr<Group>(new Group{r.store, pg}));
    return Napi::Number::New(info.Env(), static_cast<double>(g_groups.size() - 1));
  });
}

#ifdef USE_C10D_NCCL
// pgCreateNccl(host, port, rank, worldSize, timeoutMs) -> id: the same TCPStore rendezvous, then a ProcessGroupNCCL
// (collectives on CUDA tensors; each rank uses the device its tensors are on). Blocking wait makes work->wait()
// block the host and throw after the timeout, as Gloo does, instead of only ordering the streams.
Napi::Value PgCreateNccl(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    setenv("NCCL_BLOCKING_WAIT", "1", 0);
    setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
    auto r = rendezvous(info);
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = r.timeout;
    auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(r.store, r.rank, r.world, opts);
    g_groups.push_back(std::unique_ptr<Group>(new Group{r.store, pg}));
    return Napi::Number::New(info.Env(), static_cast<double>(g_groups.size() - 1));
  });
}
#endif

Napi::Value PgDestroy(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto id = info[0].As<Napi::Number>().Int64Value();
    if (id >= 0 && id < static_cast<int64_t>(g_groups.size())) g_groups[id].reset();
    return info.Env().Undefined();
  });
}

// pgBroadcast(id, tensors[], root): in place.
Napi::Value PgBroadcast(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto& pg = groupOf(info[0]);
    auto ts = tensorArray(info[1], "broadcast");
    c10d::BroadcastOptions o;
    o.rootRank = info[2].As<Napi::Number>().Int64Value();
    for (auto& t : ts) {
      std::vector<at::Tensor> one{t};
      waitWork(pg.broadcast(one, o));
    }
    return info.Env().Undefined();
  });
}

// pgAllreduce(id, tensors[]): in-place sum; several tensors of one dtype go as one coalesced collective.
Napi::Value PgAllreduce(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto& pg = groupOf(info[0]);
    auto ts = tensorArray(info[1], "allreduce");
    if (ts.size() == 1) waitWork(pg.allreduce(ts));
    else if (!ts.empty()) waitWork(pg.allreduce_coalesced(ts));
    return info.Env().Undefined();
  });
}

// pgAllgather(id, tensor) -> tensor[worldSize], rank order.
Napi::Value PgAllgather(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto& pg = groupOf(info[0]);
    std::vector<at::Tensor> in{tensorOf(info[1], "allgather").contiguous()};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int i = 0; i < pg.getSize(); i++) out[0].push_back(at::empty_like(in[0]));
    waitWork(pg.allgather(out, in));
    auto a = Napi::Array::New(info.Env(), out[0].size());
    for (size_t i = 0; i < out[0].size(); i++) a.Set(i, wrap(info.Env(), out[0][i]));
    return a;
  });
}

Napi::Value PgBarrier(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    waitWork(groupOf(info[0]).barrier());
    return info.Env().Undefined();
  });
}

// torch.distributed.nn.functional.all_reduce: a sum across ranks whose backward is again that sum.
struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t group) {
    ctx->saved_data["group"] = group;
    std::vector<at::Tensor> t{x.detach().clone().contiguous()};
    waitWork(groupById(group).allreduce(t));
    return t[0];
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list g) {
    return {AllReduceSum::apply(g[0], ctx->saved_data["group"].toInt()), at::Tensor()};
  }
};

// pgAllreduceDiff(id, tensor) -> the differentiable sum across ranks (a new tensor).
Napi::Value PgAllreduceDiff(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    groupOf(info[0]);
    auto id = info[0].As<Napi::Number>().Int64Value();
    return wrap(info.Env(), AllReduceSum::apply(tensorOf(info[1], "allreduceDiff"), id));
  });
}
#endif

Napi::Value C10dAvailable(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
#ifdef USE_C10D_GLOO
  o.Set("gloo", true);
#else
  o.Set("gloo", false);
#endif
#ifdef USE_C10D_NCCL
  o.Set("nccl", true);
#else
  o.Set("nccl", false);
#endif
  return o;
}

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

// glibc hands big activation buffers back to the kernel on every free, so each training step page-faults
// them in again; keep them (same tuning as the PyTorch reference). BATCHCAM_MALLOC=default opts out.
void tuneMalloc() {
  const char* m = std::getenv("BATCHCAM_MALLOC");
  if (m && std::string(m) == "default") return;
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
#define FN(name, f) exports.Set(name, Napi::Function::New(env, f, name))
  FN("opHandle", OpHandle);
  FN("opSchema", OpSchema);
  FN("call", Call);
  FN("fromBuffer", FromBuffer);
  FN("toBuffer", ToBuffer);
  FN("shape", Shape);
  FN("scalarType", ScalarType);
  FN("device", DeviceOf);
  FN("requiresGrad", RequiresGrad);
  FN("setRequiresGrad", SetRequiresGrad);
  FN("isLeaf", IsLeaf);
  FN("gradOf", GradOf);
  FN("setGrad", SetGrad);
  FN("item", Item);
  FN("setData", SetData);
  FN("dispose", Dispose);
  FN("isDisposed", IsDisposed);
  FN("liveTensors", LiveTensors);
  FN("dataPtr", DataPtr);
  FN("grad", Grad);
  FN("backward", Backward);
  FN("setGradEnabled", SetGradEnabled);
  FN("isGradEnabled", IsGradEnabled);
  FN("manualSeed", ManualSeed);
  FN("getRngState", GetRngState);
  FN("setRngState", SetRngState);
  FN("setNumThreads", SetNumThreads);
  FN("getNumThreads", GetNumThreads);
  FN("cudaAvailable", CudaAvailable);
  FN("config", Config);
  FN("c10dBackends", C10dAvailable);
#ifdef USE_C10D_GLOO
  FN("pgCreate", PgCreate);
  FN("pgDestroy", PgDestroy);
  FN("pgBroadcast", PgBroadcast);
  FN("pgAllreduce", PgAllreduce);
  FN("pgAllgather", PgAllgather);
  FN("pgBarrier", PgBarrier);
  FN("pgAllreduceDiff", PgAllreduceDiff);
#endif
#ifdef USE_C10D_NCCL
  FN("pgCreateNccl", PgCreateNccl);
#endif
#undef FN
  return exports;
}

}  // namespace

NODE_API_MODULE(batchcam_native, Init)
