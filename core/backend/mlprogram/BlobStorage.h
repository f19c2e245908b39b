// Apple's blob storage, version 2 — the `weights/weight.bin` of an ML Program package — read
// through one read-only memory map: constants alias the mapping, nothing is copied.
//
// Layout (coremltools mlmodel/src/MILBlob/Blob/StorageFormat.hpp, BlobDataType.hpp):
//   file header, 64 bytes:   u32 count; u32 version = 2; u64 reserved[7]
//   per blob, 64-aligned:    metadata record, 64 bytes:
//                              u32 sentinel = 0xDEADBEEF; u32 dtype; u64 sizeInBytes;
//                              u64 offset (absolute offset of the data); u64 padding_size_in_bits;
//                              u64 reserved[4]
//                            followed by the data.
// A program's BlobFileValue.offset is the offset of the blob's METADATA record, not of its data.
#pragma once

#include "backend/mlprogram/BlobFormat.h"

#include <ts2coreml/Mil.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ts2coreml::backend {

namespace blob {

using blobformat::kAlignment;
using blobformat::kSentinel;
using blobformat::kVersion;
using blobformat::Metadata;
using blobformat::StorageHeader;

/// Blob dtype codes. Values are Apple's; new ones are only ever appended.
enum class DataType : uint32_t {
    Float16 = 1,
    Float32 = 2,
    UInt8 = 3,
    Int8 = 4,
    BFloat16 = 5,
    Int16 = 6,
    UInt16 = 7,
    Int4 = 8,
    UInt1 = 9,
    UInt2 = 10,
    UInt4 = 11,
    UInt3 = 12,
    UInt6 = 13,
    Int32 = 14,
    UInt32 = 15,
    Float8E4M3FN = 16,
    Float8E5M2 = 17,
};

/// "fp16", "int4", ... or "unknown code N".
std::string dataTypeName(uint32_t code);
/// The blob code storing a MIL dtype, or nullopt when blob storage has none (bool, int64, ...).
std::optional<DataType> dataTypeFor(DType dtype);

}  // namespace blob

/// A whole file mapped read-only; unmapped when the last reference goes.
class MappedFile {
public:
    /// Throws ModelReadError naming the path when the file cannot be opened or mapped.
    static std::shared_ptr<const MappedFile> open(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    MappedFile(std::string path, const uint8_t* data, uint64_t size)
        : path_(std::move(path)), data_(data), size_(size) {}
    std::string path_;
    const uint8_t* data_;
    uint64_t size_;
};

/// Reads the blobs of one weight file, checking each against the type the program declares for
/// it. Every failure is a ModelReadError naming the file and the offset.
class BlobStorageReader {
public:
    /// Maps the file and checks its header (size, version).
    explicit BlobStorageReader(const std::string& path);

    uint32_t count() const { return header_.count; }
    const std::string& path() const { return file_->path(); }

    /// The blob whose metadata record is at `offset`, as a constant of `dtype` and `sizes` that
    /// aliases the mapping. Checks: the record lies inside the file and is 64-byte aligned, its
    /// sentinel, its dtype code against `dtype`, its data inside the file, and its byte size
    /// against `sizes`.
    std::shared_ptr<const mil::ConstData> read(uint64_t offset, DType dtype, const std::vector<int64_t>& sizes) const;

private:
    std::shared_ptr<const MappedFile> file_;
    blob::StorageHeader header_;
};

}  // namespace ts2coreml::backend
