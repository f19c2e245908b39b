#include "fuzz/Targets.h"

#include "InputSpec.h"
#include "backend/ModelReader.h"
#include "cli/Commands.h"
#include "composite/Composite.h"
#include "lowerings/Builtins.h"
#include "plugin/PluginLoader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace ts2coreml::fuzz {

namespace {

void require(bool condition, const std::string& what) {
    if (!condition) throw FuzzContractViolation(what);
}

/// A folder of this process's own, emptied for each input (inputs must not see each other's files)
/// and removed at exit.
fs::path freshScratch() {
    struct Scratch {
        fs::path path = fs::temp_directory_path() / ("ts2coreml-fuzz-" + std::to_string(::getpid()));
        ~Scratch() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    };
    static const Scratch root;
    std::error_code ec;
    fs::remove_all(root.path, ec);
    fs::create_directories(root.path);
    return root.path;
}

void writeFile(const fs::path& path, const uint8_t* data, size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    require(out.good(), "cannot write " + path.string());
}

bool startsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

/// Reads the input in pieces; past its end every piece is empty (or zero).
class ByteReader {
public:
    ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool done() const { return at_ == size_; }
    uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
    uint32_t u32() {
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(byte()) << (8 * i);
        return v;
    }
    std::pair<const uint8_t*, size_t> bytes(size_t n) {
        n = std::min(n, size_ - at_);
        const uint8_t* p = data_ + at_;
        at_ += n;
        return {p, n};
    }
    std::pair<const uint8_t*, size_t> rest() { return bytes(size_ - at_); }

private:
    const uint8_t* data_;
    size_t size_;
    size_t at_ = 0;
};

/// Built-ins and the shipped ops.yaml, as the command line's registry starts. A staging registry:
/// schemas that files declare are checked but never declared to LibTorch, whose operator table is
/// process-wide, so that no input changes what the next one sees.
const LoweringRegistry& baseRegistry() {
    static const LoweringRegistry base = [] {
        LoweringRegistry r = LoweringRegistry::staging();
        registerBuiltinLowerings(r);
        if (const std::string shipped = composite::defaultOpsFile(); !shipped.empty()) {
            const auto errors = composite::registerCompositeFiles({shipped}, r);
            require(errors.empty(), "the shipped ops.yaml does not load: " + (errors.empty() ? "" : errors.front()));
        }
        return r;
    }();
    return base;
}

/// Silences std::cout and std::cerr while it lives (the command's own printing is not checked).
class QuietStreams {
public:
    QuietStreams() : out_(std::cout.rdbuf(sink_.rdbuf())), err_(std::cerr.rdbuf(sink_.rdbuf())) {}
    ~QuietStreams() {
        std::cout.rdbuf(out_);
        std::cerr.rdbuf(err_);
    }
    QuietStreams(const QuietStreams&) = delete;
    QuietStreams& operator=(const QuietStreams&) = delete;
    std::string text() const { return sink_.str(); }

private:
    std::ostringstream sink_;
    std::streambuf* out_;
    std::streambuf* err_;
};

const char* const kManifest = R"({
  "fileFormatVersion": "1.0.0",
  "itemInfoEntries": {
    "A1": {"author": "fuzz", "description": "model", "name": "model.mlmodel", "path": "com.apple.CoreML/model.mlmodel"}
  },
  "rootModelIdentifier": "A1"
})";

}  // namespace

int fuzzYaml(const uint8_t* data, size_t size) {
    const fs::path file = freshScratch() / "ops.yaml";
    writeFile(file, data, size);
    LoweringRegistry registry = baseRegistry();
    for (const std::string& e : composite::registerCompositeFiles({file.string()}, registry))
        require(startsWith(e, file.string() + ":") && e.find(": error: ") != std::string::npos,
                "a composite-file problem that does not name the file: " + e);
    return 0;
}

int fuzzModel(const uint8_t* data, size_t size) {
    ByteReader in(data, size);
    const fs::path dir = freshScratch();
    fs::path model;
    switch (in.byte() % 3) {
        case 0: {  // an .mlmodel: the rest
            model = dir / "m.mlmodel";
            const auto [p, n] = in.rest();
            writeFile(model, p, n);
            break;
        }
        case 1: {  // an .mlpackage: a u32 length, the model spec, then weights/weight.bin
            model = dir / "m.mlpackage";
            const fs::path coreml = model / "Data" / "com.apple.CoreML";
            fs::create_directories(coreml / "weights");
            writeFile(model / "Manifest.json", reinterpret_cast<const uint8_t*>(kManifest), std::strlen(kManifest));
            const auto [spec, specSize] = in.bytes(in.u32());
            writeFile(coreml / "model.mlmodel", spec, specSize);
            const auto [weights, weightSize] = in.rest();
            writeFile(coreml / "weights" / "weight.bin", weights, weightSize);
            break;
        }
        default: {  // an .mlpackage: a u32 length, Manifest.json, then the model spec
            model = dir / "m.mlpackage";
            const fs::path coreml = model / "Data" / "com.apple.CoreML";
            fs::create_directories(coreml);
            const auto [manifest, manifestSize] = in.bytes(in.u32());
            writeFile(model / "Manifest.json", manifest, manifestSize);
            const auto [spec, specSize] = in.rest();
            writeFile(coreml / "model.mlmodel", spec, specSize);
            break;
        }
    }
    // What verify reads: any failure is a ModelReadError naming a file of the model.
    try {
        backend::readModel(model.string());
    } catch (const backend::ModelReadError& e) {
        require(startsWith(e.what(), model.string()),
                std::string("a read error that names no file of the model: ") + e.what());
    } catch (const std::exception& e) {
        throw FuzzContractViolation(std::string("reading threw something other than a ModelReadError: ") + e.what());
    }
    // What inspect prints from it.
    int code = 0;
    {
        QuietStreams quiet;
        code = cli::inspectCommand({model.string()});
    }
    require(code == 0 || code == 2, "inspect exited " + std::to_string(code));
    return 0;
}

