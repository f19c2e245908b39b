#include "verify/Npy.h"

#include "backend/StagedOutput.h"

#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <vector>

namespace ts2coreml::verify {

namespace {

constexpr char kMagic[] = "\x93NUMPY";

// The .npy descr of each scalar type; this file assumes a little-endian host, as x86-64 and
// arm64 are.
const std::pair<at::ScalarType, const char*> kDescrs[] = {
    {at::kBool, "|b1"}, {at::kChar, "|i1"}, {at::kByte, "|u1"},  {at::kShort, "<i2"},  {at::kInt, "<i4"},
    {at::kLong, "<i8"}, {at::kHalf, "<f2"}, {at::kFloat, "<f4"}, {at::kDouble, "<f8"},
};

}  // namespace

void writeNpy(const std::string& path, const at::Tensor& tensor) {
    const at::Tensor t = tensor.contiguous().cpu();
    const char* descr = nullptr;
    for (const auto& [type, d] : kDescrs)
        if (type == t.scalar_type()) descr = d;
    if (!descr)
        throw std::runtime_error(path + ": cannot write a tensor of type " +
                                 std::string(c10::toString(t.scalar_type())) + " as .npy");
    std::string shape = "(";
    for (int64_t i = 0; i < t.dim(); ++i)
        shape += std::to_string(t.size(i)) + (t.dim() == 1 ? "," : i + 1 < t.dim() ? ", " : "");
    shape += ")";
    std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    // magic (6) + version (2) + header length (2) + header, padded so the data starts 64-aligned.
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(kMagic, 6);
    const char version[2] = {1, 0};
    out.write(version, 2);
    const auto len = static_cast<uint16_t>(header.size());
    const char lenBytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
    out.write(lenBytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    if (!out.flush()) throw writeFailure(path);
}

namespace {

// The value of `'key': ...` in the header dict, up to the next top-level comma or brace.
std::string headerValue(const std::string& header, const std::string& key, const std::string& path) {
    const auto k = header.find("'" + key + "'");
    if (k == std::string::npos) throw std::runtime_error(path + ": .npy header has no '" + key + "'");
    auto v = header.find(':', k) + 1;
    while (v < header.size() && header[v] == ' ') ++v;
    if (header[v] == '(') return header.substr(v, header.find(')', v) - v + 1);
    const auto end = header.find_first_of(",}", v);
    std::string value = header.substr(v, end - v);
    while (!value.empty() && value.back() == ' ') value.pop_back();
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"')) value = value.substr(1, value.size() - 2);
    return value;
}

}  // namespace

at::Tensor readNpy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    char magic[6];
    unsigned char version[2];
    in.read(magic, 6);
    in.read(reinterpret_cast<char*>(version), 2);
    if (!in || std::memcmp(magic, kMagic, 6) != 0) throw std::runtime_error(path + ": not a .npy file");
    size_t headerLen = 0;
    if (version[0] == 1) {
        unsigned char b[2];
        in.read(reinterpret_cast<char*>(b), 2);
        headerLen = b[0] | (b[1] << 8);
    } else {
        unsigned char b[4];
        in.read(reinterpret_cast<char*>(b), 4);
        headerLen = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<size_t>(b[3]) << 24);
    }
    std::string header(headerLen, '\0');
    in.read(&header[0], static_cast<std::streamsize>(headerLen));
    if (!in) throw std::runtime_error(path + ": truncated .npy header");

    const std::string descr = headerValue(header, "descr", path);
    if (headerValue(header, "fortran_order", path) != "False")
        throw std::runtime_error(path + ": Fortran-order arrays are not supported");
    std::optional<at::ScalarType> type;
    for (const auto& [t, d] : kDescrs)
        if (descr == d || (descr.size() == 3 && descr[0] == '=' && descr.substr(1) == std::string(d).substr(1)))
            type = t;
    if (!type) throw std::runtime_error(path + ": unsupported .npy dtype '" + descr + "'");
    std::vector<int64_t> shape;
    const std::string dims = headerValue(header, "shape", path);
    for (size_t i = 1; i < dims.size();) {
        const size_t end = dims.find_first_of(",)", i);
        const std::string d = dims.substr(i, end - i);
        if (d.find_first_not_of(' ') != std::string::npos) shape.push_back(std::stoll(d));
        i = end + 1;
    }
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(*type));
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    if (!in)
        throw std::runtime_error(path + ": truncated .npy data (expected " + std::to_string(t.nbytes()) + " bytes)");
    return t;
}

}  // namespace ts2coreml::verify
