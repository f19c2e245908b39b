// Which way the host's modules include each other, for the registry and the plugin SDK: plugin ->
// registry -> lowerings, never back; the SDK's public headers include only each other and the
// standard library; the built-in lowerings see only the SDK, as a plugin does.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// "file:line: #include X" for every include of the files in `dir` that matches `pattern`.
std::vector<std::string> includesMatching(const std::string& dir, const std::regex& pattern) {
    std::vector<std::string> found;
    const std::regex include(R"(^\s*#\s*include\s*([<"][^>"]+[>"]))");
    for (const auto& entry : fs::directory_iterator(fs::path(TS2COREML_SOURCE_DIR) / dir)) {
        std::ifstream in(entry.path());
        std::string line;
        for (int n = 1; std::getline(in, line); ++n) {
            std::smatch m;
            if (std::regex_search(line, m, include) && std::regex_search(m[1].str(), pattern))
                found.push_back(dir + "/" + entry.path().filename().string() + ":" + std::to_string(n) + ": " + line);
        }
    }
    return found;
}

}  // namespace

TEST_CASE("core/registry does not include core/plugin (plugin -> registry only)") {
    CHECK(includesMatching("core/registry", std::regex(R"(^"plugin/)")) == std::vector<std::string>{});
}

TEST_CASE("core/lowerings includes neither core/registry nor core/plugin, only the SDK and itself") {
    CHECK(includesMatching("core/lowerings", std::regex(R"(^"(?!lowerings/))")) == std::vector<std::string>{});
}

TEST_CASE("The SDK's public headers include only each other and the standard library") {
    CHECK(includesMatching("sdk/include/ts2coreml", std::regex(R"(^"|^<(?!ts2coreml/)[^>]*/)")) ==
          std::vector<std::string>{});
}
