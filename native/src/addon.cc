// voxkit's native CPU kernels for TensorFlow.js: OpenBLAS for matrix products, oneDNN for
// convolutions, OpenMP loops for the rest. Every kernel reads and writes the typed arrays it is
// given (tensor memory of the tfjs backend), so nothing is copied on the way in or out.
#include <cblas.h>
#include <omp.h>
#include <dnnl.hpp>
#include "kernels.h"
#include "napi_util.h"

extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads(void);

namespace vk {

napi_value wrap(napi_env env, napi_callback_info info, Kernel kernel) {
  try {
    Args args(env, info);
    kernel(args);
  } catch (const std::exception& e) {
    napi_throw_error(env, "E_NATIVE", e.what());
  } catch (...) {
    napi_throw_error(env, "E_NATIVE", "unknown native error");
  }
  return nullptr;
}

}  // namespace vk

// One pool size for the three thread users (OpenMP loops, OpenBLAS, oneDNN's OpenMP runtime).
static napi_value setThreads(napi_env env, napi_callback_info info) {
  return vk::wrap(env, info, [](const vk::Args& args) {
    int n = static_cast<int>(args.integer(0));
    if (n < 1) throw std::runtime_error("threads must be >= 1");
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
  });
}

static napi_value getThreads(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_int32(env, omp_get_max_threads(), &result);
  return result;
}

static napi_value versions(napi_env env, napi_callback_info) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  const dnnl_version_t* dv = dnnl_version();
  std::string dnnl = std::to_string(dv->major) + "." + std::to_string(dv->minor) + "." + std::to_string(dv->patch);
  napi_create_string_utf8(env, dnnl.c_str(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "onednn", v);
  napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "openblas", v);
  napi_create_int32(env, omp_get_num_procs(), &v);
  napi_set_named_property(env, obj, "processors", v);
  return obj;
}

static napi_value init(napi_env env, napi_value exports) {
  struct Entry {
    const char* name;
    napi_callback fn;
  };
  const Entry entries[] = {
      {"setThreads", setThreads},
      {"getThreads", getThreads},
      {"versions", versions},
      {"matmul", matmul},
      {"conv2d", conv2d},
      {"conv2dBackpropInput", conv2dBackpropInput},
      {"conv2dBackpropFilter", conv2dBackpropFilter},
      {"binary", binary},
      {"unary", unary},
      {"transpose", transpose},
      {"reduce", reduce},
      {"slice", slice},
      {"concat", concat},
      {"batchNormTraining", batchNormTraining},
      {"batchNormTrainingGrad", batchNormTrainingGrad},
      {"adamStep", adamStep},
      {"reluGrad", reluGrad},
      {"lstmForward", lstmForward},
      {"lstmBackward", lstmBackward},
      {"ge2eSimilarity", ge2eSimilarity},
      {"ge2eSimilarityGrad", ge2eSimilarityGrad},
  };
  for (const Entry& e : entries) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
