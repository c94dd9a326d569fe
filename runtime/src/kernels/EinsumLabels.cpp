//===- EinsumLabels.cpp - einsum equations, shared by CPU and CUDA --------===//

#include "EinsumLabels.h"

#include "TensorChecks.h"

#include <algorithm>
#include <cstring>

namespace autochunk::runtime {

namespace {

const char *const kKernel = "ac_einsum";

ac_status parseEquation(const char *equation, int numInputs,
                        EinsumSubscript *inputs, EinsumSubscript *output) {
  const char *arrow = std::strstr(equation, "->");
  if (!arrow)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: equation \"%s\" needs an explicit \"->\"", kKernel,
                        equation);
  int operand = 0;
  EinsumSubscript *current = &inputs[0];
  bool inOutput = false;
  for (const char *cursor = equation; *cursor; ++cursor) {
    char c = *cursor;
    if (c == ' ')
      continue;
    if (cursor == arrow) {
      if (operand + 1 != numInputs)
        return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                            "%s: equation \"%s\" has %d operand subscripts "
                            "but %d inputs were given",
                            kKernel, equation, operand + 1, numInputs);
      current = output;
      inOutput = true;
      ++cursor; // skip '>'
      continue;
    }
    if (c == ',' && !inOutput) {
      if (++operand >= numInputs)
        return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                            "%s: equation \"%s\" has more operand subscripts "
                            "than the %d inputs given",
                            kKernel, equation, numInputs);
      current = &inputs[operand];
      continue;
    }
    if (c < 'a' || c > 'z')
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: equation \"%s\" has '%c'; labels are a-z, "
                          "operands separated by ',' and the result after "
                          "\"->\"",
                          kKernel, equation, c);
    if (current->has(c - 'a'))
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: equation \"%s\" repeats label '%c' within one "
                          "subscript list",
                          kKernel, equation, c);
    if (current->rank == AC_MAX_RANK)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: equation \"%s\" has a subscript list longer "
                          "than %d",
                          kKernel, equation, AC_MAX_RANK);
    current->labels[current->rank++] = c - 'a';
  }
  return AC_OK;
}

} // namespace

ac_status checkEinsumEquation(const char *equation,
                              const ac_tensor *const *operands, int numOperands,
                              const ac_tensor *out, EinsumSubscript *subscripts,
                              EinsumSubscript *output) {
  if (ac_status status =
          parseEquation(equation, numOperands, subscripts, output))
    return status;
  int64_t labelSize[kNumEinsumLabels];
  std::fill(labelSize, labelSize + kNumEinsumLabels, int64_t{-1});
  for (int i = 0; i < numOperands; ++i) {
    const ac_tensor *input = operands[i];
    if (subscripts[i].rank != input->rank)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: \"%s\" gives input %d %d labels but it is %s",
                          kKernel, equation, i, subscripts[i].rank,
                          describe(input).text);
    for (int dim = 0; dim < input->rank; ++dim) {
      int label = subscripts[i].labels[dim];
      if (labelSize[label] >= 0 && labelSize[label] != input->sizes[dim])
        return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                            "%s: \"%s\": label '%c' is %lld in input %d %s "
                            "but %lld before",
                            kKernel, equation, 'a' + label,
                            static_cast<long long>(input->sizes[dim]), i,
                            describe(input).text,
                            static_cast<long long>(labelSize[label]));
      labelSize[label] = input->sizes[dim];
    }
  }
  if (output->rank != out->rank)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: \"%s\" gives the output %d labels but it is %s",
                        kKernel, equation, output->rank, describe(out).text);
  for (int dim = 0; dim < out->rank; ++dim) {
    int label = output->labels[dim];
    if (labelSize[label] < 0)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: \"%s\": output label '%c' is in no input",
                          kKernel, equation, 'a' + label);
    if (labelSize[label] != out->sizes[dim])
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: \"%s\": label '%c' is %lld in the inputs but "
                          "output %s has %lld",
                          kKernel, equation, 'a' + label,
                          static_cast<long long>(labelSize[label]),
                          describe(out).text,
                          static_cast<long long>(out->sizes[dim]));
  }
  return AC_OK;
}

ac_tensor einsumPermutedView(const ac_tensor *tensor,
                             const EinsumSubscript &subscript,
                             const int *labels, int count) {
  ac_tensor view = *tensor;
  view.rank = count;
  for (int dim = 0; dim < count; ++dim) {
    int source = subscript.find(labels[dim]);
    view.sizes[dim] = tensor->sizes[source];
    view.strides[dim] = tensor->strides[source];
  }
  return view;
}

int einsumPrivateLabels(const EinsumSubscript &subscript,
                        const EinsumSubscript &other,
                        const EinsumSubscript &output, EinsumSubscript *kept,
                        int *order) {
  *kept = EinsumSubscript();
  for (int dim = 0; dim < subscript.rank; ++dim) {
    int label = subscript.labels[dim];
    if (other.has(label) || output.has(label))
      kept->labels[kept->rank++] = label;
  }
  int numSummed = 0;
  for (int dim = 0; dim < kept->rank; ++dim)
    order[dim] = kept->labels[dim];
  for (int dim = 0; dim < subscript.rank; ++dim) {
    int label = subscript.labels[dim];
    if (!kept->has(label))
      order[kept->rank + numSummed++] = label;
  }
  return numSummed;
}

int einsumSingleOperandOrder(const EinsumSubscript &input,
                             const EinsumSubscript &output, int *order) {
  int numSummed = 0;
  for (int dim = 0; dim < output.rank; ++dim)
    order[dim] = output.labels[dim];
  for (int dim = 0; dim < input.rank; ++dim)
    if (!output.has(input.labels[dim]))
      order[output.rank + numSummed++] = input.labels[dim];
  return numSummed;
}

EinsumContraction einsumContraction(const EinsumSubscript &lhs,
                                    const EinsumSubscript &rhs,
                                    const EinsumSubscript &output) {
  int batch[AC_MAX_RANK], rows[AC_MAX_RANK], cols[AC_MAX_RANK],
      contracted[AC_MAX_RANK];
  EinsumContraction result;
  for (int dim = 0; dim < output.rank; ++dim) {
    int label = output.labels[dim];
    bool inLhs = lhs.has(label), inRhs = rhs.has(label);
    if (inLhs && inRhs)
      batch[result.numBatch++] = label;
    else if (inLhs)
      rows[result.numRows++] = label;
    else
      cols[result.numCols++] = label;
  }
  for (int dim = 0; dim < lhs.rank; ++dim)
    if (!output.has(lhs.labels[dim]))
      contracted[result.numContracted++] = lhs.labels[dim];
  auto append = [](int *order, int &count, const int *labels, int n) {
    for (int i = 0; i < n; ++i)
      order[count++] = labels[i];
  };
  append(result.lhsOrder, result.lhsRank, batch, result.numBatch);
  append(result.lhsOrder, result.lhsRank, rows, result.numRows);
  append(result.lhsOrder, result.lhsRank, contracted, result.numContracted);
  append(result.rhsOrder, result.rhsRank, batch, result.numBatch);
  append(result.rhsOrder, result.rhsRank, contracted, result.numContracted);
  append(result.rhsOrder, result.rhsRank, cols, result.numCols);
  append(result.outOrder, result.outRank, batch, result.numBatch);
  append(result.outOrder, result.outRank, rows, result.numRows);
  append(result.outOrder, result.outRank, cols, result.numCols);
  return result;
}

} // namespace autochunk::runtime
