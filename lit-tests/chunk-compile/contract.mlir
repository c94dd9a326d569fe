// A phase whose result breaks its contract fails loudly, naming the op.
// RUN: not chunk-compile %s --compile-to=graph -o %t.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t.mlir
// CHECK: contract.mlir:[[@LINE+5]]:8: error: contract of phase 'graph' broken: only graph ops, func ops and chunk loops may appear
func.func @f(%x: tensor<4xf32> {graph.name = "x", graph.role = "input"})
    -> (tensor<4xf32> {graph.name = "y"}) {
  // arith is a dialect the pipeline knows, but a graph holds graph ops only;
  // canonicalization cannot remove this use.
  %c = arith.constant dense<2.0> : tensor<4xf32>
  %0 = graph.mul %x, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
