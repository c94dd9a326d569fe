//===- DimensionFlowOpInterface.td - how dims flow through ops -*- tablegen -*-===//
//
// The op interface AutoChunk's legality rests on: which operand dimensions
// each result dimension comes from, and which operand dimensions an op
// reduces.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_DIMENSION_FLOW_OP_INTERFACE_TD
#define AUTOCHUNK_DIMENSION_FLOW_OP_INTERFACE_TD

include "mlir/IR/OpBase.td"

def DimensionFlowOpInterface : OpInterface<"DimensionFlowOpInterface"> {
  let cppNamespace = "::autochunk";
  let description = [{
    Says how the dimensions of an op's ranked tensor results relate to the
    dimensions of its ranked tensor operands, so that AutoChunk can decide
    whether a region of ops may be rewritten into a loop over chunks along
    one dimension. The answer is a `DimensionFlow`
    (`DimensionFlowOpInterface.h`):

    * for each result and each of its dimensions, one `ResultDimFlow`
      whose kind is
      * `Flows`, with a list of `(operand, dim)` sources: the result
        dimension has the extent of every source, and slicing the result
        along it (any offset, any size) is computed by running the same op
        on operands sliced the same way along exactly those source
        dimensions, every other operand dimension passed whole. Operands
        with no source dimension (a bias broadcast over rows, an index
        operand) are passed whole; so are broadcast size-1 dimensions. An
        empty list is allowed: the op then produces any slice of that
        dimension from whole operands (a constant; a dimension a broadcast
        creates; a size-1 dimension `keep_dims` leaves);
      * `Mixed`: every element along the dimension depends on all operand
        elements along it (the softmax axis, the dimensions layer
        normalization normalizes over). Plain chunking along it is
        illegal; a rewrite that carries partial state (online softmax)
        could chunk it;
      * `Opaque`: the dimension does not correspond 1:1 to an operand
        dimension (a dimension a reshape splits or merges, a dimension a
        slice narrows or strides, the axis of a concat). Chunking along it
        is illegal;
    * the list of reduced operand dimensions: contracted or summed
      dimensions (matmul's K, einsum's summed labels, reduction axes,
      linear's input features). Chunking an operand along one of them is
      illegal (it would need a split-K rewrite with a final sum).

    An operand dimension that is neither a source nor reduced is read whole
    by every result element (a normalized axis, a layer norm weight):
    slicing the operand along it has no counterpart in the results.

    A chunk plan for one op follows from the flow by closure: slicing a
    result dimension slices its sources, slicing an operand dimension
    slices every result dimension that lists it, and so on until nothing
    changes. The closure fails when it reaches a `Mixed` or `Opaque` result
    dimension or a reduced operand dimension, when it would slice one value
    along two dimensions, or when a result is left unsliced
    (`chunkAlongResultDim`, `chunkAlongOperandDim`,
    `propagateChunkDimToOperands`, `propagateChunkDimToResults`).

    Ops whose results depend on their position (a causal mask) report their
    dimensions as `Flows` when a chunk only needs that position passed in:
    `graph.causal_mask` has `row_offset` and `col_offset` operands for that,
    which the chunk rewrite sets from the loop's induction variable; its
    index operands are never sliced.

    The flow speaks of values, not attributes: an op rebuilt for a chunk
    still has to restate extents its attributes or result type name (the
    limits of a `graph.slice` along a dimension it takes whole, the result
    type of a `graph.reshape` or `graph.broadcast`, the value of a
    `graph.constant`).

    An op that does not implement the interface, or whose implementation
    returns failure (an op too malformed to describe), is a barrier: a chunk
    region stops at it, and nothing is an error. Graph ops and upstream
    `linalg` ops get the interface as external models
    (`autochunk::graph::registerDimensionFlowExternalModels`,
    `autochunk::registerLinalgDimensionFlowExternalModels`), so a context
    without those registrations sees every op as a barrier.
  }];

  let methods = [
    InterfaceMethod<[{
        Returns how each result dimension derives from the operand
        dimensions and which operand dimensions are reduced, or failure
        when the op cannot say (an op that did not verify). Callers use
        `autochunk::getDimensionFlow(op)`, which also checks the answer
        against the op's types.
      }],
      "::mlir::FailureOr<::autochunk::DimensionFlow>", "computeDimensionFlow",
      (ins)>,
  ];
}

#endif // AUTOCHUNK_DIMENSION_FLOW_OP_INTERFACE_TD
