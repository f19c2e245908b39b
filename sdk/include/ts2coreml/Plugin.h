// Public SDK: the plugin entry point.
//
// A plugin is a shared library exporting one `extern "C"` symbol, `ts2coreml_plugin_entry`, that
// returns a ts2coreml_plugin_info. Write it with one line:
//
//     TS2COREML_PLUGIN("my_ops", "1.0", [](ts2coreml::Registry& r) { r.add("mylib::op", lowerOp); })
//
// Build it with `ts2coreml_add_plugin(NAME sources...)` (find_package(ts2coreml)): C++17, hidden
// visibility (only the entry point is exported), and NO link against libts2coreml.so — the SDK's
// out-of-line functions (Builder, LoweringContext helpers, ConstData) are resolved from the host
// process when it loads the plugin, so a plugin always runs against the host that loads it.
//
// What a plugin sees of the host is this SDK: the Builder (MIL ops are emitted only through it,
// checked against the host's op schemas), the LoweringContext, the Registry's registration calls,
// the lowering helpers of LoweringSupport.h and the diagnostics (LoweringError, SchemaError). The
// IR's structure and the schema table are read-only here: a plugin cannot declare a MIL op, since
// every MIL op needs a kernel and a NeuralNetwork layer in the host.
//
// The host (core/plugin) refuses, with a one-line reason naming the file, and keeps loading the
// others: a file that is not a shared library or cannot be loaded, a missing entry point, an entry
// point or register function that throws (anything, not only std::exception), an API version or ABI
// tag different from its own, and a key already registered without `replaces`. The same register
// function can be linked statically: the built-in lowerings register through the same calls.
//
// A plugin that crashes the process is reported, not silent. `ts2coreml convert` loads plugins and
// lowers the model in a forked worker process that tells the host which plugin file it is loading
// and which torch op it is lowering: a segfault or abort() in a lowering, or in a static constructor
// while the plugin loads, ends the worker, and the host prints the signal, the plugin's path and,
// for a lowering, the op and the model line, exits 1 and writes nothing. Debug such a crash in the
// worker with `gdb -ex 'set follow-fork-mode child' --args ts2coreml convert ...`.
#pragma once

#include <ts2coreml/Lowering.h>

#include <cstdint>

/// Bumped on any change of the SDK's declarations; sdk/API records it with a hash of the headers
/// (the sdk_api_version test fails when they change without a bump, and says how to record one).
/// 2: the IR's mutating accessors and SchemaTable::add left the SDK; LoweringSupport.h joined it.
/// 3: Arg::Kind::Complex, a complex tensor as (real, imaginary) pairs.
#define TS2COREML_PLUGIN_API_VERSION 3u

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
/// What a plugin's entry point returns. Plain data: its layout is the same in every API version.
struct ts2coreml_plugin_info {
    uint32_t apiVersion;  ///< TS2COREML_PLUGIN_API_VERSION at build time
    const char* abiTag;   ///< TS2COREML_ABI_TAG at build time
    const char* name;     ///< shown in diagnostics: "plugin 'torchvision' (/path/libts2coreml_torchvision.so)"
    const char* version;  ///< free-form ("1.0")
    /// Adds the plugin's lowerings and declares its custom torch ops. May throw: the plugin is then
    /// rejected with the exception's message and nothing it registered stays.
    void (*registerLowerings)(ts2coreml::Registry& registry);
};

/// The signature of the entry point.
typedef const struct ts2coreml_plugin_info* (*ts2coreml_plugin_entry_fn)(void);
}

#define TS2COREML_PLUGIN_ENTRY_SYMBOL "ts2coreml_plugin_entry"

/// Defines the entry point of a plugin. REGISTER is a function or captureless lambda taking a
/// ts2coreml::Registry&.
#define TS2COREML_PLUGIN(NAME, VERSION, REGISTER)                                                               \
    extern "C" __attribute__((visibility("default"))) const ts2coreml_plugin_info* ts2coreml_plugin_entry() {   \
        static const ts2coreml_plugin_info info{TS2COREML_PLUGIN_API_VERSION, TS2COREML_ABI_TAG, NAME, VERSION, \
                                                REGISTER};                                                      \
        return &info;                                                                                           \
    }
