// The fuzz targets' corpora (tests/fuzz/corpus/TARGET: the seeds and the inputs of every crash found and
// fixed), replayed through the targets' own entry points (tests/fuzz/Targets.cpp) without libFuzzer:
// each input must end as the command line expects, with a diagnostic or an exception of the kind it
// catches, naming the input (FuzzContractViolation otherwise). In the sanitizer build (tests/sanitize.sh)
// the replay also runs under ASan and UBSan.
#include "backend/ModelReader.h"
#include "fuzz/Targets.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using Entry = int (*)(const uint8_t*, size_t);

/// Replays every file of the target's corpus; returns how many there were.
size_t replay(const std::string& target, Entry entry) {
    const fs::path dir = fs::path(TS2COREML_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / target;
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(dir))
        if (f.is_regular_file()) files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
        std::ifstream in(file, std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        INFO("corpus input ", file.string());
        int result = -1;
        CHECK_NOTHROW(result = entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
        CHECK(result == 0);
    }
    return files.size();
}

}  // namespace

TEST_CASE("fuzz corpus replay: composite-op YAML files") { CHECK(replay("yaml", ts2coreml::fuzz::fuzzYaml) >= 5); }

TEST_CASE("fuzz corpus replay: .mlmodel and .mlpackage files read as inspect and verify read them") {
    CHECK(replay("model", ts2coreml::fuzz::fuzzModel) >= 5);
}

TEST_CASE("fuzz corpus replay: --input and --image values") {
    CHECK(replay("input_spec", ts2coreml::fuzz::fuzzInputSpec) >= 5);
}

TEST_CASE("fuzz corpus replay: plugin folders of files, folders, links and FIFOs") {
    CHECK(replay("plugin_directory", ts2coreml::fuzz::fuzzPluginDirectory) >= 5);
}

TEST_CASE("A model whose names are not UTF-8 is refused in one error that says so, not in protobuf's log") {
    const fs::path input = fs::path(TS2COREML_SOURCE_DIR) / "tests/fuzz/corpus/model/regress_invalid_utf8_nn";
    std::ifstream in(input, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > 1);
    const fs::path model = fs::temp_directory_path() / ("utf8-" + std::to_string(::getpid()) + ".mlmodel");
    std::ofstream(model, std::ios::binary).write(bytes.data() + 1, static_cast<std::streamsize>(bytes.size() - 1));
    std::string message;
    try {
        ts2coreml::backend::readModel(model.string());
    } catch (const ts2coreml::backend::ModelReadError& e) {
        message = e.what();
    }
    fs::remove(model);
    CHECK(message.rfind(model.string() + ": not a Core ML model: the protobuf does not parse (", 0) == 0);
    CHECK(message.find("invalid UTF-8") != std::string::npos);
}
