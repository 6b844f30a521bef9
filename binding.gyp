{
  # The sources are listed once, in native/sources.txt (native/Makefile reads it too).
  # CUDA kernels are compiled by nvcc through a rule; when no toolkit is found
  # (scripts/cuda-home.cjs prints nothing) the addon is built from no_cuda.cc instead.
  "variables": {
    "cuda_home%": "<!(node scripts/cuda-home.cjs)",
    "gencodes": "sm_80,sm_90,compute_90"
  },
  "targets": [
    {
      "target_name": "kvbench",
      "sources": ["<!@(node scripts/native-sources.cjs addon host backends loaders)"],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "KVBENCH_ADDON_ABI=<!(node scripts/addon-abi.cjs)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-ldl"],
      "conditions": [
        ["cuda_home==''", {
          "sources": ["<!@(node scripts/native-sources.cjs nocuda)"]
        }, {
          "sources": ["<!@(node scripts/native-sources.cjs cuda pick workers tier)"],
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
