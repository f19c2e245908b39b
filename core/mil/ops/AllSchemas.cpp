// Every built-in MIL op schema, family by family; called once by SchemaTable::instance().
#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

void populateBuiltinSchemas(SchemaTable& table) {
    populateConstSchema(table);
    populateElementwiseSchemas(table);
    populateActivationSchemas(table);
    populateConvolutionSchemas(table);
    populatePoolingSchemas(table);
    populateNormalizationSchemas(table);
    populateLinearSchemas(table);
    populateReductionSchemas(table);
    populateTensorShapeSchemas(table);
    populateIndexingSchemas(table);
    populateTensorCreationSchemas(table);
    populateSortingSchemas(table);
    populateImageSchemas(table);
    populateAttentionSchemas(table);
    populateControlFlowSchemas(table);
}

}  // namespace ts2coreml::mil
