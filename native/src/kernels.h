// Entry points of the addon (one per kernel family); see addon.cc for the exported names.
#pragma once
#include <node_api.h>

napi_value matmul(napi_env, napi_callback_info);
napi_value conv2d(napi_env, napi_callback_info);
napi_value conv2dBackpropInput(napi_env, napi_callback_info);
napi_value conv2dBackpropFilter(napi_env, napi_callback_info);
napi_value binary(napi_env, napi_callback_info);
napi_value unary(napi_env, napi_callback_info);
napi_value transpose(napi_env, napi_callback_info);
napi_value reduce(napi_env, napi_callback_info);
napi_value slice(napi_env, napi_callback_info);
napi_value concat(napi_env, napi_callback_info);
napi_value batchNormTraining(napi_env, napi_callback_info);
napi_value batchNormTrainingGrad(napi_env, napi_callback_info);
napi_value adamStep(napi_env, napi_callback_info);
napi_value reluGrad(napi_env, napi_callback_info);
napi_value lstmForward(napi_env, napi_callback_info);
napi_value lstmBackward(napi_env, napi_callback_info);
napi_value ge2eSimilarity(napi_env, napi_callback_info);
napi_value ge2eSimilarityGrad(napi_env, napi_callback_info);
