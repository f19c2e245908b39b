// Writer of Core ML's blob storage file (weights/weight.bin), streaming each weight to disk.
//
// Layout (storage version 2): a 64-byte header {u32 count; u32 version = 2; reserved}, then per
// blob a 64-byte metadata record {u32 sentinel 0xDEADBEEF; u32 dtype; u64 size in bytes; u64
// absolute data offset; u64 padding bits; reserved} followed by the data. Every metadata record
// starts 64-byte aligned. A program refers to a blob by the offset of its metadata record.
#pragma once

#include <ts2coreml/Mil.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace ts2coreml {

/// Blob dtype codes of the storage format.
enum class BlobDType : uint32_t { Float16 = 1, Float32 = 2, UInt8 = 3, Int8 = 4 };

class BlobWriter {
public:
    explicit BlobWriter(const std::string& path);
    /// Appends `data` stored as `storeAs` (fp32 data is converted to fp16 in small chunks, never
    /// as a whole copy). Returns the offset of its metadata record.
    uint64_t append(const mil::ConstData& data, DType storeAs);
    /// Writes the blob count into the header and closes the file.
    void finish();
    uint32_t count() const { return count_; }
    uint64_t bytesWritten() const { return offset_; }

    static bool canStore(DType dtype);

private:
    void pad();
    std::ofstream out_;
    std::string path_;
    uint64_t offset_ = 0;
    uint32_t count_ = 0;
};

}  // namespace ts2coreml
