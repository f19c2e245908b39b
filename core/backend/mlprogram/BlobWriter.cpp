#include "backend/mlprogram/BlobWriter.h"
#include "backend/StagedOutput.h"
#include "backend/mlprogram/BlobFormat.h"

#include <c10/util/Half.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace ts2coreml {

namespace {
using namespace blobformat;

BlobDType blobDType(DType d) {
    switch (d) {
        case DType::Float16: return BlobDType::Float16;
        case DType::Float32: return BlobDType::Float32;
        case DType::UInt8: return BlobDType::UInt8;
        case DType::Int8: return BlobDType::Int8;
        default: throw std::invalid_argument(std::string("blob storage cannot hold ") + dtypeName(d));
    }
}
}  // namespace

bool BlobWriter::canStore(DType d) {
    return d == DType::Float16 || d == DType::Float32 || d == DType::UInt8 || d == DType::Int8;
}

BlobWriter::BlobWriter(const std::string& path) : out_(path, std::ios::binary | std::ios::trunc), path_(path) {
    if (!out_) throw std::runtime_error(path + ": cannot create weight file");
    StorageHeader h;
    out_.write(reinterpret_cast<const char*>(&h), sizeof h);
    offset_ = sizeof h;
}

void BlobWriter::pad() {
    static const std::array<char, kAlignment> zeros{};
    const uint64_t rem = offset_ % kAlignment;
    if (rem) {
        out_.write(zeros.data(), static_cast<std::streamsize>(kAlignment - rem));
        offset_ += kAlignment - rem;
    }
}

uint64_t BlobWriter::append(const mil::ConstData& data, DType storeAs) {
    pad();
    const uint64_t metadataOffset = offset_;
    const uint64_t n = static_cast<uint64_t>(data.numel());
    Metadata m;
    m.dtype = static_cast<uint32_t>(blobDType(storeAs));
    m.sizeInBytes = n * dtypeSize(storeAs);
    m.offset = metadataOffset + sizeof(Metadata);
    out_.write(reinterpret_cast<const char*>(&m), sizeof m);
    if (storeAs == data.dtype) {
        out_.write(static_cast<const char*>(data.data), static_cast<std::streamsize>(m.sizeInBytes));
    } else if (storeAs == DType::Float16 && data.dtype == DType::Float32) {
        // Convert in chunks so a large weight never exists twice in memory.
        const float* src = static_cast<const float*>(data.data);
        std::vector<c10::Half> chunk(std::min<uint64_t>(n, 1 << 16));
        for (uint64_t i = 0; i < n; i += chunk.size()) {
            const uint64_t len = std::min<uint64_t>(chunk.size(), n - i);
            for (uint64_t k = 0; k < len; ++k) chunk[k] = c10::Half(src[i + k]);
            out_.write(reinterpret_cast<const char*>(chunk.data()),
                       static_cast<std::streamsize>(len * sizeof(c10::Half)));
        }
    } else {
        throw std::invalid_argument(std::string("cannot store ") + dtypeName(data.dtype) + " data as " +
                                    dtypeName(storeAs));
    }
    offset_ += sizeof m + m.sizeInBytes;
    ++count_;
    if (!out_) throw writeFailure(path_);
    return metadataOffset;
}

void BlobWriter::finish() {
    pad();
    out_.seekp(0);
    StorageHeader h;
    h.count = count_;
    out_.write(reinterpret_cast<const char*>(&h), sizeof h);
    out_.close();
    if (!out_) throw writeFailure(path_);
}

}  // namespace ts2coreml
