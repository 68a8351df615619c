// Operators: every ATen op reached through the dispatcher's boxed entry point, its arguments converted from JS by
// the op's own schema and its results back. No method logic lives here.
#include "addon.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/ivalue.h>

#include <sstream>
#include <string>
#include <vector>

namespace batchcam {

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

namespace {

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

}  // namespace

void registerOps(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "opHandle", OpHandle);
  exportFn(env, exports, "opSchema", OpSchema);
  exportFn(env, exports, "call", Call);
}

}  // namespace batchcam
