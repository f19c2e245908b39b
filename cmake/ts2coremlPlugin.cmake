# ts2coreml_add_plugin(NAME source...) — a ts2coreml plugin: the MODULE library lib<NAME>.so.
#
# C++17, hidden visibility (the plugin exports only its TS2COREML_PLUGIN entry point), and no link
# against libts2coreml.so: the SDK's out-of-line functions are resolved from the host process that
# loads the plugin. Used in-tree (plugins/, tests/plugin/) and by the installed package config.
function(ts2coreml_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "ts2coreml_add_plugin(${name}): no sources given")
  endif()
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE ts2coreml::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    CXX_STANDARD 17
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
