// RUN: chunk-opt %s | FileCheck %s
// CHECK-LABEL: func.func @smoke
// CHECK: graph.relu
func.func @smoke(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
