// Small helpers over Node-API's C interface: argument unpacking and errors that become JS exceptions.
#pragma once
#include <node_api.h>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace vk {

struct Args {
  napi_env env;
  size_t count = 16;
  napi_value argv[16];
  Args(napi_env e, napi_callback_info info) : env(e) {
    if (napi_get_cb_info(env, info, &count, argv, nullptr, nullptr) != napi_ok) throw std::runtime_error("bad call");
  }
  napi_value at(size_t i) const {
    if (i >= count) throw std::runtime_error("missing argument " + std::to_string(i));
    return argv[i];
  }
  template <typename T>
  T* array(size_t i, size_t* length = nullptr) const {
    napi_typedarray_type type;
    size_t len;
    void* data;
    napi_value buffer;
    size_t offset;
    if (napi_get_typedarray_info(env, at(i), &type, &len, &data, &buffer, &offset) != napi_ok)
      throw std::runtime_error("argument " + std::to_string(i) + " is not a typed array");
    if (length) *length = len;
    return static_cast<T*>(data);
  }
  bool isNull(size_t i) const {
    napi_valuetype t;
    napi_typeof(env, at(i), &t);
    return t == napi_null || t == napi_undefined;
  }
  int64_t integer(size_t i) const {
    int64_t v;
    if (napi_get_value_int64(env, at(i), &v) != napi_ok) throw std::runtime_error("argument " + std::to_string(i) + " is not a number");
    return v;
  }
  double number(size_t i) const {
    double v;
    if (napi_get_value_double(env, at(i), &v) != napi_ok) throw std::runtime_error("argument " + std::to_string(i) + " is not a number");
    return v;
  }
  std::vector<int64_t> ints(size_t i) const {
    size_t len;
    const int32_t* p = array<int32_t>(i, &len);
    return std::vector<int64_t>(p, p + len);
  }
};

using Kernel = void (*)(const Args&);

napi_value wrap(napi_env env, napi_callback_info info, Kernel kernel);

}  // namespace vk

#define VK_EXPORT(name)                                                           \
  static void name##_impl(const vk::Args& args);                                  \
  napi_value name(napi_env env, napi_callback_info info) {                        \
    return vk::wrap(env, info, name##_impl);                                      \
  }                                                                               \
  static void name##_impl(const vk::Args& args)
