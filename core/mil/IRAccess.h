// Core-internal: the mutating side of the MIL IR and of the schema table, which the public SDK
// (sdk/include/ts2coreml/Mil.h, OpSchema.h) keeps private. Plugins only emit operations through
// the Builder; the host's builder, passes, readers and op declarations rewire the IR through here.
#pragma once

#include <ts2coreml/OpSchema.h>

#include <memory>
#include <utility>
#include <vector>

namespace ts2coreml::mil {

class IRAccess {
public:
    /// The operation's named inputs, to bind or rebind values (a pass replacing a value's uses).
    static Operation::Inputs& inputs(Operation& op) { return op.inputs_; }
    /// The operation's nested blocks, to add them (cond branches, loop bodies).
    static std::vector<std::unique_ptr<Block>>& blocks(Operation& op) { return op.blocks_; }
    /// The block's operations, to append, insert, move or erase them.
    static std::vector<std::unique_ptr<Operation>>& operations(Block& block) { return block.ops_; }
    /// Declares a MIL op: only core/mil/ops, where every op also gets a kernel and a layer.
    static void addSchema(SchemaTable& table, OpSchema schema) { table.add(std::move(schema)); }
};

}  // namespace ts2coreml::mil
