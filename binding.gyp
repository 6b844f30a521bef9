{
  # CUDA kernels are compiled by nvcc through a rule; when no toolkit is found
  # (scripts/cuda-home.cjs prints nothing) the addon is built from no_cuda.cc instead.
  "variables": {
    "cuda_home%": "<!(node scripts/cuda-home.cjs)",
    "gencodes": "sm_80,sm_90,compute_90"
  },
  "targets": [
    {
      "target_name": "kvbench",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/convert.cc",
        "native/addon/store_handle.cc",
        "native/core/pci_link.cc",
        "native/core/backends/backend_bench.cc",
        "native/core/backends/open_store.cc",
        "native/core/backends/store_io.cc",
        "native/core/backends/store.cc",
        "native/core/backends/file_store.cc",
        "native/core/backends/host_store.cc",
        "native/core/backends/plugin_store.cc",
        "native/core/backends/redis_store.cc",
        "native/core/backends/tls.cc"
      ],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-ldl"],
      "conditions": [
        ["cuda_home==''", {
          "sources": ["native/core/no_cuda.cc"]
        }, {
          "sources": [
            "native/core/cublas_loader.cc",
            "native/core/connector.cu",
            "native/core/copy.cu",
            "native/core/device_info.cu",
            "native/core/forward.cu",
            "native/core/host_noise.cc",
            "native/core/host_pool.cu",
            "native/core/link_reference.cu",
            "native/core/kv_kernels.cu",
            "native/core/measure.cu",
            "native/core/pattern.cu",
            "native/core/probes/stream_probes.cu",
            "native/core/save_load.cu",
            "native/core/store_tier.cc"
          ],
          "include_dirs": ["<(cuda_home)/include"],
          "defines": ["KVBENCH_WITH_CUDA=1", "KVBENCH_GENCODES=\"<(gencodes)\""],
          "libraries": ["<(cuda_home)/lib64/libcudart_static.a", "-lrt", "-lpthread"],
          "rules": [
            {
              "rule_name": "nvcc",
              "extension": "cu",
              "inputs": ["<(RULE_INPUT_PATH)"],
              "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"],
              "action": [
                "<(cuda_home)/bin/nvcc", "-std=c++17", "-O3", "-Xcompiler", "-fPIC", "-Xcompiler", "-fexceptions",
                "-gencode=arch=compute_80,code=sm_80",
                "-gencode=arch=compute_90,code=sm_90",
                "-gencode=arch=compute_90,code=compute_90",
                "-DKVBENCH_WITH_CUDA=1", "-DKVBENCH_GENCODES=\"<(gencodes)\"",
                "-c", "<(RULE_INPUT_PATH)", "-o", "<@(_outputs)"
              ],
              "message": "nvcc <(RULE_INPUT_PATH)",
              "process_outputs_as_sources": 1
            }
          ]
        }]
      ]
    }
  ]
}
