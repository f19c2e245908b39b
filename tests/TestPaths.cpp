#include "TestPaths.h"

namespace ts2coreml::testpaths {
const char* const testModels = TS2COREML_PATH_TEST_MODELS;
const char* const host = TS2COREML_PATH_BIN;
const char* const sourceDir = TS2COREML_PATH_SOURCE_DIR;
const char* const binaryDir = TS2COREML_PATH_BINARY_DIR;
const char* const cmakeCommand = TS2COREML_PATH_CMAKE_COMMAND;
const char* const fixtureDir = TS2COREML_PATH_FIXTURE_DIR;
const char* const customLayerPlugin = TS2COREML_PATH_CUSTOM_LAYER_PLUGIN;
const char* const torchvisionPlugin = TS2COREML_PATH_TORCHVISION_PLUGIN;
const char* const sortingPlugin = TS2COREML_PATH_SORTING_PLUGIN;
}  // namespace ts2coreml::testpaths
