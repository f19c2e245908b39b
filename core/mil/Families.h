// Self-registering op families. Each family file (core/mil/ops/<Family>.cpp,
// core/runtime/kernels/<Family>.cpp, core/backend/neuralnetwork/<Family>Layers.cpp,
// core/lowerings/<Family>.cpp) ends with its populate function and one registration line:
//
//     TS2COREML_FAMILY(KernelTable, Elementwise, populateElementwiseKernels);
//
// The table's builtin() runs every populate function registered for it, in family-name order, so
// no hand-kept list names the families: adding a family is adding its file.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ts2coreml {

template <typename Table>
class Families {
public:
    using Populate = void (*)(Table&);

    /// Registers `populate` for `family` (from a static initializer: see TS2COREML_FAMILY).
    static bool add(const char* family, Populate populate) {
        entries().emplace(family, populate);
        return true;
    }

    /// Runs every registered populate function on `table`, in family-name order.
    static void populate(Table& table) {
        for (const auto& [family, fn] : entries()) fn(table);
    }

    /// The registered family names, sorted (a family registering twice appears twice).
    static std::vector<std::string> names() {
        std::vector<std::string> out;
        for (const auto& [family, fn] : entries()) out.push_back(family);
        return out;
    }

private:
    // A function-local static: initialized on first use, so registrations from static
    // initializers of any translation unit find it ready.
    static std::multimap<std::string, Populate>& entries() {
        static std::multimap<std::string, Populate> map;
        return map;
    }
};

}  // namespace ts2coreml

#define TS2COREML_FAMILY_CONCAT2(a, b) a##b
#define TS2COREML_FAMILY_CONCAT(a, b) TS2COREML_FAMILY_CONCAT2(a, b)
/// Registers POPULATE (a `void (Table&)` function) as family FAMILY of TABLE's built-in contents.
#define TS2COREML_FAMILY(TABLE, FAMILY, POPULATE)                                                                \
    namespace {                                                                                                  \
    [[maybe_unused]] const bool TS2COREML_FAMILY_CONCAT(kFamilyRegistered_,                                      \
                                                        __LINE__) = ::ts2coreml::Families<TABLE>::add(#FAMILY,   \
                                                                                                      POPULATE); \
    }
