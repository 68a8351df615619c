// c10d (process groups): the only file that needs torch's distributed headers. What it binds depends on the build
// (native/configure.cjs): USE_C10D_GLOO, the TCPStore and Gloo process group; USE_C10D_NCCL (a CUDA libtorch with
// NCCL, always together with Gloo), an NCCL one as well. c10dBackends() tells JS which.
#include "addon.h"

#include <ATen/ATen.h>
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

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace batchcam {

namespace {

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
// (collectives on CUDA tensors; each rank uses the device its tensors are on). src/torch/process-group.ts sets
// NCCL_BLOCKING_WAIT before calling, so that work->wait() blocks the host and throws after the timeout, as Gloo's
// does, instead of only ordering the streams.
Napi::Value PgCreateNccl(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
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

}  // namespace

void registerC10d(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "c10dBackends", C10dAvailable);
#ifdef USE_C10D_GLOO
  exportFn(env, exports, "pgCreate", PgCreate);
  exportFn(env, exports, "pgDestroy", PgDestroy);
  exportFn(env, exports, "pgBroadcast", PgBroadcast);
  exportFn(env, exports, "pgAllreduce", PgAllreduce);
  exportFn(env, exports, "pgAllgather", PgAllgather);
  exportFn(env, exports, "pgBarrier", PgBarrier);
  exportFn(env, exports, "pgAllreduceDiff", PgAllreduceDiff);
#endif
#ifdef USE_C10D_NCCL
  exportFn(env, exports, "pgCreateNccl", PgCreateNccl);
#endif
}

}  // namespace batchcam
