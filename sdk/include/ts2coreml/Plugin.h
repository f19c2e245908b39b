// Public SDK: the plugin entry point.
//
// A plugin is a shared library exporting one `extern "C"` symbol, `ts2coreml_plugin_entry`, that
// returns a PluginInfo. Write it with one line:
//
//     TS2COREML_PLUGIN("my_ops", "1.0", [](ts2coreml::Registry& r) { r.add("mylib::op", lowerOp); })
//
// The host refuses a plugin whose API version or ABI tag differs from its own, naming the file.
#pragma once

#include <ts2coreml/Lowering.h>

#include <cstdint>

/// Bumped on any incompatible change of the SDK.
#define TS2COREML_PLUGIN_API_VERSION 1u

#define TS2COREML_STR2(x) #x
#define TS2COREML_STR(x) TS2COREML_STR2(x)
#if defined(__clang__)
#define TS2COREML_COMPILER "clang" TS2COREML_STR(__clang_major__)
#elif defined(__GNUC__)
#define TS2COREML_COMPILER "gcc" TS2COREML_STR(__GNUC__)
#else
#define TS2COREML_COMPILER "cc"
#endif
/// C++ ABI the plugin was compiled with: compiler family and libstdc++ string ABI. Plugins pass
/// std::function and std::string across the boundary, so these must match the host's.
#define TS2COREML_ABI_TAG TS2COREML_COMPILER "-cxx11abi" TS2COREML_STR(_GLIBCXX_USE_CXX11_ABI)

extern "C" {
struct ts2coreml_plugin_info {
    uint32_t apiVersion;  ///< TS2COREML_PLUGIN_API_VERSION at build time
    const char* abiTag;   ///< TS2COREML_ABI_TAG at build time
    const char* name;
    const char* version;
    void (*registerLowerings)(ts2coreml::Registry& registry);
};
}

#define TS2COREML_PLUGIN_ENTRY_SYMBOL "ts2coreml_plugin_entry"

/// Defines the entry point of a plugin. REGISTER is a function or captureless lambda taking a
/// ts2coreml::Registry&.
#define TS2COREML_PLUGIN(NAME, VERSION, REGISTER)                                                  \
    extern "C" __attribute__((visibility("default"))) const ts2coreml_plugin_info*                 \
    ts2coreml_plugin_entry() {                                                                     \
        static const ts2coreml_plugin_info info{TS2COREML_PLUGIN_API_VERSION, TS2COREML_ABI_TAG,   \
                                                NAME, VERSION, REGISTER};                          \
        return &info;                                                                              \
    }
