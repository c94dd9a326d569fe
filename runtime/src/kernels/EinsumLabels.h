//===- EinsumLabels.h - einsum equations, shared by CPU and CUDA -*- C++
//-*-===//
//
// What the CPU and the CUDA einsum kernels share: parsing the equation,
// checking the operands' shapes against it, and the label orders a
// contraction or a one-operand einsum works in. Compiled into both
// runtimes, so their messages and their orders of summation are one.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_RUNTIME_KERNELS_EINSUMLABELS_H
#define AUTOCHUNK_RUNTIME_KERNELS_EINSUMLABELS_H

#include "autochunk/runtime/tensor.h"

namespace autochunk::runtime {

// Labels 0..25 for 'a'..'z'.
constexpr int kNumEinsumLabels = 26;

// One operand's (or the result's) labels, in dimension order.
struct EinsumSubscript {
  int rank = 0;
  int labels[AC_MAX_RANK];
  int find(int label) const {
    for (int dim = 0; dim < rank; ++dim)
      if (labels[dim] == label)
        return dim;
    return -1;
  }
  bool has(int label) const { return find(label) >= 0; }
};

// Checks the einsum call once each operand passed checkInput: the equation
// parses (explicit "->", letters, no repeats within a subscript list, one
// list per operand) and every label has one size across the operands and
// the output. Fills `subscripts` (one per operand) and `output`.
ac_status checkEinsumEquation(const char *equation,
                              const ac_tensor *const *operands, int numOperands,
                              const ac_tensor *out, EinsumSubscript *subscripts,
                              EinsumSubscript *output);

// A view of `tensor` (labelled by `subscript`) whose dimensions are, in
// order, those of `labels`.
ac_tensor einsumPermutedView(const ac_tensor *tensor,
                             const EinsumSubscript &subscript,
                             const int *labels, int count);

// The labels of `subscript` that `other` or `output` has (into `kept`), and
// in `order` those followed by the others, which a contraction sums first;
// returns how many those are.
int einsumPrivateLabels(const EinsumSubscript &subscript,
                        const EinsumSubscript &other,
                        const EinsumSubscript &output, EinsumSubscript *kept,
                        int *order);

// The one-operand einsum's order: the output's labels, then the summed
// ones; returns how many are summed.
int einsumSingleOperandOrder(const EinsumSubscript &input,
                             const EinsumSubscript &output, int *order);

// A contraction of two operands as a batched GEMM: batch labels (in both
// operands and the output), rows (lhs only), columns (rhs only) and
// contracted labels (not in the output), and each operand's labels in the
// order [batch, rows, contracted], [batch, contracted, cols] and
// [batch, rows, cols].
struct EinsumContraction {
  int numBatch = 0, numRows = 0, numCols = 0, numContracted = 0;
  int lhsOrder[AC_MAX_RANK], rhsOrder[AC_MAX_RANK], outOrder[AC_MAX_RANK];
  int lhsRank = 0, rhsRank = 0, outRank = 0;
};
EinsumContraction einsumContraction(const EinsumSubscript &lhs,
                                    const EinsumSubscript &rhs,
                                    const EinsumSubscript &output);

} // namespace autochunk::runtime

#endif // AUTOCHUNK_RUNTIME_KERNELS_EINSUMLABELS_H
