{
  "includes": ["libtorch.gypi"],
  "targets": [
    {
      "target_name": "batchcam_native",
      "sources": ["ops.cc", "tensors.cc", "c10d.cc", "init.cc"],
      "include_dirs": ["<@(torch_include_dirs)"],
      "defines": ["NODE_ADDON_API_CPP_EXCEPTIONS", "_GLIBCXX_USE_CXX11_ABI=<(torch_cxx11_abi)", "<@(torch_defines)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-frtti", "-fexceptions", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": ["<@(torch_libraries)", "-Wl,-rpath,<(torch_lib_dir)"]
    }
  ]
}
