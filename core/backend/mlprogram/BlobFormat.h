// The layout of Core ML's blob storage file (weight.bin, version 2), shared by the writer and the
// reader: a 64-byte header, then per blob a 64-byte metadata record and its data, every record
// starting 64-byte aligned. A BlobFileValue's offset points at the metadata record.
#pragma once

#include <cstdint>

namespace ts2coreml::blobformat {

constexpr uint32_t kVersion = 2;
constexpr uint32_t kSentinel = 0xDEADBEEF;
constexpr uint64_t kAlignment = 64;

struct StorageHeader {
    uint32_t count = 0;
    uint32_t version = kVersion;
    uint64_t reserved[7] = {};
};

struct Metadata {
    uint32_t sentinel = kSentinel;
    uint32_t dtype = 0;
    uint64_t sizeInBytes = 0;
    uint64_t offset = 0;             ///< absolute file offset of the data
    uint64_t paddingSizeInBits = 0;  ///< sub-byte dtypes only
    uint64_t reserved[4] = {};
};

static_assert(sizeof(StorageHeader) == 64, "blob storage header must be 64 bytes");
static_assert(sizeof(Metadata) == 64, "blob metadata record must be 64 bytes");

}  // namespace ts2coreml::blobformat
