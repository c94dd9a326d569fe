//===- GraphDialect.td - the AutoChunk graph dialect -------*- tablegen -*-===//
//
// The dialect definition and the type constraints every graph op shares.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_GRAPH_DIALECT_TD
#define AUTOCHUNK_GRAPH_DIALECT_TD

include "mlir/IR/OpBase.td"

def Graph_Dialect : Dialect {
  let name = "graph";
  let cppNamespace = "::autochunk::graph";
  let summary = "Inference graphs of transformers, ViTs and Evoformers on "
                "statically shaped tensors";
  let description = [{
    The `graph` dialect expresses inference graphs (GPT-2 style blocks, ViT
    encoders, AlphaFold2 Evoformer blocks and stacks of them) as pure ops on
    ranked tensors with static shapes and an `f32`, `f16` or `bf16` element
    type. Every op verifies its operands (shapes, broadcasting, axes, element
    types) and infers its result type where it can, so a graph that verifies
    has one meaning and every intermediate has a known size: the activation
    memory analysis and the memory planner build on that.

    Graphs live in `func.func`. Function arguments carry two dialect
    attributes: `graph.name` (a stable name such as
    `"blocks.0.attn.qkv.weight"`, used to match weight files) and
    `graph.role` (`"input"` or `"weight"`, so that memory analyses count
    inputs and weights apart from activations). Function results may carry a
    `graph.name` too.

    Elementwise binary ops broadcast their operands numpy-style (trailing
    dimensions aligned, a size 1 stretches). All operands of an op share one
    element type.
  }];
  let hasConstantMaterializer = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  // graph.* attributes belong on function signatures: an op carrying one is
  // a misplaced signature attribute. (graph.name is also unique among a
  // function's arguments; GraphDialect.cpp checks both.)
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The function argument / result attribute holding a stable name.
    static constexpr ::llvm::StringLiteral kNameAttrName = "graph.name";
    /// The function argument attribute saying "input" or "weight".
    static constexpr ::llvm::StringLiteral kRoleAttrName = "graph.role";
  }];
}

/// Element types a graph tensor may have.
def Graph_Float : AnyTypeOf<[F32, F16, BF16], "f32, f16 or bf16">;

/// Every value in a graph: a ranked tensor with a static shape.
def Graph_Tensor : StaticShapeTensorOf<[F32, F16, BF16]>;

class Graph_Op<string mnemonic, list<Trait> traits = []>
    : Op<Graph_Dialect, mnemonic, traits>;

#endif // AUTOCHUNK_GRAPH_DIALECT_TD
