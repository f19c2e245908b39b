#include "backend/mlprogram/BlobStorage.h"

#include "backend/ReadError.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace ts2coreml::backend {

namespace blob {

std::string dataTypeName(uint32_t code) {
    static const char* names[] = {nullptr, "fp16",   "fp32",  "uint8",  "int8",      "bfloat16",
                                  "int16", "uint16", "int4",  "uint1",  "uint2",     "uint4",
                                  "uint3", "uint6",  "int32", "uint32", "fp8e4m3fn", "fp8e5m2"};
    if (code >= 1 && code < sizeof(names) / sizeof(names[0])) return names[code];
    return "unknown code " + std::to_string(code);
}

std::optional<DataType> dataTypeFor(DType dtype) {
    switch (dtype) {
        case DType::Float16: return DataType::Float16;
        case DType::Float32: return DataType::Float32;
        case DType::UInt8: return DataType::UInt8;
        case DType::Int8: return DataType::Int8;
        case DType::Int16: return DataType::Int16;
        case DType::Int32: return DataType::Int32;
        default: return std::nullopt;
    }
}

}  // namespace blob

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw ModelReadError(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw ModelReadError(path, std::string("cannot stat: ") + std::strerror(err));
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    const uint8_t* data = nullptr;
    if (size > 0) {
        void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw ModelReadError(path, std::string("cannot map: ") + std::strerror(err));
        }
        data = static_cast<const uint8_t*>(p);
    }
    ::close(fd);  // the mapping stays valid without the descriptor
    return std::shared_ptr<const MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

BlobStorageReader::BlobStorageReader(const std::string& path) : file_(MappedFile::open(path)) {
    if (file_->size() < sizeof(blob::StorageHeader))
        throw ModelReadError(path, "weight file of " + std::to_string(file_->size()) +
                                       " bytes is too small for the 64-byte blob storage header");
    std::memcpy(&header_, file_->data(), sizeof(header_));
    if (header_.version != blob::kVersion)
        throw ModelReadError(path, "blob storage version " + std::to_string(header_.version) +
                                       " is not supported (expected " + std::to_string(blob::kVersion) + ")");
}

namespace {
std::string hex(uint64_t v) {
    std::ostringstream os;
    os << "0x" << std::hex << std::uppercase << v;
    return os.str();
}
}  // namespace

std::shared_ptr<const mil::ConstData> BlobStorageReader::read(uint64_t offset, DType dtype,
                                                              const std::vector<int64_t>& sizes) const {
    const std::string& path = file_->path();
    const std::string where = "blob at offset " + std::to_string(offset) + ": ";
    const uint64_t fileSize = file_->size();
    if (offset >= fileSize)
        throw ModelReadError(path,
                             where + "the offset is past the end of the file (" + std::to_string(fileSize) + " bytes)");
    if (fileSize - offset < sizeof(blob::Metadata))
        throw ModelReadError(path, where + "truncated: the 64-byte metadata record runs past the end of the file (" +
                                       std::to_string(fileSize) + " bytes)");
    if (offset < sizeof(blob::StorageHeader))
        throw ModelReadError(path, where + "the offset points into the 64-byte file header");
    if (offset % blob::kAlignment != 0)
        throw ModelReadError(path, where + "the metadata record is not 64-byte aligned");
    blob::Metadata meta;
    std::memcpy(&meta, file_->data() + offset, sizeof(meta));
    if (meta.sentinel != blob::kSentinel)
        throw ModelReadError(path, where + "bad sentinel " + hex(meta.sentinel) + " (expected " + hex(blob::kSentinel) +
                                       "): the offset does not point at a blob, or the file is corrupt");

    const auto expected = blob::dataTypeFor(dtype);
    if (!expected)
        throw ModelReadError(
            path, where + "the program declares dtype " + dtypeName(dtype) + ", which blob storage cannot hold");
    if (meta.dtype != static_cast<uint32_t>(*expected))
        throw ModelReadError(path, where + "blob dtype is " + blob::dataTypeName(meta.dtype) +
                                       " but the program declares " + dtypeName(dtype));

    if (meta.offset > fileSize || meta.sizeInBytes > fileSize - meta.offset)
        throw ModelReadError(path, where + "truncated: data [" + std::to_string(meta.offset) + ", " +
                                       std::to_string(meta.offset) + " + " + std::to_string(meta.sizeInBytes) +
                                       ") runs past the end of the file (" + std::to_string(fileSize) + " bytes)");
    if (meta.offset < offset + sizeof(blob::Metadata))
        throw ModelReadError(
            path, where + "data offset " + std::to_string(meta.offset) + " overlaps its own metadata record");

    int64_t numel = 1;
    for (int64_t s : sizes) numel *= s;
    const uint64_t want = static_cast<uint64_t>(numel) * dtypeSize(dtype);
    if (meta.sizeInBytes != want) {
        std::string shape;
        for (size_t i = 0; i < sizes.size(); ++i) shape += (i ? "," : "") + std::to_string(sizes[i]);
        throw ModelReadError(path, where + "holds " + std::to_string(meta.sizeInBytes) +
                                       " bytes but the program declares " + dtypeName(dtype) + "[" + shape + "] (" +
                                       std::to_string(want) + " bytes)");
    }
    if (meta.offset % dtypeSize(dtype) != 0)
        throw ModelReadError(
            path, where + "data offset " + std::to_string(meta.offset) + " is not aligned for " + dtypeName(dtype));

    auto c = std::make_shared<mil::ConstData>();
    c->dtype = dtype;
    c->sizes = sizes;
    c->data = file_->data() + meta.offset;
    c->nbytes = meta.sizeInBytes;
    c->owner = file_;  // the constant keeps the mapping alive
    return c;
}

}  // namespace ts2coreml::backend
