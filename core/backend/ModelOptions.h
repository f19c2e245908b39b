// What a written model carries besides its program: target, metadata, image inputs, class labels.
#pragma once

#include <ts2coreml/Types.h>

#include <map>
#include <string>
#include <vector>

namespace ts2coreml {

struct ModelMetadata {
    std::string author;
    std::string license;
    std::string shortDescription;
    std::string version;
    std::map<std::string, std::string> userDefined;
};

/// The user-defined metadata keys Xcode's model preview reads.
constexpr const char* kPreviewTypeKey = "com.apple.coreml.model.preview.type";
constexpr const char* kPreviewParamsKey = "com.apple.coreml.model.preview.params";

enum class ColorLayout { RGB, BGR, Grayscale };

/// An input declared as a Core ML image: the model sees `pixel * scale + bias[channel]`, with
/// pixels in 0..255 and channels in the order of `layout`.
struct ImageInput {
    std::string name;
    double scale = 1.0;
    std::vector<double> bias;  ///< one per channel, in the model's channel order (3, or 1 for gray)
    ColorLayout layout = ColorLayout::RGB;
};

struct ModelOptions {
    Target target = Target::iOS15;
    ModelMetadata metadata;
    std::vector<ImageInput> images;
    /// Non-empty: the model is a classifier; its single output holds one score per label.
    std::vector<std::string> classLabels;
    /// Inputs that accept only these shapes (`--input NAME:S1|S2`), by input name; the description
    /// declares them as enumerated shapes instead of a shape range.
    std::map<std::string, std::vector<std::vector<int64_t>>> enumeratedShapes = {};
};

/// The classifier's outputs: the predicted label, and the label -> probability dictionary.
constexpr const char* kClassLabelOutput = "classLabel";

}  // namespace ts2coreml
