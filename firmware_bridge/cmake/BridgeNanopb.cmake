# Generates the nanopb C sources of proto/bridge.proto (bounded by proto/bridge.options) at build
# time. Shared by the main build, the clang fuzz project (fuzz/CMakeLists.txt) and the STM32F405
# cross build (stm32f405/CMakeLists.txt, which also generates the test-only bridge_test.proto).
#
# The files are named <name>.nanopb.{h,c}, not <name>.pb.*: the host protobuf code of the same
# .proto is <name>.pb.h, and the end-to-end tests include both.
#
# nanopb_generate(<out_dir> <proto_dir> <name> <c_var> <h_var>): <proto_dir>/<name>.proto, with
#   <name>.options beside it when there is one.
# bridge_nanopb_generate(<out_dir> <proto_dir> <c_var> <h_var>): bridge.proto.
find_program(NANOPB_GENERATOR NAMES nanopb_generator.py nanopb_generator REQUIRED)

function(nanopb_generate out_dir proto_dir name c_var h_var)
  set(c "${out_dir}/${name}.nanopb.c")
  set(h "${out_dir}/${name}.nanopb.h")
  set(depends "${proto_dir}/${name}.proto")
  if(EXISTS "${proto_dir}/${name}.options")
    list(APPEND depends "${proto_dir}/${name}.options")
  endif()
  add_custom_command(
    OUTPUT "${c}" "${h}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${out_dir}"
    COMMAND ${NANOPB_GENERATOR} -q -e .nanopb -I "${proto_dir}" -D "${out_dir}" "${proto_dir}/${name}.proto"
    DEPENDS ${depends}
    COMMENT "nanopb: ${name}.proto -> ${name}.nanopb.{c,h}"
    VERBATIM)
  set(${c_var} "${c}" PARENT_SCOPE)
  set(${h_var} "${h}" PARENT_SCOPE)
endfunction()

function(bridge_nanopb_generate out_dir proto_dir c_var h_var)
  nanopb_generate("${out_dir}" "${proto_dir}" bridge c h)
  set(${c_var} "${c}" PARENT_SCOPE)
  set(${h_var} "${h}" PARENT_SCOPE)
endfunction()
