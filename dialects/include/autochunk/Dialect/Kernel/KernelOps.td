//===- KernelOps.td - runtime kernel calls ------------------*- tablegen -*-===//
//
// The `kernel` dialect: one op, a call of a runtime kernel in destination-
// passing style, that works on tensors (before bufferization) and on memrefs
// (after it). It is the bridge between graph ops and the runtime's C ABI.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_KERNEL_OPS_TD
#define AUTOCHUNK_KERNEL_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kernel_Dialect : Dialect {
  let name = "kernel";
  let cppNamespace = "::autochunk::kernel";
  let summary = "Runtime kernel calls in destination-passing style";
  let description = [{
    Graph ops are lowered to `kernel.call` ops before bufferization. A call
    names a runtime kernel, reads its `ins` and writes its `outs`
    (destination-passing style, like linalg), and carries the kernel's
    parameters as attributes. On tensors it returns one result per output,
    tied to it; upstream one-shot bufferization turns it into a call on
    memrefs with no results, deciding which outputs can reuse a dying input's
    buffer in place. After bufferization a call lowers to a C call into the
    runtime.
  }];
}

def Kernel_CallOp : Op<Kernel_Dialect, "call", [
    AttrSizedOperandSegments,
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "bufferize",
         "bufferizesToElementwiseAccess"]>]> {
  let summary = "Calls a runtime kernel on inputs, writing its outputs";
  let description = [{
    `kernel` names the runtime kernel (the graph op's name, such as
    `"matmul"` or `"softmax"`, or a data-movement kernel such as `"copy"`);
    `params` holds its parameters (axes, permutations, epsilon, equation).
    `ins` may hold tensors, memrefs and `index` scalars (the causal mask's
    offsets); `outs` hold tensors or memrefs. A kernel that may run in place
    (`in_place_operand = i`) reads input `i` and writes the output element
    by element at the same index, so the output may share input `i`'s buffer.

    ```mlir
    %e = tensor.empty() : tensor<4x8xf32>
    %r = kernel.call "softmax" ins(%x : tensor<4x8xf32>)
         outs(%e : tensor<4x8xf32>) {params = {axis = 1 : i64}} -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins StrAttr:$kernel, Variadic<AnyType>:$inputs,
                       Variadic<AnyShaped>:$outputs,
                       DefaultValuedAttr<DictionaryAttr, "{}">:$params);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $kernel (`ins` `(` $inputs^ `:` type($inputs) `)`)?
    `outs` `(` $outputs `:` type($outputs) `)` attr-dict
    (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getOutputsMutable();
    }
  }];
  let hasVerifier = 1;
}

#endif // AUTOCHUNK_KERNEL_OPS_TD
