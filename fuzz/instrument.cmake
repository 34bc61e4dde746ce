# Included by the top-level CMakeLists.txt when GANTRY_BUILD_FUZZ is ON, before the libraries are defined:
# everything in the build gets libFuzzer's coverage instrumentation and ASan + UBSan, so the libraries under
# test report coverage and errors as well as the fuzz targets. fuzz/CMakeLists.txt links the targets with
# libFuzzer itself. scripts/fuzz configures such a build; see fuzz/README.md.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "GANTRY_BUILD_FUZZ needs clang and its libFuzzer runtime (Debian: clang-14 libclang-rt-14-dev); "
                      "configure with -DCMAKE_CXX_COMPILER=clang++-14, as scripts/fuzz does")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                    -fno-sanitize-recover=undefined)
add_link_options(-fsanitize=address,undefined)
