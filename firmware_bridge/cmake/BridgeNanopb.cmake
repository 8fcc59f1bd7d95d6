# Generates the nanopb C sources of proto/bridge.proto (bounded by proto/bridge.options) at build
# time. Shared by the main build and the clang fuzz project (fuzz/CMakeLists.txt).
#
# The files are named bridge.nanopb.{h,c}, not bridge.pb.*: the host protobuf code of the same
# .proto is bridge.pb.h, and the end-to-end tests include both.
#
# bridge_nanopb_generate(<out_dir> <proto_dir> <c_var> <h_var>)
find_program(NANOPB_GENERATOR NAMES nanopb_generator.py nanopb_generator REQUIRED)

function(bridge_nanopb_generate out_dir proto_dir c_var h_var)
  set(c "${out_dir}/bridge.nanopb.c")
  set(h "${out_dir}/bridge.nanopb.h")
  add_custom_command(
    OUTPUT "${c}" "${h}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${out_dir}"
    COMMAND ${NANOPB_GENERATOR} -q -e .nanopb -I "${proto_dir}" -D "${out_dir}" "${proto_dir}/bridge.proto"
    DEPENDS "${proto_dir}/bridge.proto" "${proto_dir}/bridge.options"
    COMMENT "nanopb: bridge.proto -> bridge.nanopb.{c,h}"
    VERBATIM)
  set(${c_var} "${c}" PARENT_SCOPE)
  set(${h_var} "${h}" PARENT_SCOPE)
endfunction()
