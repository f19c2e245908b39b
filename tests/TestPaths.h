// Where the tests' build puts things (models, the host, plugins, fixtures). The values are compiled
// into TestPaths.cpp alone, so that no other test object depends on where the tree and its build
// are (a compiler cache shares them between checkouts). Included into every test file through the
// precompiled header (tests/CMakeLists.txt).
#pragma once

namespace ts2coreml::testpaths {
extern const char* const testModels;
extern const char* const host;
extern const char* const sourceDir;
extern const char* const binaryDir;
extern const char* const cmakeCommand;
extern const char* const fixtureDir;
extern const char* const customLayerPlugin;
extern const char* const torchvisionPlugin;
extern const char* const sortingPlugin;
}  // namespace ts2coreml::testpaths

#define TS2COREML_TEST_MODELS (::ts2coreml::testpaths::testModels)
#define TS2COREML_BIN (::ts2coreml::testpaths::host)
#define TS2COREML_SOURCE_DIR (::ts2coreml::testpaths::sourceDir)
#define TS2COREML_BINARY_DIR (::ts2coreml::testpaths::binaryDir)
#define TS2COREML_CMAKE_COMMAND (::ts2coreml::testpaths::cmakeCommand)
#define TS2COREML_FIXTURE_DIR (::ts2coreml::testpaths::fixtureDir)
#define TS2COREML_CUSTOM_LAYER_PLUGIN (::ts2coreml::testpaths::customLayerPlugin)
#define TS2COREML_TORCHVISION_PLUGIN (::ts2coreml::testpaths::torchvisionPlugin)
#define TS2COREML_SORTING_PLUGIN (::ts2coreml::testpaths::sortingPlugin)
