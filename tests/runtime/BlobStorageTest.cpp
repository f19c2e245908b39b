// Blob storage (core/runtime/BlobStorage.cpp): weight.bin files damaged on purpose are rejected
// with a clear error naming the file and the offset, never a crash.
#include "runtime/RuntimeTestSupport.h"

#include "backend/mlprogram/BlobStorage.h"
#include "backend/mlprogram/MLPackageWriter.h"

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>

using namespace ts2coreml;
using namespace ts2coreml::test;
namespace fs = std::filesystem;

namespace {

/// A package whose only weight blob is a linear layer's fp32 weight [8, 16]: its metadata record
/// is the first, at offset 64.
fs::path writeLinearPackage(const fs::path& dir) {
    mil::Program program;
    mil::Block& main = program.main().body;
    mil::Builder b(main, Target::iOS15);
    mil::Value* x = main.addInput("x", TensorType::of(DType::Float32, {2, 16}));
    main.outputs() = {b.add("linear", {{"x", x}, {"weight", constantOf(b, at::randn({8, 16}))}})};
    const fs::path pkg = dir / "linear.mlpackage";
    writeMLPackage(program, ModelOptions{}, pkg.string());
    return pkg;
}

fs::path weightFile(const fs::path& pkg) { return pkg / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"; }

void patch(const fs::path& file, uint64_t offset, const void* bytes, size_t n) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(n));
}

std::string readError(const fs::path& pkg) {
    try {
        backend::readModel(pkg.string());
    } catch (const backend::ModelReadError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("the blob storage layout is Apple's") {
    CHECK(sizeof(backend::blob::StorageHeader) == 64);
    CHECK(sizeof(backend::blob::Metadata) == 64);
    CHECK(static_cast<uint32_t>(backend::blob::DataType::Float16) == 1);
    CHECK(static_cast<uint32_t>(backend::blob::DataType::Float32) == 2);
    CHECK(static_cast<uint32_t>(backend::blob::DataType::UInt8) == 3);
    CHECK(static_cast<uint32_t>(backend::blob::DataType::Int8) == 4);
    CHECK(static_cast<uint32_t>(backend::blob::DataType::Int32) == 14);
    CHECK(backend::blob::dataTypeName(4) == "int8");
    CHECK(backend::blob::dataTypeName(99) == "unknown code 99");
}

TEST_CASE("an intact weight file reads") {
    TempDir dir("blob-intact");
    const fs::path pkg = writeLinearPackage(dir.path());
    CHECK(readError(pkg).empty());
    backend::BlobStorageReader reader(weightFile(pkg).string());
    CHECK(reader.count() == 1);
    auto c = reader.read(64, DType::Float32, {8, 16});
    CHECK(c->numel() == 128);
    CHECK(reinterpret_cast<uintptr_t>(c->data) % 64 == 0);
}

TEST_CASE("a damaged weight file is rejected with a clear error") {
    TempDir dir("blob-damaged");
    const fs::path pkg = writeLinearPackage(dir.path());
    const fs::path weights = weightFile(pkg);
    const auto size = fs::file_size(weights);
    std::string e;

    SUBCASE("bad sentinel") {
        const uint32_t bad = 0x12345678;
        patch(weights, 64, &bad, 4);
        e = readError(pkg);
        CHECK(e.find("bad sentinel 0x12345678 (expected 0xDEADBEEF)") != std::string::npos);
    }
    SUBCASE("truncated blob") {
        fs::resize_file(weights, size - 100);
        e = readError(pkg);
        CHECK(e.find("truncated") != std::string::npos);
        CHECK(e.find("runs past the end of the file") != std::string::npos);
    }
    SUBCASE("offset past the end") {
        fs::resize_file(weights, 64);  // the header alone
        e = readError(pkg);
        CHECK(e.find("offset 64") != std::string::npos);
        CHECK(e.find("past the end of the file (64 bytes)") != std::string::npos);
    }
    SUBCASE("metadata record cut short") {
        fs::resize_file(weights, 100);
        e = readError(pkg);
        CHECK(e.find("metadata record runs past the end") != std::string::npos);
    }
    SUBCASE("data offset pointing past the end") {
        const uint64_t far = size + 4096;
        patch(weights, 64 + 16, &far, 8);
        e = readError(pkg);
        CHECK(e.find("truncated") != std::string::npos);
    }
    SUBCASE("a storage version other than 2") {
        const uint32_t version = 3;
        patch(weights, 4, &version, 4);
        e = readError(pkg);
        CHECK(e.find("blob storage version 3 is not supported (expected 2)") != std::string::npos);
    }
    SUBCASE("a dtype code that does not match") {
        const uint32_t fp16 = 1;
        patch(weights, 64 + 4, &fp16, 4);
        e = readError(pkg);
        CHECK(e.find("blob dtype is fp16 but the program declares fp32") != std::string::npos);
    }
    SUBCASE("a size that does not match the shape") {
        const uint64_t bytes = 100;
        patch(weights, 64 + 8, &bytes, 8);
        e = readError(pkg);
        CHECK(e.find("holds 100 bytes but the program declares fp32[8,16] (512 bytes)") != std::string::npos);
    }
    SUBCASE("a file too small for its header") {
        fs::resize_file(weights, 10);
        e = readError(pkg);
        CHECK(e.find("too small for the 64-byte blob storage header") != std::string::npos);
    }
    SUBCASE("a missing weight file") {
        fs::remove(weights);
        e = readError(pkg);
        CHECK(e.find("cannot open") != std::string::npos);
    }
    INFO("error: ", e);
    CHECK(e.find(weights.string()) == 0);  // the message starts with the weight file's path
}
