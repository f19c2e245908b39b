#include "frontend/Checkpoint.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/serialization/storage_context.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <unzip.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <tuple>

namespace ts2coreml {

namespace {

/// Lists every entry through zlib's minizip and, with `readData`, reads each, which checks its bytes
/// against the CRC-32 of the central directory once the entry is read to its end. Returns each
/// record's size (as the central directory gives it, uncompressed), keyed without the archive's top
/// folder ("data/0"), as PyTorchStreamReader names records.
std::map<std::string, uint64_t> readEntries(unzFile zip, bool readData, std::string& archive,
                                            std::vector<std::string>& problems) {
    std::map<std::string, uint64_t> records;
    std::vector<char> buffer(1 << 20);
    std::vector<char> name(4096);
    for (int rc = unzGoToFirstFile(zip); rc == UNZ_OK; rc = unzGoToNextFile(zip)) {
        unz_file_info64 info{};
        if (unzGetCurrentFileInfo64(zip, &info, name.data(), static_cast<uLong>(name.size()), nullptr, 0, nullptr, 0) !=
            UNZ_OK)
            break;
        const std::string entry = name.data();
        const size_t slash = entry.find('/');
        if (archive.empty() && slash != std::string::npos) archive = entry.substr(0, slash);
        const std::string key = slash == std::string::npos ? entry : entry.substr(slash + 1);
        records[key] = info.uncompressed_size;
        if (!readData) continue;
        if (unzOpenCurrentFile(zip) != UNZ_OK) {
            problems.push_back("record '" + entry + "' cannot be read (unsupported compression or a damaged header)");
            continue;
        }
        int got = 0;
        while ((got = unzReadCurrentFile(zip, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0) {}
        const int closed = unzCloseCurrentFile(zip);
        if (got < 0)
            problems.push_back("record '" + entry + "' cannot be read: its data ends early or does not decompress");
        else if (closed == UNZ_CRCERROR)
            problems.push_back("record '" + entry +
                               "': CRC-32 mismatch: its bytes are not those the zip's central directory checksums "
                               "(the file is damaged)");
    }
    return records;
}

/// Elements a tensor view reads from its storage: offset + sum((size - 1) * stride) + 1.
int64_t extentOf(const at::Tensor& t) {
    if (t.numel() == 0) return 0;
    int64_t last = t.storage_offset();
    for (int64_t d = 0; d < t.dim(); ++d) last += (t.size(d) - 1) * t.stride(d);
    return last + 1;
}

/// For each storage key of `archive`.pkl (whose records are `archive`/KEY), the bytes it needs:
/// the declared element count times the element size, or more where a tensor view reaches beyond.
/// Reads the pickle with LibTorch's own unpickler, but none of the tensor records: each storage is
/// made without data, and objects are left empty (only their tensors matter here).
std::map<std::string, uint64_t> storageNeeds(caffe2::serialize::PyTorchStreamReader& reader,
                                             const std::string& archive) {
    std::map<std::string, uint64_t> needs;
    if (!reader.hasRecord(archive + ".pkl")) return needs;
    at::DataPtr pickle;
    size_t pickleSize = 0;
    std::tie(pickle, pickleSize) = reader.getRecord(archive + ".pkl");
    const char* bytes = static_cast<const char*>(pickle.get());
    size_t position = 0;
    auto readBytes = [&](char* out, size_t n) {
        n = std::min(n, pickleSize - position);
        std::memcpy(out, bytes + position, n);
        position += n;
        return n;
    };
    std::vector<std::string> keys;
    auto readRecord = [&](const std::string& key) {
        keys.push_back(key);
        return at::DataPtr(nullptr, at::Device(at::kCPU));
    };
    auto unit = std::make_shared<torch::jit::CompilationUnit>();
    auto resolveType = [&](const c10::QualifiedName& name) {
        c10::ClassTypePtr type = unit->get_class(name);
        if (!type) {
            type = c10::ClassType::create(name, unit);
            unit->register_type(type);
        }
        return c10::StrongTypePtr(unit, type);
    };
    std::map<const c10::StorageImpl*, int64_t> viewBytes;
    auto noteViews = [&](const c10::IValue& value) {
        value.visit([&](const c10::IValue& v) {
            if (v.isTensor()) {
                const at::Tensor& t = v.toTensor();
                int64_t& bytes = viewBytes[t.storage().unsafeGetStorageImpl()];
                bytes = std::max(bytes, extentOf(t) * static_cast<int64_t>(t.element_size()));
            }
            return false;
        });
    };
    auto loadObject = [&](const c10::StrongTypePtr& type, const c10::IValue& state) {
        noteViews(state);
        return c10::ivalue::Object::create(type, 0);
    };
    auto storages = std::make_shared<torch::jit::DeserializationStorageContext>();
    torch::jit::Unpickler unpickler(readBytes, resolveType, loadObject, readRecord, at::Device(at::kCPU), false,
                                    torch::jit::Unpickler::defaultTypeParser, storages);
    noteViews(unpickler.parse_ivalue());
    for (const std::string& key : keys) {
        const c10::Storage storage = storages->getStorage(key);
        const auto view = viewBytes.find(storage.unsafeGetStorageImpl());
        needs[archive + "/" + key] = std::max<uint64_t>(
            storage.nbytes(), view == viewBytes.end() ? 0 : static_cast<uint64_t>(std::max<int64_t>(view->second, 0)));
    }
    return needs;
}

}  // namespace

std::vector<std::string> checkpointCrcProblems(const std::string& path) {
    std::vector<std::string> problems;
    unzFile zip = unzOpen64(path.c_str());
    if (!zip) return problems;
    std::string archive;
    readEntries(zip, true, archive, problems);
    unzClose(zip);
    return problems;
}

std::vector<std::string> checkpointSizeProblems(const std::string& path) {
    std::vector<std::string> problems;
    unzFile zip = unzOpen64(path.c_str());
    if (!zip) return problems;
    std::string archive;
    const std::map<std::string, uint64_t> records = readEntries(zip, false, archive, problems);
    unzClose(zip);

    std::map<std::string, uint64_t> needs;
    try {
        caffe2::serialize::PyTorchStreamReader reader(path);
        for (const char* pickle : {"data", "constants"})
            for (auto& [record, bytes] : storageNeeds(reader, pickle)) needs[record] = bytes;
    } catch (const std::exception&) {
        // A pickle LibTorch cannot read: its own load reports that, with its reason.
        return problems;
    }
    const std::string prefix = archive.empty() ? "" : archive + "/";
    for (const auto& [record, bytes] : needs) {
        const auto found = records.find(record);
        if (found == records.end())
            problems.push_back("record '" + prefix + record + "' is missing: the model's tensors need " +
                               std::to_string(bytes) + " bytes from it");
        else if (found->second < bytes)
            problems.push_back("record '" + prefix + record + "' is short: it holds " + std::to_string(found->second) +
                               " bytes, and its tensor storage needs " + std::to_string(bytes) +
                               " (the file is truncated or damaged)");
    }
    return problems;
}

}  // namespace ts2coreml
