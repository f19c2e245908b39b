# The plugin SDK's API version, kept in step with its headers (ctest: sdk_api_version).
#
# sdk/API records TS2COREML_PLUGIN_API_VERSION (sdk/include/ts2coreml/Plugin.h, the one value plugins
# compile in) and a SHA-256 of the SDK headers' declarations: every sdk/include/ts2coreml/*.h by
# name, with `//` comments removed and white space collapsed, so documentation and formatting do
# not count but any declaration does.
#
#   cmake -P cmake/SdkApi.cmake                 check: fails when the headers or the version moved
#                                               without sdk/API, saying what to do
#   cmake -DUPDATE=ON -P cmake/SdkApi.cmake     record the version and hash, after bumping the version
cmake_minimum_required(VERSION 3.16)

get_filename_component(root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(api_file "${root}/sdk/API")
set(plugin_h "${root}/sdk/include/ts2coreml/Plugin.h")
set(update_command "cmake -DUPDATE=ON -P cmake/SdkApi.cmake")

file(STRINGS "${plugin_h}" define REGEX "#define TS2COREML_PLUGIN_API_VERSION ")
if(NOT define MATCHES "VERSION ([0-9]+)")
  message(FATAL_ERROR "${plugin_h}: no '#define TS2COREML_PLUGIN_API_VERSION <number>u'")
endif()
set(version "${CMAKE_MATCH_1}")

file(GLOB headers RELATIVE "${root}/sdk/include" "${root}/sdk/include/ts2coreml/*.h")
list(SORT headers)
set(declarations "")
foreach(header IN LISTS headers)
  file(READ "${root}/sdk/include/${header}" text)
  string(REGEX REPLACE "//[^\n]*" "" text "${text}")
  string(REGEX REPLACE "[ \t\r\n]+" " " text "${text}")
  string(APPEND declarations "${header}:${text}\n")
endforeach()
string(SHA256 hash "${declarations}")

set(recorded_version "")
set(recorded_hash "")
if(EXISTS "${api_file}")
  file(STRINGS "${api_file}" lines)
  foreach(line IN LISTS lines)
    if(line MATCHES "^version ([0-9]+)$")
      set(recorded_version "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^sha256 ([0-9a-f]+)$")
      set(recorded_hash "${CMAKE_MATCH_1}")
    endif()
  endforeach()
endif()

if(UPDATE)
  if(NOT hash STREQUAL recorded_hash AND version STREQUAL recorded_version)
    message(FATAL_ERROR "the SDK headers changed but TS2COREML_PLUGIN_API_VERSION is still ${version}: bump it in "
                        "sdk/include/ts2coreml/Plugin.h (plugins built against ${version} would load), then run "
                        "${update_command} again")
  endif()
  file(WRITE "${api_file}"
       "# The plugin SDK's API version and a SHA-256 of its headers' declarations (cmake/SdkApi.cmake).\n"
       "# Change both together: bump TS2COREML_PLUGIN_API_VERSION in sdk/include/ts2coreml/Plugin.h, then\n"
       "# run ${update_command}\n"
       "version ${version}\n"
       "sha256 ${hash}\n")
  message(STATUS "sdk/API: version ${version}, sha256 ${hash}")
  return()
endif()

if(NOT hash STREQUAL recorded_hash AND version STREQUAL recorded_version)
  message(FATAL_ERROR "the plugin SDK's headers (sdk/include/ts2coreml) changed since API version ${version} was "
                      "recorded in sdk/API, and the version did not: bump TS2COREML_PLUGIN_API_VERSION in "
                      "sdk/include/ts2coreml/Plugin.h, then record the new version and hash with: ${update_command}")
elseif(NOT version STREQUAL recorded_version OR NOT hash STREQUAL recorded_hash)
  message(FATAL_ERROR "TS2COREML_PLUGIN_API_VERSION is ${version} but sdk/API records version "
                      "'${recorded_version}' for other headers: record them with: ${update_command}")
endif()
message(STATUS "plugin SDK API version ${version} matches its headers (sdk/API)")
