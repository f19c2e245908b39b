// The layering of core/, read from the includes of every file: dependencies point one way
//
//   cli, python -> verify, converter (core/*.cpp) -> frontend, composite, plugin -> registry
//     -> lowerings -> passes, backend/*, runtime -> mil -> proto classes
//
// and each directory may include only the directories listed for it below (and the SDK, the
// generated proto classes and third-party headers). A new include across the layering fails here,
// naming the file, the line and the rule.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

// Directory of core/ -> the directories of core/ its files may include ("" is core/ itself: the
// converter and input specs).
const std::map<std::string, std::set<std::string>>& allowed() {
    static const std::map<std::string, std::set<std::string>> rules = {
        {"mil", {"mil"}},
        {"passes", {"passes", "mil"}},
        {"runtime", {"runtime", "mil"}},
        {"backend", {"backend", "runtime", "mil"}},
        {"lowerings", {"lowerings", "mil"}},
        {"registry", {"registry", "lowerings", "mil"}},
        {"composite", {"composite", "registry", "mil"}},
        {"plugin", {"plugin", "registry", "mil"}},
        {"frontend", {"frontend", "registry", "passes", "mil"}},
        {"verify", {"verify", "frontend", "registry", "backend", "runtime", "passes", "mil"}},
        {"", {"", "frontend", "composite", "plugin", "registry", "backend", "passes", "mil"}},
        {"cli",
         {"cli", "", "verify", "frontend", "composite", "plugin", "registry", "backend", "runtime", "passes", "mil"}},
    };
    return rules;
}

}  // namespace

TEST_CASE("core/ includes follow the layering") {
    const fs::path core = fs::path(TS2COREML_SOURCE_DIR) / "core";
    const std::regex include(R"re(^\s*#\s*include\s+"([^"]+)")re");
    size_t files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(core)) {
        if (!entry.is_regular_file()) continue;
        const auto ext = entry.path().extension();
        if (ext != ".cpp" && ext != ".h") continue;
        const fs::path rel = fs::relative(entry.path(), core);
        const std::string dir = rel.has_parent_path() ? rel.begin()->string() : "";
        auto rule = allowed().find(dir);
        REQUIRE_MESSAGE(rule != allowed().end(), "core/" << dir << " has no layering rule in tests/LayeringTest.cpp");
        ++files;
        std::ifstream in(entry.path());
        std::string line;
        for (int n = 1; std::getline(in, line); ++n) {
            std::smatch m;
            if (!std::regex_search(line, m, include)) continue;
            const fs::path target = m[1].str();
            // Headers of core/ are included by their path from core/: "mil/Families.h", "Converter.h".
            if (!fs::exists(core / target)) continue;  // proto classes, third-party, tests
            const std::string targetDir = target.has_parent_path() ? target.begin()->string() : "";
            CHECK_MESSAGE(rule->second.count(targetDir),
                          "core/" << rel.string() << ":" << n << " includes \"" << target.string() << "\": core/"
                                  << (dir.empty() ? "" : dir + "/") << " may not depend on core/" << targetDir);
        }
    }
    CHECK(files > 100);
}