int fuzzInputSpec(const uint8_t* data, size_t size) {
    const std::string spec(reinterpret_cast<const char*>(data), size);
    const auto checkInput = [&](const ModelInput& in, const char* flag) {
        require(!in.name.empty(), std::string(flag) + " accepted an empty name: " + spec);
        require(!in.type.shape.empty(), std::string(flag) + " accepted no dimensions: " + spec);
        for (const Dim& d : in.type.shape)
            require(d.isStatic() ? d.size >= 0 : d.lower >= 0 && (d.upper < 0 || d.upper >= d.lower),
                    std::string(flag) + " accepted a bad dimension: " + spec);
        (void)in.type.str();
    };
    try {
        checkInput(parseInputSpec(spec), "--input");
    } catch (const std::invalid_argument& e) {
        require(startsWith(e.what(), "--input '"), std::string("an --input error that does not name it: ") + e.what());
    }
    try {
        const auto [in, image] = parseImageSpec(spec);
        checkInput(in, "--image");
        require(image.bias.size() == (image.layout == ColorLayout::Grayscale ? 1u : 3u), "--image bias count: " + spec);
    } catch (const std::invalid_argument& e) {
        require(startsWith(e.what(), "--image '") || startsWith(e.what(), "--input '"),
                std::string("an --image error that does not name it: ") + e.what());
    }
    return 0;
}

int fuzzPluginDirectory(const uint8_t* data, size_t size) {
    ByteReader in(data, size);
    const fs::path dir = freshScratch() / "plugins";
    fs::create_directories(dir);
    std::vector<fs::path> made;
    std::vector<std::string> searchPath = {dir.string()};
    // Each entry: a kind byte, a name (a length byte, then bytes), and what the kind needs.
    for (int count = 0; !in.done() && count < 16; ++count) {
        const uint8_t kind = in.byte();
        std::string name;
        const auto [namePtr, nameSize] = in.bytes(in.byte() % 24);
        for (size_t i = 0; i < nameSize; ++i)
            if (namePtr[i] != '/' && namePtr[i] != '\0') name += static_cast<char>(namePtr[i]);
        if (name.empty() || name == "." || name == "..") name = "e" + std::to_string(count);
        if (in.byte() % 2) name += ".so";
        // Inside the folder made last (discovery is not recursive), or in the plugin folder.
        fs::path parent = dir;
        if (kind & 0x80) {
            for (auto it = made.rbegin(); it != made.rend(); ++it)
                if (fs::is_directory(fs::symlink_status(*it))) {
                    parent = *it;
                    break;
                }
        }
        const fs::path path = parent / name;
        std::error_code ec;
        if (fs::exists(fs::symlink_status(path, ec))) continue;
        switch (kind % 8) {
            case 0: {  // a file that is not a library
                std::string text = "#";
                const auto [p, n] = in.bytes(in.byte());
                text.append(reinterpret_cast<const char*>(p), n);
                writeFile(path, reinterpret_cast<const uint8_t*>(text.data()), text.size());
                break;
            }
            case 1: {  // an ELF header and nothing a loader can map
                const uint8_t elf[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
                writeFile(path, elf, in.byte() % (sizeof elf + 1));
                break;
            }
            case 2: fs::create_directory(path, ec); break;
            case 3:  // a link to an entry made before (or to the folder itself)
                fs::create_symlink(made.empty() ? dir : made[in.byte() % made.size()], path, ec);
                break;
            case 4: fs::create_symlink(dir / "missing", path, ec); break;
            case 5: fs::create_symlink(path, path, ec); break;  // a loop
            case 6: ::mkfifo(path.c_str(), 0600); break;
            default:  // named on the search path itself
                searchPath.push_back(made.empty() ? (dir / name).string() : made[in.byte() % made.size()].string());
                continue;
        }
        made.push_back(path);
    }
    LoweringRegistry registry = LoweringRegistry::staging();
    const PluginLoadReport report = loadPlugins(searchPath, registry);
    require(report.loaded.empty(),
            "a plugin loaded from fuzz data: " + (report.loaded.empty() ? std::string() : report.loaded.front().file));
    for (const PluginRejection& r : report.rejected)
        require(!r.file.empty() && !r.reason.empty() && r.reason.find('\n') == std::string::npos,
                "a rejection that is not one line naming the file: " + r.str());
    return 0;
}

}  // namespace ts2coreml::fuzz
