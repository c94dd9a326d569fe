//===- GraphOps.td - ops of the AutoChunk graph dialect ----*- tablegen -*-===//
//
// The ops a transformer, ViT or Evoformer inference graph is made of.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_GRAPH_OPS_TD
#define AUTOCHUNK_GRAPH_OPS_TD

include "autochunk/Dialect/Graph/GraphDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Graph_ConstantOp : Graph_Op<"constant",
    [ConstantLike, Pure, InferTypeOpAdaptor]> {
  let summary = "A tensor constant";
  let description = [{
    A constant tensor given by a dense elements attribute whose type is the
    result type.

    ```mlir
    %0 = graph.constant dense<0.0> : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

class Graph_UnaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : Graph_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType])> {
  let summary = "Elementwise " # formula;
  let description = "Computes `" # formula # "` for every element of the "
                    "input. The result has the input's type.";
  let arguments = (ins Graph_Tensor:$input);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Graph_ExpOp : Graph_UnaryOp<"exp", "exp(x)">;
def Graph_SqrtOp : Graph_UnaryOp<"sqrt", "sqrt(x)">;
def Graph_RsqrtOp : Graph_UnaryOp<"rsqrt", "1 / sqrt(x)">;
def Graph_NegOp : Graph_UnaryOp<"neg", "-x"> { let hasFolder = 1; }
def Graph_ReluOp : Graph_UnaryOp<"relu", "max(x, 0)">;
def Graph_SigmoidOp : Graph_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Graph_SiluOp : Graph_UnaryOp<"silu", "x * sigmoid(x)">;
def Graph_TanhOp : Graph_UnaryOp<"tanh", "tanh(x)">;

def Graph_GeluOp : Graph_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise GELU";
  let description = [{
    `x * Phi(x)` with the exact normal CDF (`approximate = "none"`, the
    default, as in ViT) or its tanh approximation (`approximate = "tanh"`,
    as in GPT-2: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`).
  }];
  let arguments = (ins Graph_Tensor:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Graph_ScaleOp : Graph_Op<"scale", [Pure, SameOperandsAndResultType]> {
  let summary = "Multiplies every element by a constant factor";
  let description = [{
    `x * factor` for a compile-time `factor`; attention's `1/sqrt(d)` and the
    outer product mean's `1/N_seq` are scales.

    ```mlir
    %0 = graph.scale %x {factor = 0.125 : f64} : tensor<8x64xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$input, F64Attr:$factor);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops with broadcasting
//===----------------------------------------------------------------------===//

class Graph_BinaryOp<string mnemonic, string formula>
    : Graph_Op<mnemonic, [Pure, InferTypeOpAdaptor]> {
  let summary = "Elementwise " # formula # " with broadcasting";
  let description = "Computes `" # formula # "` elementwise after "
    "broadcasting both operands numpy-style to a common shape (trailing "
    "dimensions aligned; a dimension of size 1 stretches). Both operands "
    "have the same element type.";
  let arguments = (ins Graph_Tensor:$lhs, Graph_Tensor:$rhs);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Graph_AddOp : Graph_BinaryOp<"add", "lhs + rhs">;
def Graph_SubOp : Graph_BinaryOp<"sub", "lhs - rhs">;
def Graph_MulOp : Graph_BinaryOp<"mul", "lhs * rhs">;
def Graph_DivOp : Graph_BinaryOp<"div", "lhs / rhs">;

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def Graph_MatmulOp : Graph_Op<"matmul", [Pure, InferTypeOpAdaptor]> {
  let summary = "Batched matrix product with broadcasting batch dimensions";
  let description = [{
    Multiplies the matrices in the last two dimensions of each operand; the
    leading (batch) dimensions broadcast numpy-style. With `transpose_a` the
    last two dimensions of `lhs` are read as `[K, M]` instead of `[M, K]`,
    with `transpose_b` those of `rhs` as `[N, K]` instead of `[K, N]`, so
    attention's `Q K^T` needs no separate transpose.

    ```mlir
    %s = graph.matmul %q, %k {transpose_b} :
        (tensor<12x128x64xf32>, tensor<12x128x64xf32>) -> tensor<12x128x128xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$lhs, Graph_Tensor:$rhs,
                       UnitAttr:$transpose_a, UnitAttr:$transpose_b);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Graph_EinsumOp : Graph_Op<"einsum", [Pure, InferTypeOpAdaptor]> {
  let summary = "Einstein summation over one or two operands";
  let description = [{
    `equation` is an explicit einsum equation over lowercase letters, one
    subscript list per operand and one for the result, such as
    `"sic,sjd->ijcd"` (outer product mean) or `"ikc,jkc->ijc"` (triangle
    multiplication, outgoing). Labels missing from the result are summed
    over. No label repeats within one subscript list and every label of an
    operand has the same size wherever it appears.

    ```mlir
    %o = graph.einsum "ikc,jkc->ijc" %a, %b :
        (tensor<64x64x128xf32>, tensor<64x64x128xf32>) -> tensor<64x64x128xf32>
    ```
  }];
  let arguments = (ins StrAttr:$equation, Variadic<Graph_Tensor>:$inputs);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat =
      "$equation $inputs attr-dict `:` functional-type($inputs, results)";
}

def Graph_LinearOp : Graph_Op<"linear", [Pure, InferTypeOpAdaptor]> {
  let summary = "Affine map of the last dimension: x W^T + b";
  let description = [{
    `input` is `[..., in]`, `weight` is `[out, in]` (PyTorch's layout) and the
    optional `bias` is `[out]`; the result is `[..., out]`.

    ```mlir
    %y = graph.linear %x, %w, %b :
        (tensor<128x768xf32>, tensor<2304x768xf32>, tensor<2304xf32>) -> tensor<128x2304xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$input, Graph_Tensor:$weight,
                       Optional<Graph_Tensor>:$bias);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Normalization and reductions
//===----------------------------------------------------------------------===//

def Graph_SoftmaxOp : Graph_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "Softmax along one axis";
  let description = [{
    `exp(x - max(x)) / sum(exp(x - max(x)))` along `axis` (in `[0, rank)`).
    A row whose entries are all `-inf` is undefined, as in PyTorch.
  }];
  let arguments = (ins Graph_Tensor:$input, I64Attr:$axis);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Graph_LayerNormOp : Graph_Op<"layer_norm", [Pure, InferTypeOpAdaptor]> {
  let summary = "Layer normalization over the trailing dimensions";
  let description = [{
    Normalizes `input` over the dimensions `[axis, rank)` to zero mean and
    unit (biased) variance, with `epsilon` added to the variance, then
    multiplies by `weight` and adds `bias`, both shaped like those trailing
    dimensions (PyTorch's `LayerNorm(normalized_shape)`).

    ```mlir
    %y = graph.layer_norm %x, %w, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} :
        (tensor<128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<128x768xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$input, Graph_Tensor:$weight,
                       Graph_Tensor:$bias, I64Attr:$axis,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat = "$input `,` $weight `,` $bias attr-dict `:` "
                       "functional-type(operands, results)";
}

class Graph_ReduceOp<string mnemonic, string what>
    : Graph_Op<mnemonic, [Pure, InferTypeOpAdaptor]> {
  let summary = "The " # what # " over the given axes";
  let description = "Reduces `input` to its " # what # " over `axes` (a "
    "non-empty, strictly increasing list in `[0, rank)`). With `keep_dims` "
    "the reduced dimensions stay with size 1; without it they are removed.";
  let arguments = (ins Graph_Tensor:$input, DenseI64ArrayAttr:$axes,
                       UnitAttr:$keep_dims);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
}

def Graph_ReduceSumOp : Graph_ReduceOp<"reduce_sum", "sum">;
def Graph_ReduceMeanOp : Graph_ReduceOp<"reduce_mean", "mean">;
def Graph_ReduceMaxOp : Graph_ReduceOp<"reduce_max", "maximum">;

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Graph_TransposeOp : Graph_Op<"transpose", [Pure, InferTypeOpAdaptor]> {
  let summary = "Permutes the dimensions";
  let description = [{
    Result dimension `i` is input dimension `permutation[i]` (numpy's and
    PyTorch's `permute`). A transpose of a transpose folds into one; the
    identity permutation folds away.
  }];
  let arguments = (ins Graph_Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Graph_ReshapeOp : Graph_Op<"reshape", [Pure]> {
  let summary = "Reinterprets the elements in row-major order with a new shape";
  let description = [{
    The result type is given; it has the input's element type and element
    count. A reshape of a reshape folds into one; a reshape to the input's
    own type folds away.
  }];
  let arguments = (ins Graph_Tensor:$input);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Graph_BroadcastOp : Graph_Op<"broadcast", [Pure]> {
  let summary = "Broadcasts numpy-style to the result shape";
  let description = [{
    The result type is given; the input broadcasts to it by numpy's rules
    (the input's rank is at most the result's; each input dimension, aligned
    from the right, is 1 or equal to the result's).
  }];
  let arguments = (ins Graph_Tensor:$input);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Graph_SliceOp : Graph_Op<"slice", [Pure, InferTypeOpAdaptor]> {
  let summary = "A strided box of the input";
  let description = [{
    Takes, in each dimension `d`, the indices `starts[d], starts[d] +
    strides[d], ...` below `limits[d]`; `strides` defaults to all ones. Each
    start lies in `[0, size)`, each limit in `(start, size]`, each stride is
    positive. A slice of the whole input folds away.

    ```mlir
    %q = graph.slice %qkv {starts = array<i64: 0, 0>, limits = array<i64: 128, 768>} :
        (tensor<128x2304xf32>) -> tensor<128x768xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$limits,
                       OptionalAttr<DenseI64ArrayAttr>:$strides);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Graph_ConcatOp : Graph_Op<"concat", [Pure, InferTypeOpAdaptor]> {
  let summary = "Joins tensors along one axis";
  let description = [{
    All inputs have the same rank and the same sizes in every dimension but
    `axis`; the result's `axis` size is their sum. A concat of one input
    folds away.
  }];
  let arguments = (ins Variadic<Graph_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat =
      "$inputs attr-dict `:` functional-type($inputs, results)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Masking
//===----------------------------------------------------------------------===//

def Graph_CausalMaskOp : Graph_Op<"causal_mask",
    [Pure, AllTypesMatch<["input", "result"]>, AttrSizedOperandSegments]> {
  let summary = "Sets attention logits above the causal diagonal to -inf";
  let description = [{
    Over the last two dimensions `[..., i, j]` of `input` (queries by keys),
    the result is `-inf` where `j + col_offset > i + row_offset + diagonal`
    and the input elsewhere. The optional `index` operands `row_offset` and
    `col_offset` (0 when absent) say where a slice of the logits starts in
    the full matrix: a chunk loop over queries or keys passes its induction
    variable, so the mask of a chunk is the full mask's slice.

    ```mlir
    %m = graph.causal_mask %s : tensor<12x128x128xf32>
    %c = graph.causal_mask %chunk row_offset(%iv) : tensor<12x32x128xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$input, Optional<Index>:$row_offset,
                       Optional<Index>:$col_offset,
                       DefaultValuedAttr<I64Attr, "0">:$diagonal);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat = [{
    $input (`row_offset` `(` $row_offset^ `)`)? (`col_offset` `(` $col_offset^ `)`)?
    attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fused attention
//===----------------------------------------------------------------------===//

def Graph_AttentionOp : Graph_Op<"attention",
    [Pure, InferTypeOpAdaptor, AttrSizedOperandSegments]> {
  let summary = "Scaled dot-product attention that never stores its logits";
  let description = [{
    Over the last two dimensions, with `b` standing for the leading (batch)
    dimensions that `query [..., M, D]`, `key [..., N, D]` and
    `value [..., N, E]` share exactly:

    ```
    t[b, i, j] = scale * sum_d query[b, i, d] key[b, j, d]
                 (-inf where causal and j > i + row_offset + diagonal)
                 + bias[b, i, j]
    result[b, i, :] = sum_j softmax_j(t[b, i, :]) value[b, j, :]
    ```

    The optional `bias` broadcasts numpy-style to `[..., M, N]` (a pair bias
    `[heads, M, N]` under `[batch, heads, M, N]` logits). The optional index
    operand `row_offset` (0 when absent; only with `causal`) says where the
    first query row sits in the full sequence: a chunk loop over queries
    passes its induction variable, so a chunk's mask is the full mask's
    slice. The result is `[..., M, E]`.

    `autochunk-fuse-attention` forms it from `matmul(softmax(...), value)`
    chains, so AutoChunk plans memory without the `[..., M, N]` logits; the
    runtime computes it with online softmax (`ac_attention`). A row whose
    keys are all masked is undefined, as in PyTorch.

    ```mlir
    %o = graph.attention %q, %k, %v {causal, scale = 0.125 : f64} :
        tensor<12x128x64xf32>, tensor<12x128x64xf32>, tensor<12x128x64xf32>
        -> tensor<12x128x64xf32>
    %p = graph.attention %q, %k, %v bias(%b : tensor<8x64x64xf32>)
        {scale = 1.0 : f64} : tensor<4x8x64x32xf32>, tensor<4x8x64x32xf32>,
        tensor<4x8x64x32xf32> -> tensor<4x8x64x32xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$query, Graph_Tensor:$key,
                       Graph_Tensor:$value, Optional<Graph_Tensor>:$bias,
                       Optional<Index>:$row_offset, F64Attr:$scale,
                       UnitAttr:$causal,
                       DefaultValuedAttr<I64Attr, "0">:$diagonal);
  let results = (outs Graph_Tensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`row_offset` `(` $row_offset^ `)`)? attr-dict `:` type($query) `,`
    type($key) `,` type($value) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // AUTOCHUNK_GRAPH_OPS_TD
