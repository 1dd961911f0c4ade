{
  "targets": [
    {
      "target_name": "voxkit_native",
      "sources": [
        "src/addon.cc",
        "src/blas.cc",
        "src/conv.cc",
        "src/elementwise.cc",
        "src/layout.cc",
        "src/reduce.cc",
        "src/batch_norm.cc",
        "src/adam.cc",
        "src/lstm.cc",
        "src/ge2e.cc"
      ],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fopenmp", "-fno-math-errno", "-ffp-contract=off", "-fno-trapping-math", "-fexceptions", "-Wall", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-lopenblas", "-ldnnl"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
