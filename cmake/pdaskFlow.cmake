# pdask_add_flow(NAME SOURCES...): build a flow as the loadable module
# NAME.so that pdask-mpi runs, as `cc -shared -fPIC` would: GNU C
# (C_EXTENSIONS ON) so POSIX names are there, and no pdask library to link:
# a flow resolves pd_* against pdask-mpi when it is loaded. Used by this
# project's own build and, installed, by pdaskConfig.cmake.
function(pdask_add_flow name)
  if(NOT CMAKE_C_COMPILER_LOADED)
    message(FATAL_ERROR "pdask_add_flow(${name}): flows are C; enable it "
            "with project(... LANGUAGES C) or enable_language(C)")
  endif()
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES PREFIX "" C_EXTENSIONS ON)
  target_link_libraries(${name} PRIVATE pdask::pdask)
endfunction()
